package sink

import (
	"context"
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
	h := NewHistory(cc, schema)
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

// Chunks hold at most keysPerQuery keys and about keyBytesPerQuery bytes,
// and at least one key however long, and cover the keys in order.
func TestChunksBoundKeysAndBytes(t *testing.T) {
	var keys []WorkcycleKey
	for i := range 2345 {
		keys = append(keys, WorkcycleKey{"t", fmt.Sprint(i)})
	}
	long := strings.Repeat("x", keyBytesPerQuery)
	keys = append(keys, WorkcycleKey{"t", long}, WorkcycleKey{"t", long}, WorkcycleKey{"t", "last"})
	var sizes []int
	var all []WorkcycleKey
	for c := range chunks(keys) {
		sizes = append(sizes, len(c))
		all = append(all, c...)
	}
	if !reflect.DeepEqual(all, keys) {
		t.Fatal("chunks do not cover the keys in order")
	}
	if want := []int{1000, 1000, 345, 1, 1, 1}; !reflect.DeepEqual(sizes, want) {
		t.Errorf("chunk sizes %v, want %v", sizes, want)
	}
	for range chunks(nil) {
		t.Error("a chunk of no keys")
	}
}
