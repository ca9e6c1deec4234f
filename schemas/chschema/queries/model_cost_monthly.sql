-- Token cost per month, tenant and model: the split a statement's token_cost line needs.
-- From the model_usage_monthly rollup (UTC months, an AWU in the month of its
-- first event).
SELECT
    month,
    tenant_id,
    model,
    sum(awus)                        AS awus,
    sum(input_tokens)                AS input_tokens,
    sum(output_tokens)               AS output_tokens,
    sum(token_cost)                  AS token_cost,
    sum(unpriced_tokens)             AS unpriced_tokens
FROM model_usage_monthly
WHERE 1 /* filters: month = month, tenant = tenant_id */
GROUP BY month, tenant_id, model
ORDER BY month, tenant_id, model;
