-- Provisional rows and guards (DESIGN.md, "Provisional rows"; docs/guards.md).
--
-- workcycles.state: 'open' on the provisional rows the service writes every
-- engine.emit_interval while a workcycle is open, 'closed' on the row its
-- closing rule writes. Versions stay counts of distinct events, so a
-- provisional row is replaced by the next version like any other; of two
-- rows with one version, the closed one is written last. Rows written
-- before this migration were all closing rows.
ALTER TABLE {{db}}.{{table "workcycles"}}{{onCluster}} ADD COLUMN state {{dim}} DEFAULT 'closed' AFTER unpriced_tokens;

-- The cluster's Distributed table is made again over the altered local
-- one: 18.16 refuses ALTER ON CLUSTER of a table that is not replicated
-- where the shards replicate internally, as they must for the ALTER above.
{{if clustered}}DROP TABLE IF EXISTS {{db}}.workcycles{{onCluster}}{{end}};

{{distributed "workcycles" "cityHash64(tenant_id, workcycle_id)"}};

-- Which workcycles each Kafka partition's engine last emitted open. A new
-- owner of the partition restores every workcycle whose latest row here is
-- open, since the committed offset may be past its events. version is
-- 2 × the workcycle's version, plus 1 when closed, so a closed row replaces
-- the open rows of its version and below, and an open row written after a
-- reopening (a higher workcycle version) replaces the closed one.
CREATE TABLE IF NOT EXISTS {{db}}.{{table "workcycle_states"}}{{onCluster}}
(
    kafka_topic     String,
    kafka_partition Int32,
    tenant_id       String,
    workcycle_id    String,
    state           {{dim}},
    version         UInt64
)
ENGINE = {{engine "ReplacingMergeTree" "workcycle_states" "version"}}
ORDER BY (kafka_topic, kafka_partition, tenant_id, workcycle_id);

{{distributed "workcycle_states" "kafka_partition"}};

-- Alerts raised by guards: one row per alert id, however often a replay
-- raises it again (read with FINAL). alert_id is a stable UUID of the rule
-- and its subject (docs/guards.md). A replay's copy may hold a later value;
-- FINAL keeps the earliest written: precedence is 4294967295 minus
-- written_at in Unix seconds, and ReplacingMergeTree keeps the highest.
CREATE TABLE IF NOT EXISTS {{db}}.{{table "alerts"}}{{onCluster}}
(
    alert_id     String,
    rule         {{dim}},
    rule_on      {{dim}},
    metric       {{dim}},
    threshold    Decimal(38, 12),
    value        Decimal(38, 12),
    tenant_id    {{dim}},
    agent_id     {{dim}},
    workcycle_id String,
    awu_id       String,
    window_start DateTime('UTC'),
    event_time   {{datetime}},
{{- if legacy}}
    event_time_ms UInt16,
{{- end}}
    written_at   DateTime('UTC'),
    precedence   UInt32
)
ENGINE = {{engine "ReplacingMergeTree" "alerts" "precedence"}}
ORDER BY (tenant_id, alert_id);

{{distributed "alerts" "cityHash64(tenant_id)"}};
