package engine_test

import (
	"strconv"
	"testing"

	"github.com/awumeter/awumeter/pipeline/engine"
	"github.com/awumeter/awumeter/pipeline/event"
)

// applyAll applies evs, which must carry offsets, and fails on any error.
func applyEvents(t *testing.T, e *engine.Engine, evs ...event.Event) {
	t.Helper()
	for i := range evs {
		if _, err := e.Apply(&evs[i]); err != nil {
			t.Fatal(err)
		}
	}
}

func offsets(from int64, evs ...event.Event) []event.Event {
	for i := range evs {
		evs[i].Source = event.Position{Topic: "telemetry", Offset: from + int64(i)}
	}
	return evs
}

// A workcycle with no completed event is visible at once through EmitOpen:
// an open row at the count of its events, a state row the first time only,
// and only the AWUs that changed. The committed offset moves past it, and
// the closing rule still gives the closed row.
func TestEmitOpenGivesProvisionalRowsOfChangedWorkcyclesOnly(t *testing.T) {
	e := newEngine(t, nil)
	b := &builder{tenant: "t", wc: "w"}
	o := &builder{tenant: "t", wc: "other"} // moves the watermark
	applyEvents(t, e, offsets(0,
		b.tokens(0, "a1", 1, "gemini-3-flash", 100, 10),
		b.tool(1, "a2", 1, event.StatusSucceeded, event.ChannelText),
		o.tokens(2, "x", 1, "gemini-3-flash", 1, 1))...)

	if r := e.Emit(); r.Len() != 0 {
		t.Fatalf("Emit gave %d rows before any closing rule", r.Len())
	}
	if lw, _ := e.ResumeOffset(); lw != 0 {
		t.Fatalf("resume offset %d before EmitOpen, want 0", lw)
	}
	r := e.EmitOpen()
	if len(r.Workcycles) != 2 || len(r.AWUs) != 3 || len(r.States) != 2 {
		t.Fatalf("EmitOpen: %d workcycle, %d AWU and %d state rows, want 2, 3 and 2", len(r.Workcycles), len(r.AWUs), len(r.States))
	}
	w := r.Workcycles[1]
	if w.WorkcycleID != "w" || w.State != engine.StateOpen || w.Version != 2 || w.AWUs != 2 || w.InputTokens != 100 {
		t.Fatalf("provisional row %+v", w)
	}
	if s := r.States[1]; s != (engine.StateRow{TenantID: "t", WorkcycleID: "w", Open: true, Version: 2}) {
		t.Fatalf("state row %+v", s)
	}
	if lw, _ := e.ResumeOffset(); lw != 3 {
		t.Fatalf("resume offset %d after EmitOpen, want 3 (past every event)", lw)
	}
	if r := e.EmitOpen(); r.Len() != 0 {
		t.Fatalf("EmitOpen without new events gave %d rows", r.Len())
	}

	// A second attempt of a2 only: one workcycle row, one AWU row, no
	// second state row.
	applyEvents(t, e, offsets(3, b.tool(3, "a2", 2, event.StatusSucceeded, event.ChannelText))...)
	r = e.EmitOpen()
	if len(r.Workcycles) != 1 || len(r.AWUs) != 1 || r.AWUs[0].AWUID != "a2" || len(r.States) != 0 {
		t.Fatalf("second EmitOpen: %+v", r)
	}
	if w := r.Workcycles[0]; w.Version != 3 || w.Attempts != 3 || w.State != engine.StateOpen {
		t.Fatalf("second provisional row %+v", w)
	}

	// The idle timeout closes it: a closed row of the same version and a
	// closed state row; no AWU changed, so no AWU row.
	e.AdvanceTo(at(3 + 60*60))
	r = e.EmitOpen()
	var closed *engine.WorkcycleRow
	for i := range r.Workcycles {
		if r.Workcycles[i].WorkcycleID == "w" {
			closed = &r.Workcycles[i]
		}
	}
	if closed == nil || closed.State != engine.StateClosed || closed.Version != 3 {
		t.Fatalf("closing rows %+v", r.Workcycles)
	}
	for _, a := range r.AWUs {
		if a.WorkcycleID == "w" {
			t.Fatalf("closing re-emitted unchanged AWU %s", a.AWUID)
		}
	}
	if !hasState(r.States, engine.StateRow{TenantID: "t", WorkcycleID: "w", Version: 3}) {
		t.Fatalf("no closed state row: %+v", r.States)
	}
}

func hasState(rows []engine.StateRow, want engine.StateRow) bool {
	for _, s := range rows {
		if s == want {
			return true
		}
	}
	return false
}

// A workcycle rebuilt from the ledger whose replayed events are duplicates
// gets no provisional row: a closed row of the same version may be stored,
// and an open one landing after it would read as reopened.
func TestRebuiltWorkcycleWithOnlyDuplicatesWaitsForItsClosingRule(t *testing.T) {
	b := &builder{tenant: "t", wc: "w"}
	evs := offsets(0, b.tokens(0, "a1", 1, "gemini-3-flash", 100, 10), b.phase(1, event.PhaseCompleted, "resolved"))
	ledger := engine.NewMemoryHistory()
	for i := range evs {
		ledger.Add(&evs[i])
	}
	e := newEngine(t, ledger)
	applyEvents(t, e, offsets(0, evs[0])...) // a replayed duplicate
	if r := e.EmitOpen(); r.Len() != 0 {
		t.Fatalf("EmitOpen gave %+v for a rebuilt workcycle without new events", r)
	}
	// A new event makes it provisional again, at a higher version, and
	// since it was rebuilt (an earlier owner may have left an open state
	// row) its closing writes a closed state row.
	applyEvents(t, e, offsets(1, b.tool(2, "a2", 1, event.StatusFailed, event.ChannelText))...)
	r := e.EmitOpen()
	if len(r.Workcycles) != 1 || r.Workcycles[0].State != engine.StateOpen || r.Workcycles[0].Version != 3 {
		t.Fatalf("EmitOpen after a new event: %+v", r.Workcycles)
	}
	e.AdvanceTo(at(2 + 60))
	r = e.Emit()
	if len(r.Workcycles) != 1 || r.Workcycles[0].State != engine.StateClosed ||
		!hasState(r.States, engine.StateRow{TenantID: "t", WorkcycleID: "w", Version: 3}) {
		t.Fatalf("closing: %+v", r)
	}
}

