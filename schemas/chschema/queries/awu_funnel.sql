-- AWUs attempted vs succeeded vs validated vs rolled back, per month, tenant and agent.
-- From the usage_monthly rollup (UTC months, an AWU in the month of its first
-- event). Every AWU was attempted at least once; attempts counts retries too.
SELECT
    month,
    tenant_id,
    agent_id,
    sum(awus)                        AS awus_attempted,
    sum(awus_succeeded)              AS awus_succeeded,
    sum(awus_validated)              AS awus_validated,
    sum(awus_rolled_back)            AS awus_rolled_back,
    sum(awus_failed)                 AS awus_failed,
    toInt64(sum(toDecimal128(attempts, 0))) AS attempts
FROM usage_monthly
WHERE 1 /* filters: month = month, tenant = tenant_id */
GROUP BY month, tenant_id, agent_id
ORDER BY month, tenant_id, agent_id;
