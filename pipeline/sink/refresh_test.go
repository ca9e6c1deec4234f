package sink

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/awumeter/awumeter/internal/testenv"
	"github.com/awumeter/awumeter/pipeline/engine"
)

// refreshRecorder is a recorder whose batches change rollups: it logs each
// write with the slices of its rows, and each refresh with the slices it
// refreshed.
type refreshRecorder struct {
	recorder
	refreshFail error
}

func (r *refreshRecorder) Write(ctx context.Context, b Batch) error {
	if err := r.recorder.Write(ctx, b); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.log[len(r.log)-1] = "write " + tenantsOf(b.AWUs)
	return nil
}

func (r *refreshRecorder) refreshRollups(_ context.Context, s sliceSet) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.refreshFail != nil {
		return r.refreshFail
	}
	var ts []string
	for sl := range s {
		ts = append(ts, sl.tenant)
	}
	slices.Sort(ts)
	r.log = append(r.log, "refresh "+strings.Join(ts, ","))
	return nil
}

func tenantsOf(awus []engine.AWURow) string {
	var ts []string
	for _, a := range awus {
		ts = append(ts, a.TenantID)
	}
	return strings.Join(ts, ",")
}

func awuOf(tenant string) Batch {
	return Batch{AWUs: []engine.AWURow{{TenantID: tenant, FirstSeen: time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)}}}
}

// A batch's ack waits for a refresh of the rollups its rows changed that
// began after it was written; the batches written meanwhile share that
// refresh, and a batch without AWU rows needs none.
func TestBufferAcksAfterTheRollupRefresh(t *testing.T) {
	ctx := context.Background()
	t.Run("refreshes are shared and precede the acks", func(t *testing.T) {
		r := &refreshRecorder{}
		b := NewBuffer(r, limits(1), 4, WithRollupRefresh(time.Hour))
		var errs []error
		for _, tenant := range []string{"a", "b", "c"} {
			if err := b.Add(ctx, awuOf(tenant), r.ack("ack "+tenant, &errs)); err != nil {
				t.Fatal(err)
			}
		}
		if err := b.Close(ctx); err != nil {
			t.Fatal(err)
		}
		// The first batch meets no earlier refresh and is refreshed at
		// once; the next two wait out the hour until Close flushes them.
		// Writes go on while a refresh runs.
		var refreshes []string
		at := map[string]int{}
		for i, e := range r.log {
			if strings.HasPrefix(e, "refresh ") {
				refreshes = append(refreshes, e)
			}
			at[e] = i
		}
		if want := []string{"refresh a", "refresh b,c"}; !slices.Equal(refreshes, want) {
			t.Errorf("refreshes %q, want %q (log %q)", refreshes, want, r.log)
		}
		for tenant, refresh := range map[string]string{"a": "refresh a", "b": "refresh b,c", "c": "refresh b,c"} {
			if !(at["write "+tenant] < at[refresh] && at[refresh] < at["ack "+tenant]) {
				t.Errorf("log %q: %s must be written, then refreshed, then acked", r.log, tenant)
			}
		}
		if at["ack a"] > at["ack b"] || at["ack b"] > at["ack c"] {
			t.Errorf("log %q: acks out of order", r.log)
		}
		for _, err := range errs {
			if err != nil {
				t.Errorf("ack error %v", err)
			}
		}
	})
	t.Run("a batch without AWU rows is acked without a refresh", func(t *testing.T) {
		r := &refreshRecorder{}
		b := NewBuffer(r, limits(1), 4, WithRollupRefresh(time.Hour))
		var errs []error
		if err := b.Add(ctx, rows(1), r.ack("ack workcycles", &errs)); err != nil {
			t.Fatal(err)
		}
		if err := b.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		if want := []string{"write ", "ack workcycles"}; !slices.Equal(r.log, want) {
			t.Errorf("log %q, want %q", r.log, want)
		}
		_ = b.Close(ctx)
	})
	t.Run("a failed refresh fails the batches it held and the Buffer", func(t *testing.T) {
		boom := &PermanentError{Table: "rollups", Err: errors.New("boom")}
		r := &refreshRecorder{refreshFail: boom}
		b := NewBuffer(r, limits(1), 4, WithRollupRefresh(time.Hour))
		var errs []error
		if err := b.Add(ctx, awuOf("a"), r.ack("ack a", &errs)); err != nil {
			t.Fatal(err)
		}
		if err := b.Flush(ctx); !errors.Is(err, boom) {
			t.Fatalf("flush: %v, want the refresh's error", err)
		}
		if len(errs) != 1 || !errors.Is(errs[0], boom) {
			t.Errorf("acks %v, want the refresh's error", errs)
		}
		if err := b.Add(ctx, awuOf("b"), r.ack("ack b", &errs)); !errors.Is(err, ErrBufferFailed) {
			t.Errorf("add after a failed refresh: %v", err)
		}
		_ = b.Close(ctx)
	})
}

