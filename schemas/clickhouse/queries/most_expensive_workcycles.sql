-- The ten most expensive workcycles by token cost, with their list price.
SELECT
    tenant_id,
    workcycle_id,
    agent_id,
    outcome,
    toDateTime(started_at)           AS started_at,
    awus,
    attempts,
    input_tokens + output_tokens     AS tokens,
    token_cost,
    list_cost
FROM {{db}}.workcycles FINAL
ORDER BY token_cost DESC, list_cost DESC, tenant_id, workcycle_id
LIMIT 10;
