package engine_test

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/awumeter/awumeter/internal/gen/truth"
	"github.com/awumeter/awumeter/pipeline/engine"
	"github.com/awumeter/awumeter/pipeline/event"
	"github.com/awumeter/awumeter/pipeline/price"
)

// heapAfterGC is the live heap in bytes.
func heapAfterGC() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// longLabelsEvent is a token_usage event of workcycle i whose agent id and
// provider, both interned by the engine (the provider in a shared usage
// key), are unique strings of n/2 bytes each. Its strings are built fresh,
// as a decoder's are, so only what the engine keeps stays reachable. (The
// model is a known one: the price book caches the names it resolves, by
// count, which is its own matter; decode.max_label_bytes bounds them.)
func longLabelsEvent(i, n int) event.Event {
	long := func(what string) string {
		p := fmt.Sprintf("%s-%06d-", what, i)
		return p + strings.Repeat("x", n/2-len(p))
	}
	return event.Event{
		EventID: fmt.Sprintf("e-%d", i), Type: event.TypeTokenUsage, Time: at(i % 60),
		TenantID: "t", WorkcycleID: fmt.Sprintf("wc-%d", i), AgentID: long("agent"),
		AWUID: "u", Attempt: 1, Model: "gemini-3-flash", Provider: long("provider"), InputTokens: 10, OutputTokens: 5,
		Source: event.Position{Offset: int64(i)},
	}
}

