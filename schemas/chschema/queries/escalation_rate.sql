-- Escalation rate per month, tenant and agent: the share of completed workcycles handed to a human.
-- A workcycle counts in the UTC month it started; one without an outcome is
-- not completed.
-- The filters apply outside FINAL, so an older version in another month never counts.
SELECT
    toStartOfMonth(started_at)                                      AS month,
    tenant_id,
    agent_id,
    countIf(outcome != '')                                          AS completed,
    countIf(outcome = 'escalated')                                  AS escalated,
    round(escalated / completed, 4)                                 AS escalation_rate
FROM (SELECT * FROM workcycles FINAL)
WHERE 1 /* filters: month = toStartOfMonth(started_at), tenant = tenant_id */
GROUP BY month, tenant_id, agent_id
HAVING completed > 0
ORDER BY month, tenant_id, agent_id;
