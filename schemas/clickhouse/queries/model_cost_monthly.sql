-- Token cost per tenant and model per month, from the model_usage_monthly
-- rollup: the split a statement's token_cost line needs.
SELECT
    month,
    tenant_id,
    model,
    sum(awus)                        AS awus,
    sum(input_tokens)                AS input_tokens,
    sum(output_tokens)               AS output_tokens,
    sum(token_cost)                  AS token_cost,
    sum(unpriced_tokens)             AS unpriced_tokens
FROM {{db}}.model_usage_monthly
GROUP BY month, tenant_id, model
ORDER BY month, tenant_id, model;
