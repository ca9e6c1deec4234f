-- Monthly totals per tenant: AWUs, actions, tokens, token cost, credits and list cost.
-- From the usage_monthly rollup (UTC months, an AWU in the month of its first
-- event).
SELECT
    month,
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
FROM usage_monthly
WHERE 1 /* filters: month = month, tenant = tenant_id */
GROUP BY month, tenant_id
ORDER BY month, tenant_id;
