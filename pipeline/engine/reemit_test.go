package engine_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/awumeter/awumeter/pipeline/engine"
	"github.com/awumeter/awumeter/pipeline/event"
)

// The input: one workcycle of 20,000 AWUs, emitted, then 500 late
// events one at a time, each followed by an emission. Rewriting every AWU
// on every re-emission wrote 10,020,000 AWU rows; only the AWU a late event
// changed needs a row.
func TestReEmissionWritesOnlyChangedAWUs(t *testing.T) {
	const awus, late = 20000, 500
	b := &builder{tenant: "t", wc: "big"}
	var evs []event.Event
	for i := range awus {
		evs = append(evs, b.tokens(i%60, fmt.Sprintf("a%05d", i), 1, "gemini-3-flash", 100, 10))
	}
	for i := range late {
		// A second attempt of every 40th AWU, from within the workcycle's span.
		evs = append(evs, b.tokens(30, fmt.Sprintf("a%05d", i*40), 2, "gemini-3-flash", 7, 1))
	}
	withOffsets(evs)

	e := newEngine(t, nil)
	all := engine.NewFinal()
	var wcRows, awuRows, modelRows int
	count := func(r engine.Rows) {
		all.Add(r)
		for _, w := range r.Workcycles {
			if w.WorkcycleID == "big" {
				wcRows++
			}
		}
		awuRows += len(r.AWUs)
		modelRows += len(r.AWUModels)
	}
	for i := range evs {
		if o, err := e.Apply(&evs[i]); err != nil || !o.Accepted() {
			t.Fatalf("event %d: %v, %v", i, o, err)
		}
		if i == awus-1 {
			e.AdvanceTo(at(3600)) // closes the workcycle
		}
		if i >= awus-1 || i%1000 == 999 {
			count(e.Emit())
		}
	}
	if wcRows != 1+late {
		t.Fatalf("the workcycle was emitted %d times, want once and once per late event (%d)", wcRows, 1+late)
	}
	count(e.Flush())
	if awuRows != awus+late || modelRows != awus+late {
		t.Errorf("wrote %d AWU rows and %d AWU model rows, want %d of each", awuRows, modelRows, awus+late)
	}

	// The rows FINAL keeps are those of one emission at the end.
	once := newEngine(t, nil)
	for i := range evs {
		if _, err := once.Apply(&evs[i]); err != nil {
			t.Fatal(err)
		}
	}
	sameRows(t, "FINAL of every emission vs one emission at the end", all.Rows(), once.Flush())
	got := all.Rows()
	w := got.Workcycles[0]
	if w.WorkcycleID != "big" || w.AWUs != awus || w.Attempts != awus+late || w.Retries != late ||
		w.InputTokens != awus*100+late*7 || w.Version != awus+late {
		t.Errorf("workcycle row %+v", w)
	}
}

// An AWU row's version is a function of the AWU's own events: 2^32 plus
// their number, whatever else its workcycle receives.
func TestAWUVersionCountsTheAWUsOwnEvents(t *testing.T) {
	b := &builder{tenant: "t", wc: "wc"}
	evs := withOffsets([]event.Event{
		b.tokens(0, "x", 1, "gemini-3-flash", 100, 10),
		b.tool(1, "y", 1, event.StatusSucceeded, event.ChannelText),
		b.tool(2, "y", 2, event.StatusValidated, event.ChannelText),
		b.phase(3, event.PhaseCompleted, "resolved"),
	})
	s := runAll(t, evs, 1)
	rows := final(t, s)
	want := map[string]uint64{"x": 1<<32 + 1, "y": 1<<32 + 2}
	for _, a := range rows.AWUs {
		if a.Version != want[a.AWUID] {
			t.Errorf("AWU %s version %d, want %d", a.AWUID, a.Version, want[a.AWUID])
		}
	}
	if rows.AWUModels[0].Version != 1<<32+1 || rows.Workcycles[0].Version != 4 {
		t.Errorf("model row version %d, workcycle version %d; want %d and 4", rows.AWUModels[0].Version, rows.Workcycles[0].Version, uint64(1<<32+1))
	}
	// x's row was written once: the later events of y and of the workcycle
	// did not change it.
	n := 0
	for _, a := range s.awus {
		if a.AWUID == "x" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("AWU x was written %d times, want once", n)
	}
}