// Writers of the same days, concurrent, each refreshing after its own
// writes, leave the rollups equal to sums over the final rows, whatever
// order their refreshes land in: every AWU below is written in three
// versions by three writers racing, and a third of them move to the day
// before with their last version.
func TestConcurrentWritersOfOneDayLeaveExactRollups(t *testing.T) {
	conn, schema := migrated(t)
	day := time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)
	const awus = 60
	version := func(i, v int) engine.AWURow {
		first := day.Add(time.Duration(i) * time.Minute)
		r := engine.AWURow{
			TenantID: fmt.Sprintf("t%d", i%2), WorkcycleID: fmt.Sprintf("wc%d", i/3), AWUID: fmt.Sprintf("u%d", i),
			AgentID: "a", Kind: "tool", Tool: "search", Channel: "text", Status: "succeeded", Attempts: int64(v),
			FirstSeen: first, LastSeen: first.Add(time.Second), TokenCounts: engine.TokenCounts{InputTokens: int64(100 * v)},
			TokenCost: dec(fmt.Sprintf("0.00%d", v)), Credits: 20, ListCost: dec("0.1"), Version: 1<<32 + uint64(v),
		}
		if v == 3 && i%3 == 0 { // a late event a day earlier
			r.FirstSeen = first.Add(-24 * time.Hour)
			r.EventDays = []int32{int32(r.FirstSeen.Unix() / 86400), int32(first.Unix() / 86400)}
		}
		return r
	}
	model := func(a engine.AWURow) AWUModelRow {
		return AWUModelRow{TenantID: a.TenantID, WorkcycleID: a.WorkcycleID, AWUID: a.AWUID, Model: "m", Provider: "p",
			AgentID: a.AgentID, Kind: a.Kind, Tool: a.Tool, FirstSeen: a.FirstSeen, TokenCounts: a.TokenCounts,
			TokenCost: a.TokenCost, Version: a.Version}
	}
	var final Batch
	for i := range awus {
		a := version(i, 3)
		final.AWUs = append(final.AWUs, a)
		final.AWUModels = append(final.AWUModels, model(a))
	}
	var wg sync.WaitGroup
	errs := make(chan error, 3)
	for wr := range 3 {
		w := NewWriter(conn, schema, testConfig(), Settings{})
		wg.Go(func() {
			ctx := testenv.Context(t, 2*time.Minute)
			// Writer wr writes version wr+1 of every AWU, in batches of
			// five, in its own order.
			for start := 0; start < awus; start += 5 {
				var b Batch
				for k := range 5 {
					i := (start + k + 17*wr) % awus
					a := version(i, wr+1)
					b.AWUs = append(b.AWUs, a)
					b.AWUModels = append(b.AWUModels, model(a))
				}
				slices.SortFunc(b.AWUs, func(x, y engine.AWURow) int { return compareAWU(&x, &y) })
				slices.SortFunc(b.AWUModels, func(x, y AWUModelRow) int {
					return compareAWU(&engine.AWURow{TenantID: x.TenantID, WorkcycleID: x.WorkcycleID, AWUID: x.AWUID},
						&engine.AWURow{TenantID: y.TenantID, WorkcycleID: y.WorkcycleID, AWUID: y.AWUID})
				})
				if err := w.Write(ctx, b); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	checkRollups(t, conn, schema.Database, final, "after three writers raced")
}

func compareAWU(x, y *engine.AWURow) int {
	return strings.Compare(x.TenantID+"\x00"+x.WorkcycleID+"\x00"+x.AWUID, y.TenantID+"\x00"+y.WorkcycleID+"\x00"+y.AWUID)
}

// A refresh computed from older rows that lands after a newer one is never
// read: its snapshot has a lower slice_version. The test stores the rollup
// tables' rows after the stale versions, writes the final ones, then
// inserts the stored rows again, as a slow refresh would.
func TestAStaleRefreshLandingLastIsNeverRead(t *testing.T) {
	conn, schema := migrated(t)
	ctx := testenv.Context(t, time.Minute)
	db := schema.Database
	w := NewWriter(conn, schema, testConfig(), Settings{})
	final, stale := knownFinal(), knownStale()
	write(t, w, final)
	write(t, w, Batch{Events: final.Events}) // nothing to refresh
	tables := []string{"rollup_usage_daily", "rollup_usage_monthly", "rollup_model_usage_daily", "rollup_model_usage_monthly"}
	// Start over with the stale versions alone, keep their snapshots.
	conn2, schema2 := migrated(t)
	write(t, NewWriter(conn2, schema2, testConfig(), Settings{}), stale)
	var late []string
	for _, table := range tables {
		rows := tsvLines(t, conn2, "SELECT * FROM "+schema2.Database+"."+table)
		if len(rows) == 0 {
			t.Fatalf("%s: no stale snapshot", table)
		}
		late = append(late, fmt.Sprintf("INSERT INTO %s.%s SELECT * FROM %s.%s", db, table, schema2.Database, table))
	}
	for _, q := range late {
		if err := conn.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	checkRollups(t, conn, db, final, "after stale snapshots landed last")
	for _, table := range tables {
		if err := conn.Exec(ctx, "OPTIMIZE TABLE "+db+"."+table+" FINAL"); err != nil {
			t.Fatal(err)
		}
	}
	checkRollups(t, conn, db, final, "after stale snapshots landed last and OPTIMIZE FINAL")
}

// An AWU row and its per-model rows go to every day of the AWU's events; a
// per-model row whose AWU row is not in the batch goes to its first day.
func TestAWUDaysOfExpandsRowsToTheirEventDays(t *testing.T) {
	d := func(s string) time.Time { return at(s + " 00:00:00") }
	day := func(s string) int32 { return int32(d(s).Unix() / 86400) }
	spread := engine.AWURow{TenantID: "t", WorkcycleID: "w", AWUID: "b", FirstSeen: at("2026-01-30 23:00:00"),
		EventDays: []int32{day("2026-01-30"), day("2026-02-01")}}
	single := engine.AWURow{TenantID: "t", WorkcycleID: "w", AWUID: "c", FirstSeen: at("2026-01-31 10:00:00")}
	model := func(a engine.AWURow, m string) AWUModelRow {
		return AWUModelRow{TenantID: a.TenantID, WorkcycleID: a.WorkcycleID, AWUID: a.AWUID, Model: m, FirstSeen: a.FirstSeen}
	}
	orphan := AWUModelRow{TenantID: "t", WorkcycleID: "w", AWUID: "a", Model: "m", FirstSeen: at("2026-01-29 08:00:00")}
	b := Batch{
		AWUs:      []engine.AWURow{spread, single},
		AWUModels: []AWUModelRow{orphan, model(spread, "m1"), model(spread, "m2"), model(single, "m1")},
	}
	var got []string
	for _, r := range awuDaysOf([]Batch{b}) {
		what := "awu"
		id := ""
		if r.awu != nil {
			id = r.awu.AWUID
		} else {
			what, id = "model "+r.model.Model, r.model.AWUID
		}
		got = append(got, fmt.Sprintf("%s %s %s", id, what, r.day.Format(time.DateOnly)))
	}
	want := []string{
		"b awu 2026-01-30", "b awu 2026-02-01",
		"a model m 2026-01-29",
		"b model m1 2026-01-30", "b model m1 2026-02-01", "b model m2 2026-01-30", "b model m2 2026-02-01",
		"c awu 2026-01-31", "c model m1 2026-01-31",
	}
	if !slices.Equal(got, want) {
		t.Errorf("awu_days rows\n%q\nwant\n%q", got, want)
	}
}
