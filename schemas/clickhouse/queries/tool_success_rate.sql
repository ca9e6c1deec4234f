-- Success rate per tool: the share of tool AWUs that succeeded in the end,
-- and the share of individual attempts that did (retries included).
-- Attempts are summed in Decimal(38, 0) and converted back to Int64, which
-- fails the query rather than wrap as sum(Int64) would.
SELECT
    tenant_id,
    tool,
    count()                                                AS awus,
    countIf(status = 'succeeded')                          AS awus_succeeded,
    round(awus_succeeded / awus, 4)                        AS success_rate,
    toInt64(sum(toDecimal128(attempts, 0)))                AS attempts,
    round(awus_succeeded / toFloat64(attempts), 4)         AS attempt_success_rate
FROM {{db}}.awus FINAL
WHERE kind = 'tool'
GROUP BY tenant_id, tool
ORDER BY success_rate, tenant_id, tool;
