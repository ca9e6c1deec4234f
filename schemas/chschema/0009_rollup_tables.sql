-- Rollup tables: the daily and monthly rollups, whole and per model, kept
-- as tables refreshed by the service instead of views that read every AWU
-- with FINAL. DESIGN.md, "Rollups", has the argument in full; in short:
--
-- * awu_days holds every version of every AWU row, and of its per-model
--   rows, once per UTC day the AWU has events on, sorted by (tenant_id,
--   day, part): the AWU rows a day's rollup can depend on are one range of
--   the sort key, and their per-model rows the next.
-- * A slice is (tenant_id, day). Its refresh reads the latest row of each
--   AWU in the slice and writes a snapshot: one row per dimension value of
--   the AWUs whose first event is on that day, plus a marker row, all with
--   slice_version = the sum of the versions of every AWU in the slice. An
--   AWU's version counts its distinct events, and an AWU never leaves a
--   slice (its events stay on their days), so slice_version grows whenever
--   the snapshot's content can change, including when a late event moves
--   an AWU to an earlier day.
-- * Readers take, per slice, the snapshot with the highest slice_version;
--   FINAL absorbs repeated writes of the same snapshot. A refresh that read
--   older data writes a lower version and is never read, whatever order
--   the writes land in, so replays, re-emissions and concurrent instances
--   give the same rollups.
-- * A month's slice is refreshed from the latest daily snapshots of its
--   days, with slice_version = the sum of theirs.
--
-- Sums of Int64 columns are kept as Decimal(38, 0), which cannot wrap; the
-- views convert them back with toInt64, which fails the query ("Decimal
-- convert overflow") rather than return a wrapped number, as 0007 did.

CREATE TABLE IF NOT EXISTS {{db}}.{{table "awu_days"}}{{onCluster}}
(
    tenant_id                   {{dim}},
    day                         Date,
    workcycle_id                String{{codec "ZSTD(1)"}},
    awu_id                      String{{codec "ZSTD(1)"}},
    part                        {{dim}},
    model                       {{dim}},
    provider                    {{dim}},
    agent_id                    {{dim}},
    kind                        {{dim}},
    tool                        {{dim}},
    channel                     {{dim}},
    status                      {{dim}},
    validated                   UInt8,
    rolled_back                 UInt8,
    attempts                    Int64,
    first_seen                  DateTime('UTC'),
    input_tokens                Int64,
    output_tokens               Int64,
    cache_read_input_tokens     Int64,
    cache_creation_input_tokens Int64,
    reasoning_tokens            Int64,
    token_cost                  Decimal(38, 12),
    credits                     Int64,
    list_cost                   Decimal(38, 12),
    unpriced_tokens             Int64,
    version                     UInt64
)
ENGINE = {{engine "ReplacingMergeTree" "awu_days" "version"}}
PARTITION BY toYYYYMM(day)
ORDER BY (tenant_id, day, part, workcycle_id, awu_id, model);

{{distributed "awu_days" "cityHash64(tenant_id)"}};

{{template "rollup_table" "rollup_usage_daily"}};

{{distributed "rollup_usage_daily" "cityHash64(tenant_id)"}};

{{template "rollup_table" "rollup_usage_monthly"}};

{{distributed "rollup_usage_monthly" "cityHash64(tenant_id)"}};

{{template "rollup_table" "rollup_model_usage_daily"}};

{{distributed "rollup_model_usage_daily" "cityHash64(tenant_id)"}};

{{template "rollup_table" "rollup_model_usage_monthly"}};

{{distributed "rollup_model_usage_monthly" "cityHash64(tenant_id)"}};

-- Backfill: the latest AWU rows on the day of their first event, which is
-- the only day whose rollup holds them now; their next versions name every
-- day of their events. Then every slice is refreshed.
INSERT INTO {{db}}.awu_days (tenant_id, day, workcycle_id, awu_id, part, model, provider, agent_id, kind, tool, channel,
    status, validated, rolled_back, attempts, first_seen, input_tokens, output_tokens, cache_read_input_tokens,
    cache_creation_input_tokens, reasoning_tokens, token_cost, credits, list_cost, unpriced_tokens, version)
SELECT tenant_id, toDate(first_seen), workcycle_id, awu_id, 'awu', '', '', agent_id, kind, tool, channel,
    status, validated, rolled_back, attempts, first_seen, input_tokens, output_tokens, cache_read_input_tokens,
    cache_creation_input_tokens, reasoning_tokens, token_cost, credits, list_cost, unpriced_tokens, version
FROM {{db}}.awus FINAL;

INSERT INTO {{db}}.awu_days (tenant_id, day, workcycle_id, awu_id, part, model, provider, agent_id, kind, tool,
    first_seen, input_tokens, output_tokens, cache_read_input_tokens, cache_creation_input_tokens, reasoning_tokens,
    token_cost, unpriced_tokens, version)
SELECT tenant_id, toDate(first_seen), workcycle_id, awu_id, 'model', model, provider, agent_id, kind, tool,
    first_seen, input_tokens, output_tokens, cache_read_input_tokens, cache_creation_input_tokens, reasoning_tokens,
    token_cost, unpriced_tokens, version
FROM {{db}}.awu_models FINAL;

{{refresh "all"}}

-- The names analysts query, now over the rollup tables: per slice, the
-- snapshot with the highest slice_version, without its marker row.

DROP TABLE IF EXISTS {{db}}.usage_monthly{{onCluster}};
DROP TABLE IF EXISTS {{db}}.model_usage_monthly{{onCluster}};
DROP TABLE IF EXISTS {{db}}.usage_daily{{onCluster}};
DROP TABLE IF EXISTS {{db}}.model_usage_daily{{onCluster}};

{{template "rollup_view" "usage_daily"}};

{{template "rollup_view" "usage_monthly"}};

{{template "rollup_view" "model_usage_daily"}};

{{template "rollup_view" "model_usage_monthly"}};

{{/* A rollup table: the period column (day, or month for the monthly
tables), the dimensions, the sums, and slice_version. */}}
{{define "rollup_table"}}{{$period := "day"}}{{$partition := "toYYYYMM(day)"}}
{{- if hasSuffix . "_monthly"}}{{$period = "month"}}{{$partition = "toYear(month)"}}{{end -}}
{{- $dims := "agent_id, kind, tool, channel"}}{{if hasPrefix . "rollup_model_"}}{{$dims = "agent_id, model, provider, tool"}}{{end -}}
CREATE TABLE IF NOT EXISTS {{db}}.{{table .}}{{onCluster}}
(
    {{printf "%-27s" $period}} Date,
    tenant_id                   {{dim}},
    slice_marker                UInt8,
{{- range split $dims}}
    {{printf "%-27s" .}} {{dim}},
{{- end}}
{{if hasPrefix . "rollup_model_"}}{{template "model_sums"}}{{else}}{{template "usage_sums"}}{{end}}
    slice_version               UInt64
)
ENGINE = {{engine "ReplacingMergeTree" . "slice_version"}}
PARTITION BY {{$partition}}
ORDER BY (tenant_id, {{$period}}, slice_marker, {{$dims}}){{end}}
{{/* A view over rollup_<name>: per slice, the snapshot with the highest
slice_version, without its marker row. */}}
{{define "rollup_view"}}{{$period := "day"}}{{if hasSuffix . "_monthly"}}{{$period = "month"}}{{end -}}
CREATE VIEW IF NOT EXISTS {{db}}.{{.}}{{onCluster}} AS
SELECT
    {{$period}},
{{if hasPrefix . "model_"}}{{template "model_view"}}{{else}}{{template "usage_view"}}{{end}}
FROM {{db}}.rollup_{{.}} FINAL
WHERE slice_marker = 0 AND (tenant_id, {{$period}}, slice_version) {{in}}
    (SELECT tenant_id, {{$period}}, max(slice_version) FROM {{db}}.rollup_{{.}} GROUP BY tenant_id, {{$period}}){{end}}
{{define "usage_sums"}}    awus                        UInt64,
    awus_succeeded              UInt64,
    awus_failed                 UInt64,
    awus_validated              UInt64,
    awus_rolled_back            UInt64,
    actions                     UInt64,
    voice_actions               UInt64,
    attempts                    Decimal(38, 0),
    input_tokens                Decimal(38, 0),
    output_tokens               Decimal(38, 0),
    cache_read_input_tokens     Decimal(38, 0),
    cache_creation_input_tokens Decimal(38, 0),
    reasoning_tokens            Decimal(38, 0),
    token_cost                  Decimal(38, 12),
    credits                     Decimal(38, 0),
    list_cost                   Decimal(38, 12),
    unpriced_tokens             Decimal(38, 0),{{end}}
{{define "model_sums"}}    awus                        UInt64,
    input_tokens                Decimal(38, 0),
    output_tokens               Decimal(38, 0),
    cache_read_input_tokens     Decimal(38, 0),
    cache_creation_input_tokens Decimal(38, 0),
    reasoning_tokens            Decimal(38, 0),
    token_cost                  Decimal(38, 12),
    unpriced_tokens             Decimal(38, 0),{{end}}
{{define "usage_view"}}    tenant_id,
    agent_id,
    kind,
    tool,
    channel,
    awus,
    awus_succeeded,
    awus_failed,
    awus_validated,
    awus_rolled_back,
    actions,
    voice_actions,
    toInt64(attempts)                                  AS attempts,
    toInt64(attempts) - toInt64(awus)                  AS retries,
    toInt64(input_tokens)                              AS input_tokens,
    toInt64(output_tokens)                             AS output_tokens,
    toInt64(cache_read_input_tokens)                   AS cache_read_input_tokens,
    toInt64(cache_creation_input_tokens)               AS cache_creation_input_tokens,
    toInt64(reasoning_tokens)                          AS reasoning_tokens,
    token_cost,
    toInt64(credits)                                   AS credits,
    list_cost,
    toInt64(unpriced_tokens)                           AS unpriced_tokens{{end}}
{{define "model_view"}}    tenant_id,
    agent_id,
    model,
    provider,
    tool,
    awus,
    toInt64(input_tokens)                              AS input_tokens,
    toInt64(output_tokens)                             AS output_tokens,
    toInt64(cache_read_input_tokens)                   AS cache_read_input_tokens,
    toInt64(cache_creation_input_tokens)               AS cache_creation_input_tokens,
    toInt64(reasoning_tokens)                          AS reasoning_tokens,
    token_cost,
    toInt64(unpriced_tokens)                           AS unpriced_tokens{{end}}
