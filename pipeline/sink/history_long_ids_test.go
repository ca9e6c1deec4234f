package sink

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/awumeter/awumeter/internal/testenv"
	"github.com/awumeter/awumeter/pipeline/event"
)

// longestQueryConn records the longest query text sent through it.
type longestQueryConn struct {
	driver.Conn
	mu      sync.Mutex
	longest int
	queries int
}

func (c *longestQueryConn) Query(ctx context.Context, query string, args ...any) (driver.Rows, error) {
	c.mu.Lock()
	c.longest = max(c.longest, len(query))
	c.queries++
	c.mu.Unlock()
	return c.Conn.Query(ctx, query, args...)
}

// Ledger lookups of workcycles with very long ids stay under the server's
// max_query_size (262144 bytes on 18.16) and answer every workcycle, so a
// partition never stalls retrying a query the server refuses. Before the
// split was measured on the escaped text, two 64 KB ids of quotes and
// backslashes went into one query of over 256 KiB.
func TestLedgerLookupsOfLongIdsStayUnderTheQuerySize(t *testing.T) {
	conn, schema := migrated(t)
	w := NewWriter(conn, schema, testConfig(), Settings{})
	for _, c := range []struct {
		name string
		id   func(i int) string
	}{
		{"ids of 64 KB of quotes and backslashes, twice as long escaped", func(i int) string {
			return fmt.Sprintf("%04d", i) + strings.Repeat(`'\`, 65516/2)
		}},
		{"ids of 100 KB of plain text", func(i int) string {
			return fmt.Sprintf("%04d", i) + strings.Repeat("w", 100_000)
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			tenant := fmt.Sprintf("t-%d", len(c.id(0)))
			var evs []event.Event
			var keys []WorkcycleKey
			for i := range 16 {
				k := WorkcycleKey{tenant, c.id(i)}
				keys = append(keys, k)
				if i%2 == 0 { // every other workcycle is in the ledger
					evs = append(evs, event.Event{EventID: fmt.Sprintf("e%d", i), Type: event.TypeWorkcycle,
						Time: at("2026-01-05 10:00:00.5"), TenantID: k.TenantID, WorkcycleID: k.WorkcycleID,
						Phase: event.PhaseStarted, Source: event.Position{Topic: "in", Offset: int64(i)}})
				}
			}
			write(t, w, Batch{Events: evs})

			lc := &longestQueryConn{Conn: conn}
			h := NewHistory(lc, schema, DefaultMaxQueryBytes)
			ctx := clickhouse.Context(testenv.Context(t, 2*time.Minute), clickhouse.WithSettings(clickhouse.Settings{"force_primary_key": 1}))
			got, err := h.EventsOf(ctx, keys, 30*time.Second)
			if err != nil {
				t.Fatalf("EventsOf: %.500v", err)
			}
			if len(got) != len(evs) {
				t.Errorf("events for %d workcycles, want %d", len(got), len(evs))
			}
			for _, e := range evs {
				k := WorkcycleKey{e.TenantID, e.WorkcycleID}
				if g := got[k]; len(g) != 1 || g[0].EventID != e.EventID || g[0].WorkcycleID != e.WorkcycleID {
					t.Errorf("workcycle %.8q…: %d events, want event %s", k.WorkcycleID, len(g), e.EventID)
				}
				one, err := h.Events(ctx, k.TenantID, k.WorkcycleID)
				if err != nil || len(one) != 1 || one[0].EventID != e.EventID {
					t.Errorf("Events of workcycle %.8q…: %d events, %.300v; want event %s", k.WorkcycleID, len(one), err, e.EventID)
				}
			}
			if lc.longest > DefaultMaxQueryBytes {
				t.Errorf("a query of %d bytes, over clickhouse.max_query_bytes %d", lc.longest, DefaultMaxQueryBytes)
			}
			t.Logf("%d queries, the longest %d bytes", lc.queries, lc.longest)
		})
	}
}
