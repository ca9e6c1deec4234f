-- AWUs attempted vs succeeded vs validated vs rolled back, per tenant and
-- agent. Every AWU was attempted at least once; attempts counts retries too.
SELECT
    tenant_id,
    agent_id,
    count()                          AS awus_attempted,
    countIf(status = 'succeeded')    AS awus_succeeded,
    sum(validated)                   AS awus_validated,
    sum(rolled_back)                 AS awus_rolled_back,
    countIf(status = 'failed')       AS awus_failed,
    toInt64(sum(toDecimal128(attempts, 0))) AS attempts
FROM {{db}}.awus FINAL
GROUP BY tenant_id, agent_id
ORDER BY tenant_id, agent_id;
