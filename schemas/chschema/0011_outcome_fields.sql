-- The outcome fields of contract v1 (docs/contract.md): how much human
-- effort a workcycle took, its customer's satisfaction, who resolved it,
-- and who validated or rolled back a tool's work. Every column defaults to
-- "not said": 0 or ''. Rows written before read so.
--
-- events: the ledger keeps them, so a workcycle rebuilt from it has them.
-- human_millis is human_minutes in milliseconds; reported_by is a tool
-- report's by.
ALTER TABLE {{db}}.{{table "events"}}{{onCluster}}
    ADD COLUMN human_millis Int64 DEFAULT 0 AFTER outcome_type,
    ADD COLUMN csat UInt8 DEFAULT 0 AFTER human_millis,
    ADD COLUMN resolved_by {{dim}} DEFAULT '' AFTER csat,
    ADD COLUMN reported_by {{dim}} DEFAULT '' AFTER resolved_by;

-- workcycles: those of the completed event that states the outcome, and
-- the AWUs a human rolled back (overrides).
ALTER TABLE {{db}}.{{table "workcycles"}}{{onCluster}}
    ADD COLUMN human_millis Int64 DEFAULT 0 AFTER outcome_type,
    ADD COLUMN csat UInt8 DEFAULT 0 AFTER human_millis,
    ADD COLUMN resolved_by {{dim}} DEFAULT '' AFTER csat,
    ADD COLUMN awus_overridden Int64 DEFAULT 0 AFTER awus_rolled_back;

-- awus: rolled back by a human.
ALTER TABLE {{db}}.{{table "awus"}}{{onCluster}}
    ADD COLUMN overridden UInt8 DEFAULT 0 AFTER rolled_back;

-- The cluster's Distributed tables are made again over the altered local
-- ones, as in 0010.
{{if clustered}}DROP TABLE IF EXISTS {{db}}.events{{onCluster}}{{end}};

{{distributed "events" "cityHash64(tenant_id, workcycle_id)"}};

{{if clustered}}DROP TABLE IF EXISTS {{db}}.workcycles{{onCluster}}{{end}};

{{distributed "workcycles" "cityHash64(tenant_id, workcycle_id)"}};

{{if clustered}}DROP TABLE IF EXISTS {{db}}.awus{{onCluster}}{{end}};

{{distributed "awus" "cityHash64(tenant_id, workcycle_id)"}};
