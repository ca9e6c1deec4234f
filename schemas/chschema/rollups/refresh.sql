-- The refresh of the rollup tables (0009_rollup_tables.sql): four INSERT …
-- SELECT statements, run in this order after the rows they read were
-- acknowledged. The days condition selects the slices to refresh, (tenant_id,
-- day) pairs, and the months condition the (tenant_id, month) pairs they
-- fall in: all of them in the migration, the listed ones in the service. Each
-- statement writes one complete snapshot per slice: the rows of every
-- dimension value, and a marker row (slice_marker = 1) so that a slice left
-- empty still gets a snapshot with a higher slice_version.

-- usage_daily: the latest row of each AWU with an event on the day; the
-- AWUs whose first event is on the day are summed, and every AWU's version
-- counts in slice_version.
INSERT INTO {{db}}.rollup_usage_daily (day, tenant_id, slice_marker, agent_id, kind, tool, channel,
    awus, awus_succeeded, awus_failed, awus_validated, awus_rolled_back, actions, voice_actions, attempts,
    input_tokens, output_tokens, cache_read_input_tokens, cache_creation_input_tokens, reasoning_tokens,
    token_cost, credits, list_cost, unpriced_tokens, slice_version)
SELECT
    day, tenant_id, toUInt8(0), agent_id, kind, tool, channel,
    count(),
    countIf(status = 'succeeded'),
    countIf(status = 'failed'),
    sum(validated),
    sum(rolled_back),
    countIf(kind = 'tool' AND status = 'succeeded'),
    countIf(kind = 'tool' AND status = 'succeeded' AND channel = 'voice'),
    sum(toDecimal128(attempts, 0)),
    sum(toDecimal128(input_tokens, 0)),
    sum(toDecimal128(output_tokens, 0)),
    sum(toDecimal128(cache_read_input_tokens, 0)),
    sum(toDecimal128(cache_creation_input_tokens, 0)),
    sum(toDecimal128(reasoning_tokens, 0)),
    sum(token_cost),
    sum(toDecimal128(credits, 0)),
    sum(list_cost),
    sum(toDecimal128(unpriced_tokens, 0)),
    any(slice_version)
FROM (
    SELECT * FROM {{db}}.awu_days FINAL WHERE part = 'awu' AND {{days}}
) AS l ALL INNER JOIN (
{{template "day_versions" .}}
) AS r USING (tenant_id, day)
WHERE toDate(first_seen) = day
GROUP BY day, tenant_id, agent_id, kind, tool, channel
UNION ALL
SELECT day, tenant_id, toUInt8(1), '', '', '', '',
    toUInt64(0), toUInt64(0), toUInt64(0), toUInt64(0), toUInt64(0), toUInt64(0), toUInt64(0), toDecimal128(0, 0),
    toDecimal128(0, 0), toDecimal128(0, 0), toDecimal128(0, 0), toDecimal128(0, 0), toDecimal128(0, 0),
    toDecimal128(0, 12), toDecimal128(0, 0), toDecimal128(0, 12), toDecimal128(0, 0), slice_version
FROM (
{{template "day_versions" .}}
);

-- model_usage_daily: the per-model rows of the AWUs whose first event is on
-- the day. They are written with every version of their AWU, on the same
-- days, so the latest one on a day is at the AWU's latest version.
INSERT INTO {{db}}.rollup_model_usage_daily (day, tenant_id, slice_marker, agent_id, model, provider, tool,
    awus, input_tokens, output_tokens, cache_read_input_tokens, cache_creation_input_tokens, reasoning_tokens,
    token_cost, unpriced_tokens, slice_version)
SELECT
    day, tenant_id, toUInt8(0), agent_id, model, provider, tool,
    count(),
    sum(toDecimal128(input_tokens, 0)),
    sum(toDecimal128(output_tokens, 0)),
    sum(toDecimal128(cache_read_input_tokens, 0)),
    sum(toDecimal128(cache_creation_input_tokens, 0)),
    sum(toDecimal128(reasoning_tokens, 0)),
    sum(token_cost),
    sum(toDecimal128(unpriced_tokens, 0)),
    any(slice_version)
FROM (
    SELECT * FROM {{db}}.awu_days FINAL WHERE part = 'model' AND {{days}}
) AS l ALL INNER JOIN (
{{template "day_versions" .}}
) AS r USING (tenant_id, day)
WHERE toDate(first_seen) = day
GROUP BY day, tenant_id, agent_id, model, provider, tool
UNION ALL
SELECT day, tenant_id, toUInt8(1), '', '', '', '',
    toUInt64(0), toDecimal128(0, 0), toDecimal128(0, 0), toDecimal128(0, 0), toDecimal128(0, 0), toDecimal128(0, 0),
    toDecimal128(0, 12), toDecimal128(0, 0), slice_version
