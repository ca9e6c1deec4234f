-- The ten most expensive workcycles by token cost, with their list price.
-- Open workcycles count as far as they have got (state open), so a runaway
-- one shows before it ends.
-- With --month, among the workcycles that started in that UTC month. Tokens
-- are added in Decimal(38, 0) and converted back to Int64, which fails rather
-- than wraps.
-- The filters apply outside FINAL, so an older version in another month never counts.
SELECT
    tenant_id,
    workcycle_id,
    agent_id,
    outcome,
    state,
    toDateTime(started_at)           AS started_at,
    awus,
    attempts,
    toInt64(toDecimal128(input_tokens, 0) + toDecimal128(output_tokens, 0)) AS tokens,
    token_cost,
    list_cost
FROM (SELECT * FROM workcycles FINAL)
WHERE 1 /* filters: month = toStartOfMonth(started_at), tenant = tenant_id */
ORDER BY token_cost DESC, list_cost DESC, tenant_id, workcycle_id
LIMIT 10;
