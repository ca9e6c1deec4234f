-- The audit ledger: one row per distinct valid event. A replayed event has
-- the same key, so ReplacingMergeTree keeps one copy; read it with FINAL.
-- The key starts with (tenant_id, workcycle_id) so the late-duplicate check,
-- which loads one workcycle's events, reads one small range.
CREATE TABLE IF NOT EXISTS {{db}}.{{table "events"}}{{onCluster}}
(
    tenant_id                   {{dim}},
    workcycle_id                String{{codec "ZSTD(1)"}},
    event_id                    String{{codec "ZSTD(1)"}},
    type                        {{dim}},
    time                        {{datetime}}{{codec "Delta, ZSTD(1)"}},
{{- if legacy}}
    time_ms                     UInt16,
{{- end}}
    agent_id                    {{dim}},
    conversation_id             String{{codec "ZSTD(1)"}},
    awu_id                      String{{codec "ZSTD(1)"}},
    attempt                     Int32,
    model                       {{dim}},
    provider                    {{dim}},
    input_tokens                Int64{{codec "T64, ZSTD(1)"}},
    output_tokens               Int64{{codec "T64, ZSTD(1)"}},
    cache_read_input_tokens     Int64{{codec "T64, ZSTD(1)"}},
    cache_creation_input_tokens Int64{{codec "T64, ZSTD(1)"}},
    reasoning_tokens            Int64{{codec "T64, ZSTD(1)"}},
    tool                        {{dim}},
    channel                     {{dim}},
    status                      {{dim}},
    phase                       {{dim}},
    outcome                     {{dim}},
    outcome_type                {{dim}},
    kafka_topic                 {{dim}},
    kafka_partition             Int32,
    kafka_offset                Int64{{codec "Delta, ZSTD(1)"}},
    ingested_at                 DateTime('UTC')
)
ENGINE = {{engine "ReplacingMergeTree" "events"}}
PARTITION BY toYYYYMM(time)
ORDER BY (tenant_id, workcycle_id, event_id){{ttl "toDateTime(time)"}};

{{distributed "events" "cityHash64(tenant_id, workcycle_id)"}};
