-- One row per version of an agentic work unit, collapsed like workcycles.
CREATE TABLE IF NOT EXISTS {{db}}.{{table "awus"}}{{onCluster}}
(
    tenant_id                   {{dim}},
    workcycle_id                String{{codec "ZSTD(1)"}},
    awu_id                      String{{codec "ZSTD(1)"}},
    agent_id                    {{dim}},
    kind                        {{dim}},
    tool                        {{dim}},
    channel                     {{dim}},
    status                      {{dim}},
    validated                   UInt8,
    rolled_back                 UInt8,
    attempts                    Int64,
    first_seen                  {{datetime}},
    last_seen                   {{datetime}},
{{- if legacy}}
    first_seen_ms               UInt16,
    last_seen_ms                UInt16,
{{- end}}
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
ENGINE = {{engine "ReplacingMergeTree" "awus" "version"}}
PARTITION BY toYYYYMM(first_seen)
ORDER BY (tenant_id, workcycle_id, awu_id);

{{distributed "awus" "cityHash64(tenant_id, workcycle_id)"}};
