-- Success rate per month, tenant and tool: of the tool AWUs, and of their individual attempts.
-- From the usage_monthly rollup (UTC months, an AWU in the month of its first
-- event). success_rate is the share of tool AWUs that succeeded in the end;
-- attempt_success_rate the share of attempts that did (retries included).
-- Attempts are summed in Decimal(38, 0) and converted back to Int64, which
-- fails the query rather than wrap as sum(Int64) would.
SELECT
    month,
    tenant_id,
    tool,
    sum(awus)                                              AS awus,
    sum(awus_succeeded)                                    AS awus_succeeded,
    round(awus_succeeded / awus, 4)                        AS success_rate,
    toInt64(sum(toDecimal128(attempts, 0)))                AS attempts,
    round(awus_succeeded / toFloat64(attempts), 4)         AS attempt_success_rate
FROM usage_monthly
WHERE kind = 'tool' /* filters: month = month, tenant = tenant_id */
GROUP BY month, tenant_id, tool
ORDER BY month, success_rate, tenant_id, tool;
