-- Which workcycles each Kafka partition has ever stored, as 64-bit hashes.
-- A partition's owner loads its rows when it is assigned the partition and
-- reads the events ledger only for workcycles whose hash is present: a
-- workcycle whose hash is absent has no stored events, so it is new and
-- needs no ledger read (DESIGN.md, "Why nothing is lost or counted twice").
--
-- key_hash is cityHash64(concat(tenant_id, '\0', workcycle_id)); the service
-- computes the same function (github.com/go-faster/city CH64). A collision
-- only costs a ledger read that finds nothing. Rows are written in the same
-- transaction as the workcycle's first events, so a key is stored no later
-- than any event it covers. Duplicates are harmless; ReplacingMergeTree
-- merges them away.
CREATE TABLE IF NOT EXISTS {{db}}.{{table "workcycle_keys"}}{{onCluster}}
(
    kafka_topic     String,
    kafka_partition Int32,
    key_hash        UInt64
)
ENGINE = {{engine "ReplacingMergeTree" "workcycle_keys"}}
ORDER BY (kafka_topic, kafka_partition, key_hash);

{{distributed "workcycle_keys" "kafka_partition"}};

-- Backfill from the ledger, so a database written by an earlier release is
-- complete before the service relies on the table. Stop every instance of
-- the earlier release before migrating: events it stores afterwards would
-- have no key.
INSERT INTO {{db}}.workcycle_keys (kafka_topic, kafka_partition, key_hash)
SELECT DISTINCT kafka_topic, kafka_partition, cityHash64(concat(tenant_id, '\0', workcycle_id))
FROM {{db}}.events;
