-- Cost per workcycle per month, tenant, agent and outcome: list price next to token cost.
-- What the list price charges (credits at $0.005) next to what the tokens
-- cost. A workcycle counts in the UTC month it started, once it is closed:
-- the provisional rows of open workcycles (state = 'open') would count a
-- part of a workcycle as a whole one.
-- The filters apply outside FINAL, so an older version in another month never counts.
SELECT
    toStartOfMonth(started_at)         AS month,
    tenant_id,
    agent_id,
    outcome,
    count()                            AS workcycles,
    sum(list_cost)                     AS list_cost,
    sum(token_cost)                    AS token_cost,
    list_cost / workcycles             AS list_cost_per_workcycle,
    token_cost / workcycles            AS token_cost_per_workcycle,
    list_cost - token_cost             AS margin
FROM (SELECT * FROM workcycles FINAL)
WHERE state = 'closed' /* filters: month = toStartOfMonth(started_at), tenant = tenant_id */
GROUP BY month, tenant_id, agent_id, outcome
ORDER BY month, tenant_id, agent_id, outcome;
