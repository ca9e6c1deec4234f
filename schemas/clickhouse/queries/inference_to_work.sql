-- Inference-to-work ratio per tenant and agent: tokens (input + output) and
-- token cost per succeeded AWU.
SELECT
    tenant_id,
    agent_id,
    countIf(status = 'succeeded')                                       AS awus_succeeded,
    sum(input_tokens + output_tokens)                                   AS tokens,
    round(tokens / awus_succeeded, 2)                                   AS tokens_per_succeeded_awu,
    sum(token_cost) / awus_succeeded                                    AS token_cost_per_succeeded_awu
FROM {{db}}.awus FINAL
GROUP BY tenant_id, agent_id
HAVING awus_succeeded > 0
ORDER BY tenant_id, agent_id;