FROM (
{{template "day_versions" .}}
);

-- usage_monthly: the latest snapshot of every day of the month, summed.
INSERT INTO {{db}}.rollup_usage_monthly (month, tenant_id, slice_marker, agent_id, kind, tool, channel,
    awus, awus_succeeded, awus_failed, awus_validated, awus_rolled_back, actions, voice_actions, attempts,
    input_tokens, output_tokens, cache_read_input_tokens, cache_creation_input_tokens, reasoning_tokens,
    token_cost, credits, list_cost, unpriced_tokens, slice_version)
SELECT
    month, tenant_id, toUInt8(0), agent_id, kind, tool, channel,
    sum(awus), sum(awus_succeeded), sum(awus_failed), sum(awus_validated), sum(awus_rolled_back),
    sum(actions), sum(voice_actions), sum(attempts),
    sum(input_tokens), sum(output_tokens), sum(cache_read_input_tokens), sum(cache_creation_input_tokens),
    sum(reasoning_tokens), sum(token_cost), sum(credits), sum(list_cost), sum(unpriced_tokens),
    any(month_version)
FROM (
    SELECT toStartOfMonth(day) AS month, * FROM (
        SELECT * FROM {{db}}.rollup_usage_daily FINAL WHERE slice_marker = 0 AND {{months}}
    ) AS l ALL INNER JOIN (
        SELECT tenant_id, day, max(slice_version) AS slice_version
        FROM {{db}}.rollup_usage_daily WHERE {{months}} GROUP BY tenant_id, day
    ) AS r USING (tenant_id, day, slice_version)
) AS l ALL INNER JOIN (
{{template "month_versions" "rollup_usage_daily"}}
) AS r USING (tenant_id, month)
GROUP BY month, tenant_id, agent_id, kind, tool, channel
UNION ALL
SELECT month, tenant_id, toUInt8(1), '', '', '', '',
    toUInt64(0), toUInt64(0), toUInt64(0), toUInt64(0), toUInt64(0), toUInt64(0), toUInt64(0), toDecimal128(0, 0),
    toDecimal128(0, 0), toDecimal128(0, 0), toDecimal128(0, 0), toDecimal128(0, 0), toDecimal128(0, 0),
    toDecimal128(0, 12), toDecimal128(0, 0), toDecimal128(0, 12), toDecimal128(0, 0), month_version
FROM (
{{template "month_versions" "rollup_usage_daily"}}
);

-- model_usage_monthly, likewise from model_usage_daily.
INSERT INTO {{db}}.rollup_model_usage_monthly (month, tenant_id, slice_marker, agent_id, model, provider, tool,
    awus, input_tokens, output_tokens, cache_read_input_tokens, cache_creation_input_tokens, reasoning_tokens,
    token_cost, unpriced_tokens, slice_version)
SELECT
    month, tenant_id, toUInt8(0), agent_id, model, provider, tool,
    sum(awus), sum(input_tokens), sum(output_tokens), sum(cache_read_input_tokens), sum(cache_creation_input_tokens),
    sum(reasoning_tokens), sum(token_cost), sum(unpriced_tokens),
    any(month_version)
FROM (
    SELECT toStartOfMonth(day) AS month, * FROM (
        SELECT * FROM {{db}}.rollup_model_usage_daily FINAL WHERE slice_marker = 0 AND {{months}}
    ) AS l ALL INNER JOIN (
        SELECT tenant_id, day, max(slice_version) AS slice_version
        FROM {{db}}.rollup_model_usage_daily WHERE {{months}} GROUP BY tenant_id, day
    ) AS r USING (tenant_id, day, slice_version)
) AS l ALL INNER JOIN (
{{template "month_versions" "rollup_model_usage_daily"}}
) AS r USING (tenant_id, month)
GROUP BY month, tenant_id, agent_id, model, provider, tool
UNION ALL
SELECT month, tenant_id, toUInt8(1), '', '', '', '',
    toUInt64(0), toDecimal128(0, 0), toDecimal128(0, 0), toDecimal128(0, 0), toDecimal128(0, 0), toDecimal128(0, 0),
    toDecimal128(0, 12), toDecimal128(0, 0), month_version
FROM (
{{template "month_versions" "rollup_model_usage_daily"}}
);

{{define "day_versions"}}    SELECT tenant_id, day, sum(version) AS slice_version
    FROM {{db}}.awu_days FINAL WHERE part = 'awu' AND {{days}}
    GROUP BY tenant_id, day{{end}}
{{define "month_versions"}}    SELECT tenant_id, toStartOfMonth(day) AS month, sum(day_version) AS month_version
    FROM (
        SELECT tenant_id, day, max(slice_version) AS day_version
        FROM {{db}}.{{.}} WHERE {{months}} GROUP BY tenant_id, day
    )
    GROUP BY tenant_id, month{{end}}
