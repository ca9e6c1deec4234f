-- Token use and cost of one AWU split by model: one row per version of
-- (tenant_id, workcycle_id, awu_id, model). An AWU's models only ever grow
-- as events arrive, so the latest version of each row is the whole truth.
-- Carries the AWU's agent, tool and first_seen so per-model rollups need no
-- join.
CREATE TABLE IF NOT EXISTS {{db}}.{{table "awu_models"}}{{onCluster}}
(
    tenant_id                   {{dim}},
    workcycle_id                String{{codec "ZSTD(1)"}},
    awu_id                      String{{codec "ZSTD(1)"}},
    model                       {{dim}},
    provider                    {{dim}},
    agent_id                    {{dim}},
    kind                        {{dim}},
    tool                        {{dim}},
    first_seen                  {{datetime}},
{{- if legacy}}
    first_seen_ms               UInt16,
{{- end}}
    input_tokens                Int64,
    output_tokens               Int64,
    cache_read_input_tokens     Int64,
    cache_creation_input_tokens Int64,
    reasoning_tokens            Int64,
    token_cost                  Decimal(38, 12),
    unpriced_tokens             Int64,
    version                     UInt64
)
ENGINE = {{engine "ReplacingMergeTree" "awu_models" "version"}}
PARTITION BY toYYYYMM(first_seen)
ORDER BY (tenant_id, workcycle_id, awu_id, model);

{{distributed "awu_models" "cityHash64(tenant_id, workcycle_id)"}};