// TestEvictedWorkcyclesReleaseTheirStrings is the measured case of issue 11:
// 2,000 workcycles with 100 KB of interned labels each (there, model names)
// left hundreds of MB held after all of them were evicted, because
// interned strings and usage keys outlived their workcycles.
func TestEvictedWorkcyclesReleaseTheirStrings(t *testing.T) {
	const workcycles, labelBytes = 2000, 100 << 10 // 200 MB of labels in all
	before := heapAfterGC()
	e, err := engine.New(engine.DefaultConfig(), engine.Settings{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range workcycles {
		ev := longLabelsEvent(i, labelBytes)
		if o, err := e.Apply(&ev); err != nil || o != engine.OutcomeAccepted {
			t.Fatalf("event %d: %v, %v", i, o, err)
		}
		if i%100 == 99 {
			e.Emit()
		}
	}
	e.AdvanceTo(at(3600)) // every workcycle goes idle and is emitted
	if n := len(e.Emit().Workcycles); n != workcycles {
		t.Fatalf("%d workcycles emitted, want %d", n, workcycles)
	}
	e.AdvanceTo(at(7200)) // and its retention ends
	e.Emit()
	if st := e.Stats(); st.Held != 0 || st.EventIDs != 0 {
		t.Fatalf("%d workcycles and %d event ids held after eviction, want none", st.Held, st.EventIDs)
	}
	after := heapAfterGC()
	const bound = 16 << 20 // generous: the labels alone are 200 MB
	if after > before && after-before > bound {
		t.Errorf("the engine holds %d MB after every workcycle was evicted, want under %d MB", (after-before)>>20, bound>>20)
	}
	runtime.KeepAlive(e)
}

// TestPoolSharesStringsOnlyWhileTheyAreUsed checks the reference counts of
// interned values: a value shared by two workcycles stays while one of them
// is held and goes with the last.
func TestPoolSharesStringsOnlyWhileTheyAreUsed(t *testing.T) {
	e, err := engine.New(engine.DefaultConfig(), engine.Settings{})
	if err != nil {
		t.Fatal(err)
	}
	a := &builder{tenant: "t", wc: "a"}
	b := &builder{tenant: "t", wc: "b"}
	evs := withOffsets([]event.Event{
		a.tokens(0, "u", 1, "private-model", 10, 5),
		a.phase(1, event.PhaseCompleted, "resolved"),
		b.tokens(600, "u", 1, "private-model", 10, 5),
		b.tool(601, "v", 1, event.StatusSucceeded, event.ChannelText),
	})
	for i := range evs {
		if _, err := e.Apply(&evs[i]); err != nil {
			t.Fatal(err)
		}
	}
	// Shared: tenant t, agent-1, private-model, the usage key, resolved,
	// crm.update_case; a holds four of them, b five.
	if got := e.Stats().InternedValues; got != 6 {
		t.Fatalf("%d interned values, want 6", got)
	}
	e.AdvanceTo(at(1200)) // a closes (settle) and is evicted at 1200 + 15m
	e.Emit()
	e.AdvanceTo(at(1200 + 15*60))
	e.Emit()
	if st := e.Stats(); st.Held != 1 || st.InternedValues != 5 {
		t.Fatalf("after evicting a: %d held, %d interned values; want 1 and 5 (resolved goes)", st.Held, st.InternedValues)
	}
	e.AdvanceTo(at(10000))
	e.Emit()
	e.AdvanceTo(at(20000))
	e.Emit()
	if st := e.Stats(); st.Held != 0 || st.InternedValues != 0 || st.HeldBytes != 0 {
		t.Fatalf("after evicting both: %d held, %d interned values, %d bytes; want none", st.Held, st.InternedValues, st.HeldBytes)
	}
}

// TestStateStaysWithinTheByteBudget runs a generated stream with a budget
// far below its working set: Emit must keep the estimate under the budget
// by evicting retained workcycles and emitting open ones early, and the
// final rows must equal the independent truth and an unlimited engine's.
func TestStateStaysWithinTheByteBudget(t *testing.T) {
	evs := stream(t, genConfig(31, 1500))
	want := truth.AllRows(evs, price.Default())
	run := func(budget int64) (*sink, engine.Stats) {
		s := newSink(t)
		cfg := engine.DefaultConfig()
		cfg.IdleTimeout, cfg.ClosedRetention, cfg.MaxStateBytes = 10*time.Minute, 5*time.Minute, budget
		e, err := engine.New(cfg, engine.Settings{History: s.ledger})
		if err != nil {
			t.Fatal(err)
		}
		for i := range evs {
			o, err := e.Apply(&evs[i])
			if err != nil {
				t.Fatalf("apply event %d: %v", i, err)
			}
			if o.Accepted() {
				s.ledger.Add(&evs[i])
			}
			if i%25 == 24 {
				s.add(e.Emit())
				if st := e.Stats(); st.HeldBytes > budget {
					t.Fatalf("budget %d: %d bytes held after an Emit", budget, st.HeldBytes)
				}
			}
		}
		s.add(e.Flush())
		return s, e.Stats()
	}
	unlimited, ust := run(1 << 62)
	if ust.BudgetEvictions != 0 {
		t.Fatalf("unlimited budget: %d budget evictions", ust.BudgetEvictions)
	}
	sameRows(t, "unlimited budget vs truth", final(t, unlimited), want)

	const tiny = engine.MinMaxStateBytes
	limited, st := run(tiny)
	if st.EmittedEarly == 0 || st.BudgetEvictions <= st.EmittedEarly {
		t.Fatalf("budget %d: %d budget evictions, %d emitted early; want both kinds", tiny, st.BudgetEvictions, st.EmittedEarly)
	}
	if st.HistoryRebuilds == 0 {
		t.Fatal("no workcycle was rebuilt from History; the budget did not bite")
	}
	sameRows(t, "tiny budget vs truth", final(t, limited), want)
	sameRows(t, "tiny budget vs unlimited", final(t, limited), final(t, unlimited))
	t.Logf("budget %d: %d evictions (%d emitted early), %d rebuilds, %d rows vs %d unlimited",
		tiny, st.BudgetEvictions, st.EmittedEarly, st.HistoryRebuilds, len(limited.wcs), len(unlimited.wcs))
}

// TestHeldBytesEstimateTracksTheHeap checks the estimate behind
// engine.max_state_bytes against the heap: for typical open workcycles it
// must be within a factor of two of what they really hold.
func TestHeldBytesEstimateTracksTheHeap(t *testing.T) {
	const open = 20000
	before := heapAfterGC()
	e, err := engine.New(engine.DefaultConfig(), engine.Settings{})
	if err != nil {
		t.Fatal(err)
	}
	var off int64
	for i := range open {
		typicalWorkcycle(e, i, &off)
	}
	heap := int64(heapAfterGC() - before)
	est := e.Stats().HeldBytes
	if est < heap/2 || est > 2*heap {
		t.Errorf("estimate %d bytes (%d per workcycle), heap %d bytes (%d per workcycle): not within a factor of two",
			est, est/open, heap, heap/open)
	}
	t.Logf("estimate %d bytes per workcycle, heap %d", est/open, heap/open)
	runtime.KeepAlive(e)
}

// TestEvictingABurstReturnsItsMemory holds a burst of open workcycles,
// closes and evicts them all, and checks that the engine gives the heap
// back: the id set, the workcycle map and the recycled arrays must not stay
// at the size of the burst.
func TestEvictingABurstReturnsItsMemory(t *testing.T) {
	const open = 50_000
	before := heapAfterGC()
	e, err := engine.New(engine.DefaultConfig(), engine.Settings{})
	if err != nil {
		t.Fatal(err)
	}
	var off int64
	for i := range open {
		typicalWorkcycle(e, i, &off)
	}
	peak := heapAfterGC() - before
	e.AdvanceTo(t0.Add(24 * time.Hour))
	if n := len(e.Emit().Workcycles); n != open {
		t.Fatalf("%d workcycles emitted, want %d", n, open)
	}
	e.AdvanceTo(t0.Add(48 * time.Hour))
	e.Emit()
	if st := e.Stats(); st.Held != 0 || st.EventIDs != 0 {
		t.Fatalf("%d workcycles and %d event ids held, want none", st.Held, st.EventIDs)
	}
	after := heapAfterGC()
	if after > before && after-before > peak/10 {
		t.Errorf("the engine holds %d KB after evicting everything; the burst took %d KB, want under a tenth of it",
			(after-before)>>10, peak>>10)
	}
	t.Logf("burst %d KB, after eviction %d KB", peak>>10, (int64(after)-int64(before))>>10)
	runtime.KeepAlive(e)
}
