package sink

import (
	"context"
	"fmt"

	"github.com/go-faster/city"
)

// KeyRow is a row of table workcycle_keys: one workcycle that a Kafka
// partition has stored events of, by hash (see KeyHash).
type KeyRow struct {
	Topic     string
	Partition int32
	Hash      uint64
}

// KeyHash is a workcycle's key_hash in table workcycle_keys:
// cityHash64(concat(tenant_id, '\0', workcycle_id)) as ClickHouse computes
// it (CityHash64 v1.0.2; migration 0008 backfills with the SQL form). Two
// workcycles with one hash only cost a ledger read that finds nothing.
func KeyHash(tenantID, workcycleID string) uint64 {
	// Hash the two ids and the separator without building the string.
	var buf [256]byte
	var b []byte
	if n := len(tenantID) + 1 + len(workcycleID); n <= len(buf) {
		b = buf[:0]
	} else {
		b = make([]byte, 0, n)
	}
	b = append(b, tenantID...)
	b = append(b, 0)
	b = append(b, workcycleID...)
	return city.CH64(b)
}

var keyColumns = concat[KeyRow](
	strCol("kafka_topic", func(r *KeyRow) string { return r.Topic }),
	i32Col("kafka_partition", func(r *KeyRow) int32 { return r.Partition }),
	u64Col("key_hash", func(r *KeyRow) uint64 { return r.Hash }),
)

// StoredKeys returns the key hash of every workcycle the ledger holds events
// of from one Kafka partition, as table workcycle_keys records them, in
// no particular order and possibly with duplicates. It reads 8 bytes per workcycle;
// the caller loads them once, when it is assigned the partition.
func (h *History) StoredKeys(ctx context.Context, topic string, partition int32) ([]uint64, error) {
	rows, err := h.conn.Query(ctx, h.keys, topic, partition)
	if err != nil {
		return nil, fmt.Errorf("cannot read the workcycle keys of %s/%d: %w", topic, partition, err)
	}
	defer rows.Close()
	var out []uint64
	for rows.Next() {
		var k uint64
		if err := rows.Scan(&k); err != nil {
			return nil, fmt.Errorf("cannot read the workcycle keys of %s/%d: %w", topic, partition, err)
		}
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("cannot read the workcycle keys of %s/%d: %w", topic, partition, err)
	}
	return out, nil
}
