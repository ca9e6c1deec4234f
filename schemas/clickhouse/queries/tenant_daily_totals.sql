-- Daily totals per tenant, from the usage_daily rollup (UTC days, an AWU on
-- the day of its first event).
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
FROM {{db}}.usage_daily
GROUP BY day, tenant_id
ORDER BY day, tenant_id;