// The property behind writing only what changed: whatever the order,
// duplication, emission timing, crashes and replays, FINAL over every
// emission equals the rows of a single emission after all events (what
// `awumeter process --final-only` reads), row for row and version for
// version.
func TestFinalOfAllEmissionsEqualsOneFinalEmission(t *testing.T) {
	base := stream(t, genConfig(31, 250))
	rng := rand.New(rand.NewPCG(31, 5))
	for trial := range 9 {
		evs := slices.Clone(base)
		var what string
		switch trial % 3 {
		case 0:
			what = "random permutation"
			rng.Shuffle(len(evs), func(i, j int) { evs[i], evs[j] = evs[j], evs[i] })
		case 1:
			what = "random duplication"
			evs = duplicate(rng, evs)
		case 2:
			what = "crash and replay"
		}
		withOffsets(evs)
		// The reference: no emission until every event is in.
		want := newEngine(t, nil)
		for i := range evs {
			if _, err := want.Apply(&evs[i]); err != nil {
				t.Fatal(err)
			}
		}
		wantRows := want.Flush()

		emitEvery := 1 + rng.IntN(40)
		var s *sink
		if trial%3 == 2 {
			s = crashAndReplay(t, evs, rng.IntN(len(evs)), emitEvery, rng)
		} else {
			s = runAll(t, evs, emitEvery)
		}
		f := engine.NewFinal()
		f.Add(engine.Rows{Workcycles: s.wcs, AWUs: s.awus, AWUModels: s.models})
		name := fmt.Sprintf("trial %d, %s, emitting every %d events", trial, what, emitEvery)
		sameRows(t, name, f.Rows(), wantRows)
		sameRows(t, name+" (no two rows of one key and version differ)", final(t, s), wantRows)
	}
}

// crashAndReplay runs an engine up to the event at crash, committing its low
// watermark after some emissions, then replays from the last commit on a
// fresh engine with the ledger, as the service does after a kill -9.
func crashAndReplay(t *testing.T, evs []event.Event, crash, emitEvery int, rng *rand.Rand) *sink {
	t.Helper()
	s := newSink(t)
	e := newEngine(t, s.ledger)
	committed := int64(0)
	for i := 0; i < crash; i++ {
		o, err := e.Apply(&evs[i])
		if err != nil {
			t.Fatal(err)
		}
		if o.Accepted() {
			s.ledger.Add(&evs[i])
		}
		if i%emitEvery == emitEvery-1 {
			s.add(e.Emit())
			if rng.IntN(3) > 0 {
				committed, _ = e.ResumeOffset()
			}
		}
	}
	replay := newEngine(t, s.ledger)
	s.feed(t, replay, evs[committed:], emitEvery)
	s.add(replay.Flush())
	return s
}

// An AWU row names every UTC day its events fall on, whatever their order,
// so that a late event moving the AWU to an earlier day also refreshes the
// day it leaves; an AWU within one day names none.
func TestAWURowsNameTheDaysOfTheirEvents(t *testing.T) {
	const day = 24 * 3600
	b := &builder{tenant: "t", wc: "w"}
	d0 := int32(t0.Unix() / day)
	evs := withOffsets([]event.Event{
		b.tokens(10, "one-day", 1, "gemini-3-flash", 1, 1),
		b.tokens(20, "one-day", 2, "gemini-3-flash", 1, 1),
		b.tokens(2*day, "spread", 1, "gemini-3-flash", 1, 1),
		b.tokens(2*day+5, "spread", 2, "gemini-3-flash", 1, 1),
		b.tokens(0, "spread", 3, "gemini-3-flash", 1, 1), // late: moves first_seen two days back
		b.tokens(day, "spread", 4, "gemini-3-flash", 1, 1),
	})
	_, awus := runRules(t, evs...)
	if got := awus["one-day"]; got.EventDays != nil || got.FirstSeen.Unix()/day != int64(d0) {
		t.Errorf("one-day AWU: EventDays %v, first seen %s; want nil, day %d", got.EventDays, got.FirstSeen, d0)
	}
	want := []int32{d0, d0 + 1, d0 + 2}
	if got := awus["spread"]; !slices.Equal(got.EventDays, want) {
		t.Errorf("spread AWU: EventDays %v; want %v", got.EventDays, want)
	}
	if t0.Unix()%day > day-30 {
		t.Fatal("t0 must leave room for the one-day AWU's events within its day")
	}
}
