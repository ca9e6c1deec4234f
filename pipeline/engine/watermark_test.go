package engine_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/awumeter/awumeter/pipeline/engine"
	"github.com/awumeter/awumeter/pipeline/event"
)

// skewed is 23 h 50 min ahead of t0: inside the decoders' 24 h future
// bound, the outlier of issue 11.
var skewed = t0.Add(23*time.Hour + 50*time.Minute)

// openPartition returns an engine (default configuration) holding 60 open
// workcycles with events from t0 to t0+2m, 10 of them completed at t0+100s
// and waiting out their settle delay, and the offset of its next event.
func openPartition(t *testing.T) (*engine.Engine, []string, int64) {
	t.Helper()
	e, err := engine.New(engine.DefaultConfig(), engine.Settings{})
	if err != nil {
		t.Fatal(err)
	}
	var evs []event.Event
	var ids []string
	for i := range 60 {
		b := &builder{tenant: "t", wc: fmt.Sprintf("wc-%02d", i)}
		ids = append(ids, b.wc)
		evs = append(evs, b.phase(i, event.PhaseStarted, ""), b.tokens(60+i, "u", 1, "gemini-3-flash", 100, 10))
		if i < 10 {
			evs = append(evs, b.phase(100, event.PhaseCompleted, "resolved"))
		}
	}
	for i := range withOffsets(evs) {
		if _, err := e.Apply(&evs[i]); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(e.Emit().Workcycles); n != 0 {
		t.Fatalf("%d workcycles emitted before the outlier, want none", n)
	}
	return e, ids, int64(len(evs))
}

// applyAt applies one started event of workcycle wc at time tm.
func applyAt(t *testing.T, e *engine.Engine, off *int64, wc string, tm time.Time) {
	t.Helper()
	ev := event.Event{EventID: fmt.Sprintf("%s-x%d", wc, *off), Type: event.TypeWorkcycle, Phase: event.PhaseStarted,
		Time: tm, TenantID: "t", WorkcycleID: wc, Source: event.Position{Offset: *off}}
	*off++
	if _, err := e.Apply(&ev); err != nil {
		t.Fatal(err)
	}
}

func emittedIDs(r engine.Rows) []string {
	var ids []string
	for _, w := range r.Workcycles {
		ids = append(ids, w.WorkcycleID)
	}
	return ids
}

func TestOneEventFarAheadDoesNotDragTheWatermark(t *testing.T) {
	t.Run("an event of a new workcycle 23h50m ahead closes no open workcycle", func(t *testing.T) {
		e, _, off := openPartition(t)
		wm := e.Watermark()
		applyAt(t, e, &off, "skewed", skewed)
		if got := emittedIDs(e.Emit()); len(got) != 0 {
			t.Fatalf("the outlier closed %d open workcycles early: %v", len(got), got)
		}
		if !e.Watermark().Equal(wm) {
			t.Errorf("watermark moved from %s to %s", wm, e.Watermark())
		}
	})
	t.Run("an event of an open workcycle 23h50m ahead closes no other", func(t *testing.T) {
		e, _, off := openPartition(t)
		applyAt(t, e, &off, "wc-42", skewed)
		if got := emittedIDs(e.Emit()); len(got) != 0 {
			t.Fatalf("the outlier closed %d open workcycles early: %v", len(got), got)
		}
	})
	t.Run("a genuinely advancing stream still closes the workcycles", func(t *testing.T) {
		e, ids, off := openPartition(t)
		applyAt(t, e, &off, "skewed", skewed)
		e.Emit()
		// 40 minutes on, two new workcycles: every original one is idle.
		applyAt(t, e, &off, "later-1", t0.Add(40*time.Minute))
		applyAt(t, e, &off, "later-2", t0.Add(40*time.Minute+time.Second))
		got := emittedIDs(e.Emit())
		if !slices.Equal(got, ids) {
			t.Fatalf("emitted %v, want the 60 original workcycles and no other", got)
		}
		if want := t0.Add(40*time.Minute + time.Second - time.Minute); !e.Watermark().Equal(want) {
			t.Errorf("watermark %s, want %s (the latest corroborated time minus lateness)", e.Watermark(), want)
		}
	})
	t.Run("a second workcycle near the outlier corroborates it", func(t *testing.T) {
		e, ids, off := openPartition(t)
		applyAt(t, e, &off, "skewed", skewed)
		applyAt(t, e, &off, "also-skewed", skewed.Add(-time.Minute))
		if got := emittedIDs(e.Emit()); !slices.Equal(got, ids) {
			t.Fatalf("emitted %v, want the 60 original workcycles", got)
		}
		if want := skewed.Add(-time.Minute); !e.Watermark().Equal(want) {
			t.Errorf("watermark %s, want %s", e.Watermark(), want)
		}
	})
	t.Run("a workcycle ahead by less than the corroboration window moves the watermark alone", func(t *testing.T) {
		e, ids, off := openPartition(t)
		applyAt(t, e, &off, "next", t0.Add(14*time.Minute)) // 11m58s ahead of wc-59
		if want := t0.Add(13 * time.Minute); !e.Watermark().Equal(want) {
			t.Errorf("watermark %s, want %s", e.Watermark(), want)
		}
		if got := emittedIDs(e.Emit()); !slices.Equal(got, ids[:10]) {
			t.Fatalf("emitted %v, want the 10 completed workcycles", got)
		}
	})
	t.Run("one workcycle alone does not set the watermark", func(t *testing.T) {
		e, err := engine.New(engine.DefaultConfig(), engine.Settings{})
		if err != nil {
			t.Fatal(err)
		}
		var off int64
		applyAt(t, e, &off, "first", skewed)
		if !e.Watermark().IsZero() {
			t.Fatalf("watermark %s after one workcycle, want none", e.Watermark())
		}
		applyAt(t, e, &off, "second", t0)
		if want := t0.Add(-time.Minute); !e.Watermark().Equal(want) {
			t.Fatalf("watermark %s, want %s: the outlier seen first must not set it", e.Watermark(), want)
		}
	})
}
