package sink

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/awumeter/awumeter/internal/testenv"
	"github.com/awumeter/awumeter/pipeline/event"
	"github.com/awumeter/awumeter/pipeline/migrate"
	"github.com/awumeter/awumeter/schemas/chschema"
)

// countingConn counts the queries sent through it.
type countingConn struct {
	driver.Conn
	queries atomic.Int64
}

func (c *countingConn) Query(ctx context.Context, query string, args ...any) (driver.Rows, error) {
	c.queries.Add(1)
	return c.Conn.Query(ctx, query, args...)
}

// EventsOf answers thousands of workcycles in a few queries, each using the
// primary key (force_primary_key), and gives each workcycle exactly what
// Events gives it: every distinct event once, after replays, with ids that
// need quoting intact.
func TestEventsOfReadsManyWorkcyclesInFewQueries(t *testing.T) {
	conn, schema := migrated(t)
	w := NewWriter(conn, schema, testConfig(), Settings{})
	evs := knownFinal().Events
	odd := event.Event{EventID: `e'1\`, Type: event.TypeWorkcycle, Time: at("2026-01-05 10:00:00.5"), TenantID: `t'q`,
		WorkcycleID: `wc\'x` + "\n", Phase: event.PhaseStarted, Source: event.Position{Topic: "in", Offset: 4}}
	evs = append(evs, odd)
	write(t, w, Batch{Events: evs}, Batch{Events: evs}) // a replay: two copies of every event until merged

	stored := map[WorkcycleKey]bool{}
	var keys []WorkcycleKey
	for _, e := range evs {
		k := WorkcycleKey{e.TenantID, e.WorkcycleID}
		if !stored[k] {
			stored[k] = true
			keys = append(keys, k)
		}
	}
	const missing = 2500
	for i := range missing {
		keys = append(keys, WorkcycleKey{fmt.Sprintf("t%d", i%3), fmt.Sprintf("wc-new-%05d", i)})
	}

	cc := &countingConn{Conn: conn}
	h := NewHistory(cc, schema, DefaultMaxQueryBytes)
	ctx := clickhouse.Context(testenv.Context(t, time.Minute), clickhouse.WithSettings(clickhouse.Settings{"force_primary_key": 1}))
	got, err := h.EventsOf(ctx, keys, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	// ceil(len(keys)/1000) existence queries, then one read of the few found.
	if want := int64((len(keys)+keysPerQuery-1)/keysPerQuery + 1); cc.queries.Load() != want {
		t.Errorf("%d queries for %d keys, want %d", cc.queries.Load(), len(keys), want)
	}
	if len(got) != len(stored) {
		t.Errorf("events for %d workcycles, want %d", len(got), len(stored))
	}
	for k := range stored {
		one, err := h.Events(ctx, k.TenantID, k.WorkcycleID)
		if err != nil {
			t.Fatal(err)
		}
		if len(one) == 0 || !reflect.DeepEqual(got[k], one) {
			t.Errorf("workcycle %q/%q:\nEventsOf %+v\n  Events %+v", k.TenantID, k.WorkcycleID, got[k], one)
		}
	}
	if evs := got[WorkcycleKey{odd.TenantID, odd.WorkcycleID}]; len(evs) != 1 || evs[0].EventID != odd.EventID {
		t.Errorf("quoted ids: %+v", evs)
	}

	none, err := h.EventsOf(ctx, keys[len(stored):], 0)
	if err != nil || len(none) != 0 {
		t.Errorf("new workcycles only: %v, %v", none, err)
	}
}

// Rendered queries hold at most keysPerQuery keys and max_query_bytes of
// text, at least one key each, and every key once, in order and escaped.
func TestQueriesBoundKeysAndBytes(t *testing.T) {
	const bound = MinMaxQueryBytes
	h := &History{maxQueryBytes: bound}
	query := [2]string{"SELECT 1 WHERE (tenant_id, workcycle_id) IN (", ")"}
	var keys []WorkcycleKey
	for i := range 2345 {
		keys = append(keys, WorkcycleKey{"t", fmt.Sprint(i)})
	}
	// Quotes and backslashes take two bytes in the text.
	escaped := strings.Repeat(`'\`, (bound-100)/4)
	keys = append(keys, WorkcycleKey{"t", escaped}, WorkcycleKey{"t", escaped}, WorkcycleKey{"t", "last"})
	var sizes []int
	var texts []string
	for q, err := range h.queries(query, keys) {
		if err != nil {
			t.Fatal(err)
		}
		if len(q.text) > bound {
			t.Errorf("a query of %d keys is %d bytes, over %d", q.keys, len(q.text), bound)
		}
		sizes = append(sizes, q.keys)
		texts = append(texts, q.text)
	}
	// 2345 short keys in 3 queries of at most 1000, then the long keys
	// apart (each is 16,293 bytes of the 16,384), the short last key with
	// the second.
	if want := []int{1000, 1000, 345, 1, 2}; !reflect.DeepEqual(sizes, want) {
		t.Errorf("keys per query %v, want %v", sizes, want)
	}
	all := strings.Join(texts, "")
	at := 0
	for _, k := range keys {
		lit := "('" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(k.TenantID) + "', '" +
			strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(k.WorkcycleID) + "')"
		i := strings.Index(all[at:], lit)
		if i < 0 {
			t.Fatalf("key %.20q is missing or out of order", k.WorkcycleID)
		}
		at += i + len(lit)
	}
	for range h.queries(query, nil) {
		t.Error("a query of no keys")
	}
}

// A key that cannot fit in a query alone is refused with ErrQueryTooLarge,
// before anything is sent; the server would refuse the query anyway, and
// retrying it would stall the partition.
func TestAKeyTooLongForAnyQueryIsRefusedByName(t *testing.T) {
	h := &History{maxQueryBytes: MinMaxQueryBytes}
	query := [2]string{"SELECT 1 WHERE (tenant_id, workcycle_id) IN (", ")"}
	keys := []WorkcycleKey{{"t", "short"}, {"t", strings.Repeat("w", MinMaxQueryBytes)}}
	var errs []error
	n := 0
	for q, err := range h.queries(query, keys) {
		if err != nil {
			errs = append(errs, err)
			continue
		}
		n += q.keys
	}
	if len(errs) != 1 || !errors.Is(errs[0], ErrQueryTooLarge) || !strings.Contains(errs[0].Error(), "over clickhouse.max_query_bytes 16384") {
		t.Errorf("errors %v, want one ErrQueryTooLarge naming clickhouse.max_query_bytes", errs)
	}
	if n != 0 {
		t.Errorf("%d keys were queried before the long one was refused, want none", n)
	}
}

// KeyQueryBytes must bound every ledger read of one workcycle whose ids
// are at most max_id_bytes long, in either schema flavor, or the service
// configuration's cross-check of the two keys would let a stuck partition
// through.
func TestKeyQueryBytesBoundsEveryLedgerRead(t *testing.T) {
	const maxID = 512
	worst := WorkcycleKey{strings.Repeat(`'`, maxID), strings.Repeat(`\`, maxID)}
	for _, flavor := range []chschema.Flavor{chschema.Legacy, chschema.Modern} {
		schema := migrate.Schema{Flavor: flavor, Database: "a_rather_long_database_name"}
		h := NewHistory(nil, schema, 1<<30)
		bound := KeyQueryBytes(schema.Database, maxID)
		for _, query := range [][2]string{h.query, h.exists, h.many} {
			for q, err := range h.queries(query, []WorkcycleKey{worst}) {
				if err != nil {
					t.Fatal(err)
				}
				if len(q.text) > bound {
					t.Errorf("flavor %v: a query of %d bytes, over KeyQueryBytes %d:\n%s", flavor, len(q.text), bound, q.text[:200])
				}
			}
		}
	}
}
