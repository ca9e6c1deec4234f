-- Daily totals per tenant: AWUs, attempts, actions, tokens, token cost, credits and list cost.
-- From the daily rollup table, read as the usage_daily view reads it (per
-- tenant and UTC day, the snapshot with the highest slice_version), with the
-- filters inside, so that --month and --tenant read only their days; an AWU
-- counts on the day of its first event, with all its attempts (retries
-- included: attempts / awus is the day's retry inflation).
SELECT
    day,
    tenant_id,
    sum(awus)                        AS awus,
    sum(awus_succeeded)              AS awus_succeeded,
    toInt64(sum(attempts))           AS attempts,
    sum(actions)                     AS actions,
    sum(voice_actions)               AS voice_actions,
    toInt64(sum(input_tokens))       AS input_tokens,
    toInt64(sum(output_tokens))      AS output_tokens,
    sum(token_cost)                  AS token_cost,
    toInt64(sum(credits))            AS credits,
    sum(list_cost)                   AS list_cost
FROM rollup_usage_daily FINAL
WHERE slice_marker = 0 /* filters: month = toStartOfMonth(day), tenant = tenant_id */
    AND (tenant_id, day, slice_version) GLOBAL IN (
        SELECT tenant_id, day, max(slice_version)
        FROM rollup_usage_daily
        WHERE 1 /* filters: month = toStartOfMonth(day), tenant = tenant_id */
        GROUP BY tenant_id, day)
GROUP BY day, tenant_id
ORDER BY day, tenant_id;
