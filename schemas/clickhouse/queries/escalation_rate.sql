-- Escalation rate per tenant and agent: the share of completed workcycles
-- whose outcome handed the case to a human.
SELECT
    tenant_id,
    agent_id,
    countIf(outcome != '')                                          AS completed,
    countIf(outcome = 'escalated')                                  AS escalated,
    round(escalated / completed, 4)                                 AS escalation_rate
FROM {{db}}.workcycles FINAL
GROUP BY tenant_id, agent_id
HAVING completed > 0
ORDER BY tenant_id, agent_id;
