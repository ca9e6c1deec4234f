-- Outcomes per month, tenant, agent and outcome type: resolution and escalation rates, cycle time, cost and AWUs per resolution.
-- Completed workcycles (closed, with an outcome) by the UTC month they
-- started. Cycle time is from a workcycle's first event to its last, in
-- seconds (p50 and p90). Cost per resolution divides the cost of every
-- completed workcycle of the group by the resolved ones, as a cost per
-- resolved case does; AWUs per resolution likewise (its rise is AWU
-- inflation). NULL when none is resolved. Cost per validated AWU divides
-- the same cost by the AWUs whose outcome was validated (NULL when none
-- was): the price of a verified unit of work. ClickHouse evaluates both
-- branches of if(), so a Decimal is divided by greatest(n, 1), not n: a
-- group with nothing resolved or validated must read NULL, not fail. From the outcome fields of the
-- completed events: the workcycles a human resolved, the share of AWUs a
-- human rolled back (overrides), human handling time in minutes, and the
-- mean CSAT of those rated (NULL when none is). Tokens per AWU and the
-- override rate are NULL for a group whose workcycles had no AWU.
-- The filters apply outside FINAL, so an older version in another month never counts.
SELECT
    toStartOfMonth(started_at)                                      AS month,
    tenant_id,
    agent_id,
    outcome_type,
    count()                                                         AS completed,
    countIf(outcome = 'resolved')                                   AS resolved,
    round(resolved / completed, 4)                                  AS resolution_rate,
    round(countIf(outcome = 'escalated') / completed, 4)            AS escalation_rate,
    quantileExact(0.5)(dateDiff('second', started_at, ended_at))    AS cycle_time_p50_s,
    quantileExact(0.9)(dateDiff('second', started_at, ended_at))    AS cycle_time_p90_s,
    if(resolved > 0, sum(token_cost) / greatest(resolved, 1), NULL) AS token_cost_per_resolution,
    if(resolved > 0, sum(list_cost) / greatest(resolved, 1), NULL)  AS list_cost_per_resolution,
    if(resolved > 0, round(sum(awus) / resolved, 2), NULL)          AS awus_per_resolution,
    if(sum(awus_validated) > 0, sum(token_cost) / greatest(sum(awus_validated), 1), NULL) AS token_cost_per_validated_awu,
    if(sum(awus_validated) > 0, sum(list_cost) / greatest(sum(awus_validated), 1), NULL)  AS list_cost_per_validated_awu,
    if(sum(awus) > 0, round((sum(input_tokens) + sum(output_tokens)) / sum(awus), 1), NULL) AS tokens_per_awu,
    countIf(resolved_by = 'human')                                  AS resolved_by_human,
    if(sum(awus) > 0, round(sum(awus_overridden) / sum(awus), 4), NULL) AS override_rate,
    round(sum(human_millis) / 60000, 1)                             AS human_minutes,
    if(countIf(csat > 0) > 0, round(avgIf(csat, csat > 0), 2), NULL) AS csat
FROM (SELECT * FROM workcycles FINAL)
WHERE state = 'closed' AND outcome != '' /* filters: month = toStartOfMonth(started_at), tenant = tenant_id */
GROUP BY month, tenant_id, agent_id, outcome_type
ORDER BY month, tenant_id, agent_id, outcome_type;
