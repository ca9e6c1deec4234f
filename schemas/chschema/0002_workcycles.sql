-- One row per version of a workcycle. ReplacingMergeTree(version) keeps the
-- highest version of each (tenant_id, workcycle_id); a replay repeats the same
-- version and collapses too. Read with FINAL. FINAL also merges across
-- partitions, so a late event that moves started_at into another month still
-- leaves one row.
CREATE TABLE IF NOT EXISTS {{db}}.{{table "workcycles"}}{{onCluster}}
(
    tenant_id                   {{dim}},
    workcycle_id                String{{codec "ZSTD(1)"}},
    agent_id                    {{dim}},
    conversation_id             String{{codec "ZSTD(1)"}},
    outcome                     {{dim}},
    outcome_type                {{dim}},
    started_at                  {{datetime}},
    ended_at                    {{datetime}},
{{- if legacy}}
    started_at_ms               UInt16,
    ended_at_ms                 UInt16,
{{- end}}
    awus                        Int64,
    awus_succeeded              Int64,
    awus_failed                 Int64,
    awus_validated              Int64,
    awus_rolled_back            Int64,
    actions                     Int64,
    voice_actions               Int64,
    attempts                    Int64,
    retries                     Int64,
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
ENGINE = {{engine "ReplacingMergeTree" "workcycles" "version"}}
PARTITION BY toYYYYMM(started_at)
ORDER BY (tenant_id, workcycle_id);

{{distributed "workcycles" "cityHash64(tenant_id, workcycle_id)"}};
