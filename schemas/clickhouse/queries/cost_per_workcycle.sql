-- Cost per workcycle by tenant, agent and outcome: what the list price
-- charges (credits at $0.005) next to what the tokens cost.
SELECT
    tenant_id,
    agent_id,
    outcome,
    count()                            AS workcycles,
    sum(list_cost)                     AS list_cost,
    sum(token_cost)                    AS token_cost,
    list_cost / workcycles             AS list_cost_per_workcycle,
    token_cost / workcycles            AS token_cost_per_workcycle,
    list_cost - token_cost             AS margin
FROM {{db}}.workcycles FINAL
GROUP BY tenant_id, agent_id, outcome
ORDER BY tenant_id, agent_id, outcome;
