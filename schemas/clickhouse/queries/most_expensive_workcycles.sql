-- The ten most expensive workcycles by token cost, with their list price.
-- Tokens are added in Decimal(38, 0) and converted back to Int64, which
-- fails rather than wraps.
SELECT
    tenant_id,
    workcycle_id,
    agent_id,
    outcome,
    toDateTime(started_at)           AS started_at,
    awus,
    attempts,
    toInt64(toDecimal128(input_tokens, 0) + toDecimal128(output_tokens, 0)) AS tokens,
    token_cost,
    list_cost
FROM {{db}}.workcycles FINAL
ORDER BY token_cost DESC, list_cost DESC, tenant_id, workcycle_id
LIMIT 10;