// Restore brings back a workcycle an earlier owner emitted open: it holds
// nothing back, and its closing rule emits the closed row with every AWU
// and a closed state row.
func TestRestoredWorkcycleClosesWithEveryRow(t *testing.T) {
	b := &builder{tenant: "t", wc: "w"}
	stored := offsets(0, b.tokens(0, "a1", 1, "gemini-3-flash", 100, 10), b.tool(5, "a2", 1, event.StatusSucceeded, event.ChannelText))
	e := newEngine(t, nil)
	if !e.Restore("t", "w", stored) {
		t.Fatal("not restored")
	}
	if e.Restore("t", "w", stored) || e.Restore("t", "none", nil) {
		t.Fatal("restored a held workcycle, or one without events")
	}
	if _, ok := e.ResumeOffset(); ok {
		t.Fatal("a restored workcycle holds a resume offset")
	}
	if r := e.EmitOpen(); r.Len() != 0 {
		t.Fatalf("EmitOpen of a restored workcycle without new events: %+v", r)
	}
	e.AdvanceTo(at(5 + 60*60))
	r := e.Emit()
	if len(r.Workcycles) != 1 || r.Workcycles[0].State != engine.StateClosed || r.Workcycles[0].Version != 2 ||
		len(r.AWUs) != 2 || !hasState(r.States, engine.StateRow{TenantID: "t", WorkcycleID: "w", Version: 2}) {
		t.Fatalf("closing a restored workcycle: %+v", r)
	}
	if st := e.Stats(); st.Restored != 1 {
		t.Fatalf("Stats.Restored = %d", st.Restored)
	}
}

// Over engine.max_state_bytes, EmitOpen closes early the open workcycles it
// was about to emit provisionally: each appears once, closed.
func TestEmitOpenOverTheBudgetEmitsEachWorkcycleOnce(t *testing.T) {
	cfg := engine.DefaultConfig()
	cfg.MaxStateBytes = engine.MinMaxStateBytes
	e, err := engine.New(cfg, engine.Settings{})
	if err != nil {
		t.Fatal(err)
	}
	var evs []event.Event
	for i := range 400 {
		b := &builder{tenant: "t", wc: "w" + strconv.Itoa(i)}
		evs = append(evs, b.tokens(i, "a", 1, "gemini-3-flash", 10, 1))
	}
	applyEvents(t, e, offsets(0, evs...)...)
	r := e.EmitOpen()
	seen := map[string]bool{}
	closed := 0
	for _, w := range r.Workcycles {
		if seen[w.WorkcycleID] {
			t.Fatalf("workcycle %s emitted twice", w.WorkcycleID)
		}
		seen[w.WorkcycleID] = true
		if w.State == engine.StateClosed {
			closed++
		}
	}
	if len(seen) != 400 || closed == 0 || e.Stats().EmittedEarly != int64(closed) {
		t.Fatalf("%d workcycles emitted, %d closed early, stats %+v", len(seen), closed, e.Stats())
	}
}

// Open workcycles whose rows are stored (restored here; emitted
// provisionally alike) hold no pending changes, yet over
// engine.max_state_bytes they are closed early and evicted like the
// others: each emits its closed row once, with a closed state row.
func TestOpenWorkcyclesWithStoredRowsAreClosedEarlyOverTheBudget(t *testing.T) {
	cfg := engine.DefaultConfig()
	cfg.MaxStateBytes = engine.MinMaxStateBytes
	e, err := engine.New(cfg, engine.Settings{})
	if err != nil {
		t.Fatal(err)
	}
	const n = 400
	for i := range n {
		b := &builder{tenant: "t", wc: "w" + strconv.Itoa(i)}
		if !e.Restore("t", b.wc, offsets(0, b.tokens(i, "a", 1, "gemini-3-flash", 10, 1), b.tokens(i, "b", 1, "gemini-3-flash", 10, 1))) {
			t.Fatalf("workcycle %d not restored", i)
		}
	}
	if st := e.Stats(); st.HeldBytes <= cfg.MaxStateBytes {
		t.Fatalf("%d bytes held by %d restored workcycles: not over the budget, the test proves nothing", st.HeldBytes, n)
	}
	r := e.Emit()
	seen := map[string]bool{}
	for _, w := range r.Workcycles {
		if seen[w.WorkcycleID] || w.State != engine.StateClosed || w.Version != 2 {
			t.Fatalf("row %+v (seen before: %t)", w, seen[w.WorkcycleID])
		}
		seen[w.WorkcycleID] = true
		if !hasState(r.States, engine.StateRow{TenantID: "t", WorkcycleID: w.WorkcycleID, Version: 2}) {
			t.Fatalf("no closed state row for %s", w.WorkcycleID)
		}
	}
	st := e.Stats()
	if len(seen) == 0 || st.EmittedEarly != int64(len(seen)) || st.HeldBytes > cfg.MaxStateBytes {
		t.Fatalf("%d closed early; stats %+v", len(seen), st)
	}
}
