-- Daily totals per tenant: AWUs, actions, tokens, token cost, credits and list cost.
-- From the usage_daily rollup (UTC days, an AWU on the day of its first
-- event); --month keeps the days of that month.
SELECT
    day,
    tenant_id,
    sum(awus)                        AS awus,
    sum(awus_succeeded)              AS awus_succeeded,
    sum(actions)                     AS actions,
    sum(voice_actions)               AS voice_actions,
    sum(input_tokens)                AS input_tokens,
    sum(output_tokens)               AS output_tokens,
    sum(token_cost)                  AS token_cost,
    sum(credits)                     AS credits,
    sum(list_cost)                   AS list_cost
FROM usage_daily
WHERE 1 /* filters: month = toStartOfMonth(day), tenant = tenant_id */
GROUP BY day, tenant_id
ORDER BY day, tenant_id;
