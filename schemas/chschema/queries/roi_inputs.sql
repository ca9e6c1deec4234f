-- The ROI model's measured inputs per month and tenant: workcycles resolved by the agent alone, human time on the others, cost.
-- Completed workcycles (closed, with an outcome) by the UTC month they
-- started. One resolved without a human (outcome resolved, resolved_by not
-- human) counts for the resolution rate R; the others were escalated, and
-- escalated_timed of them say how much human time they took
-- (escalated_human_millis, milliseconds), from which awumeter roi --month
-- derives the time saved S. Costs are the sums of the workcycles' list
-- price and token cost, USD.
-- The filters apply outside FINAL, so an older version in another month never counts.
SELECT
    toStartOfMonth(started_at)                                                         AS month,
    tenant_id,
    count()                                                                            AS completed,
    countIf(outcome = 'resolved' AND resolved_by != 'human')                           AS resolved_by_agent,
    countIf(NOT (outcome = 'resolved' AND resolved_by != 'human') AND human_millis > 0) AS escalated_timed,
    sumIf(human_millis, NOT (outcome = 'resolved' AND resolved_by != 'human'))         AS escalated_human_millis,
    sum(list_cost)                                                                     AS list_cost,
    sum(token_cost)                                                                    AS token_cost
FROM (SELECT * FROM workcycles FINAL)
WHERE state = 'closed' AND outcome != '' /* filters: month = toStartOfMonth(started_at), tenant = tenant_id */
GROUP BY month, tenant_id
ORDER BY month, tenant_id;
