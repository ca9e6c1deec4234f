-- Inference-to-work ratio per month, tenant and agent: tokens and token cost per succeeded AWU.
-- From the usage_monthly rollup (UTC months, an AWU in the month of its first
-- event). Tokens are input + output, summed in Decimal(38, 0) and converted
-- back to Int64, which fails rather than wraps.
SELECT
    month,
    tenant_id,
    agent_id,
    sum(awus_succeeded)                                                 AS awus_succeeded,
    toInt64(sum(toDecimal128(input_tokens, 0) + toDecimal128(output_tokens, 0))) AS tokens,
    round(toFloat64(tokens) / awus_succeeded, 2)                        AS tokens_per_succeeded_awu,
    sum(token_cost) / awus_succeeded                                    AS token_cost_per_succeeded_awu
FROM usage_monthly
WHERE 1 /* filters: month = month, tenant = tenant_id */
GROUP BY month, tenant_id, agent_id
HAVING awus_succeeded > 0
ORDER BY month, tenant_id, agent_id;
