-- Inference-to-work ratio per tenant and agent: tokens (input + output) and
-- token cost per succeeded AWU. Token counts are summed in Decimal(38, 0)
-- and converted back to Int64, which fails rather than wraps.
SELECT
    tenant_id,
    agent_id,
    countIf(status = 'succeeded')                                       AS awus_succeeded,
    toInt64(sum(toDecimal128(input_tokens, 0) + toDecimal128(output_tokens, 0))) AS tokens,
    round(toFloat64(tokens) / awus_succeeded, 2)                        AS tokens_per_succeeded_awu,
    sum(token_cost) / awus_succeeded                                    AS token_cost_per_succeeded_awu
FROM {{db}}.awus FINAL
GROUP BY tenant_id, agent_id
HAVING awus_succeeded > 0
ORDER BY tenant_id, agent_id;
