package engine_test

import (
	"cmp"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/awumeter/awumeter/internal/gen"
	"github.com/awumeter/awumeter/internal/gen/truth"
	"github.com/awumeter/awumeter/pipeline/engine"
	"github.com/awumeter/awumeter/pipeline/event"
	"github.com/awumeter/awumeter/pipeline/price"
)

// The invariant under test: the last version of every row depends only on
// the set of distinct valid events, never on order, duplication, partition
// assignment, restarts or timing, and equals the independent truth.

func genConfig(seed int64, workcycles int) gen.Config {
	c := gen.DefaultConfig()
	c.Seed = seed
	c.Workcycles = workcycles
	c.Span = 3 * time.Hour
	c.MalformedRate = 0
	return c
}

// stream returns the generated events in delivery order with offsets set.
func stream(t *testing.T, cfg gen.Config) []event.Event {
	t.Helper()
	s, err := gen.Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return withOffsets(s.Events())
}

func withOffsets(evs []event.Event) []event.Event {
	for i := range evs {
		evs[i].Source = event.Position{Topic: "telemetry", Offset: int64(i)}
	}
	return evs
}

// sink collects emitted rows and accepted events, as the ClickHouse sink
// does.
type sink struct {
	t      *testing.T
	wcs    []engine.WorkcycleRow
	awus   []engine.AWURow
	models []engine.AWUModelRow
	ledger *engine.MemoryHistory
}

func newSink(t *testing.T) *sink { return &sink{t: t, ledger: engine.NewMemoryHistory()} }

// add keeps the rows of one emission, after checking that its model rows
// are in key order and add up to its AWU rows.
func (s *sink) add(r engine.Rows) {
	s.t.Helper()
	checkModelSums(s.t, r)
	s.wcs = append(s.wcs, r.Workcycles...)
	s.awus = append(s.awus, r.AWUs...)
	s.models = append(s.models, r.AWUModels...)
}

// checkModelSums checks the per-model invariant of one emission: model rows
// are sorted by (tenant_id, workcycle_id, awu_id, model) without repeats,
// every one belongs to an AWU row of the emission with the same version,
// and each AWU's model rows sum exactly to its token counts, token_cost and
// unpriced_tokens.
func checkModelSums(t *testing.T, r engine.Rows) {
	t.Helper()
	for i := 1; i < len(r.AWUModels); i++ {
		a, b := &r.AWUModels[i-1], &r.AWUModels[i]
		if cmp.Or(cmp.Compare(a.TenantID, b.TenantID), cmp.Compare(a.WorkcycleID, b.WorkcycleID),
			cmp.Compare(a.AWUID, b.AWUID), cmp.Compare(a.Model, b.Model)) >= 0 {
			t.Fatalf("model rows out of order or repeated:\n%s\n%s", js(*a), js(*b))
		}
	}
	j := 0
	for i := range r.AWUs {
		a := &r.AWUs[i]
		var counts engine.TokenCounts
		cost := decimal.Zero
		var unpriced int64
		for ; j < len(r.AWUModels) && r.AWUModels[j].TenantID == a.TenantID &&
			r.AWUModels[j].WorkcycleID == a.WorkcycleID && r.AWUModels[j].AWUID == a.AWUID; j++ {
			m := &r.AWUModels[j]
			if m.Version != a.Version || m.AgentID != a.AgentID || m.Kind != a.Kind || m.Tool != a.Tool || !m.FirstSeen.Equal(a.FirstSeen) {
				t.Fatalf("model row does not carry its AWU's values:\nAWU   %s\nmodel %s", js(*a), js(*m))
			}
			if m.Model == "" {
				t.Fatalf("model row without a model: %s", js(*m))
			}
			counts.InputTokens += m.InputTokens
			counts.OutputTokens += m.OutputTokens
			counts.CacheReadInputTokens += m.CacheReadInputTokens
			counts.CacheCreationInputTokens += m.CacheCreationInputTokens
			counts.ReasoningTokens += m.ReasoningTokens
			cost = cost.Add(m.TokenCost)
			unpriced += m.UnpricedTokens
		}
		if counts != a.TokenCounts || !cost.Equal(a.TokenCost) || unpriced != a.UnpricedTokens {
			t.Fatalf("model rows of AWU %s/%s/%s sum to tokens %+v, cost %s, unpriced %d; the AWU row has %+v, %s, %d",
				a.TenantID, a.WorkcycleID, a.AWUID, counts, cost, unpriced, a.TokenCounts, a.TokenCost, a.UnpricedTokens)
		}
	}
	if j != len(r.AWUModels) {
		t.Fatalf("model row without an AWU row in the same emission: %s", js(r.AWUModels[j]))
	}
}

// feed applies events[from:to] to e, emitting every emitEvery events.
func (s *sink) feed(t *testing.T, e *engine.Engine, evs []event.Event, emitEvery int) {
	t.Helper()
	for i := range evs {
		o, err := e.Apply(&evs[i])
		if err != nil {
			t.Fatalf("apply event %d: %v", i, err)
		}
		if o.Accepted() {
			s.ledger.Add(&evs[i])
		}
		if emitEvery > 0 && i%emitEvery == emitEvery-1 {
			s.add(e.Emit())
		}
	}
}

func newEngine(t *testing.T, h engine.History) *engine.Engine {
	t.Helper()
	cfg := engine.DefaultConfig()
	cfg.IdleTimeout = 10 * time.Minute
	cfg.ClosedRetention = 5 * time.Minute
	e, err := engine.New(cfg, engine.Settings{History: h})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// runAll runs one engine over evs with a ledger as History and flushes.
func runAll(t *testing.T, evs []event.Event, emitEvery int) *sink {
	t.Helper()
	s := newSink(t)
	e := newEngine(t, s.ledger)
	s.feed(t, e, evs, emitEvery)
	s.add(e.Flush())
	return s
}

// final keeps the last version of every row and fails if two rows of the
// same key and version differ.
func final(t *testing.T, s *sink) engine.Rows {
	t.Helper()
	return engine.Rows{
		Workcycles: lastVersions(t, "workcycle", s.wcs,
			func(r engine.WorkcycleRow) [4]string { return [4]string{r.TenantID, r.WorkcycleID} },
			func(r engine.WorkcycleRow) uint64 { return r.Version }),
		AWUs: lastVersions(t, "AWU", s.awus,
			func(r engine.AWURow) [4]string { return [4]string{r.TenantID, r.WorkcycleID, r.AWUID} },
			func(r engine.AWURow) uint64 { return r.Version }),
		AWUModels: lastVersions(t, "AWU model", s.models,
			func(r engine.AWUModelRow) [4]string { return [4]string{r.TenantID, r.WorkcycleID, r.AWUID, r.Model} },
			func(r engine.AWUModelRow) uint64 { return r.Version }),
	}
}

// stateless is r without the one field that two rows of one version may
// differ in: a workcycle's state, open in a provisional row and closed in
// the closing row.
func stateless(r any) any {
	if w, ok := r.(engine.WorkcycleRow); ok {
		w.State = ""
		return w
	}
	return r
}

// lastVersions keeps the highest version of each key, sorted by key; of
// rows with one version, the last.
func lastVersions[R any](t *testing.T, what string, rows []R, key func(R) [4]string, version func(R) uint64) []R {
	t.Helper()
	last := map[[4]string]R{}
	for _, r := range rows {
		k := key(r)
		prev, ok := last[k]
		switch {
		case !ok || version(r) > version(prev):
			last[k] = r
		case version(r) == version(prev):
			if js(stateless(r)) != js(stateless(prev)) {
				t.Fatalf("two %s rows with version %d differ:\n%s\n%s", what, version(r), js(prev), js(r))
			}
			last[k] = r // the later insert wins, as in ReplacingMergeTree
		}
	}
	out := slices.Collect(mapValues(last))
	slices.SortFunc(out, func(a, b R) int {
		ka, kb := key(a), key(b)
		return slices.Compare(ka[:], kb[:])
	})
	return out
}

func mapValues[K comparable, V any](m map[K]V) func(func(V) bool) {
	return func(yield func(V) bool) {
		for _, v := range m {
			if !yield(v) {
				return
			}
		}
	}
}

func js(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// sameRows compares rows by their JSON form, in which equal decimals print
// alike.
func sameRows(t *testing.T, what string, got, want engine.Rows) {
	t.Helper()
	if len(got.Workcycles) != len(want.Workcycles) || len(got.AWUs) != len(want.AWUs) || len(got.AWUModels) != len(want.AWUModels) {
		t.Fatalf("%s: got %d workcycles, %d AWUs and %d AWU models, want %d, %d and %d", what,
			len(got.Workcycles), len(got.AWUs), len(got.AWUModels), len(want.Workcycles), len(want.AWUs), len(want.AWUModels))
	}
	sameJSON(t, what+": workcycle", got.Workcycles, want.Workcycles)
	sameJSON(t, what+": AWU", got.AWUs, want.AWUs)
	sameJSON(t, what+": AWU model", got.AWUModels, want.AWUModels)
}

func sameJSON[R any](t *testing.T, what string, got, want []R) {
	t.Helper()
	for i := range got {
		if g, w := js(got[i]), js(want[i]); g != w {
			t.Fatalf("%s row %d:\ngot  %s\nwant %s", what, i, g, w)
		}
	}
}

func TestEngineEqualsTruthOnGeneratedTelemetry(t *testing.T) {
	for seed := int64(1); seed <= 4; seed++ {
		t.Run(fmt.Sprintf("seed %d", seed), func(t *testing.T) {
			cfg := genConfig(seed, 300)
			cfg.ConflictRate = 0.01
			evs := stream(t, cfg)
			want := truth.AllRows(evs, price.Default())
			s := runAll(t, evs, 50)
			sameRows(t, "engine vs truth", final(t, s), want)
		})
	}
}

func TestFinalRowsIgnoreOrderAndDuplication(t *testing.T) {
	cfg := genConfig(7, 200)
	base := stream(t, cfg)
	want := truth.AllRows(base, price.Default())
	rng := rand.New(rand.NewPCG(7, 7))
	for trial := range 6 {
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
			what = "bounded reordering"
			for i := range evs {
				j := min(len(evs)-1, i+rng.IntN(30))
				evs[i], evs[j] = evs[j], evs[i]
			}
		}
		sameRows(t, what, final(t, runAll(t, withOffsets(evs), 1+rng.IntN(100))), want)
	}
}

func TestFinalRowsIgnorePartitionAssignment(t *testing.T) {
	evs := stream(t, genConfig(11, 200))
	want := truth.AllRows(evs, price.Default())
	const partitions = 4
	parts := make([][]event.Event, partitions)
	for _, ev := range evs {
		h := fnv.New32a()
		h.Write([]byte(ev.WorkcycleID)) // the record key
		p := h.Sum32() % partitions
		parts[p] = append(parts[p], ev)
	}
	all := newSink(t)
	for _, p := range parts {
		s := runAll(t, withOffsets(p), 20)
		all.wcs = append(all.wcs, s.wcs...)
		all.awus = append(all.awus, s.awus...)
		all.models = append(all.models, s.models...)
	}
	sameRows(t, "four partitions", final(t, all), want)
}

// TestCrashAndReplay runs an engine on a prefix, commits its resume offset
// now and then, "crashes" at a random point, and starts a fresh engine from
// the last committed offset with the ledger of everything accepted before
// the crash, as the service does after kill -9 between insert and commit.
func TestCrashAndReplay(t *testing.T) {
	evs := stream(t, genConfig(23, 300))
	want := truth.AllRows(evs, price.Default())
	rng := rand.New(rand.NewPCG(23, 1))
	for trial := range 8 {
		crash := rng.IntN(len(evs))
		emitEvery := 1 + rng.IntN(60)
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
				if rng.IntN(3) > 0 { // some commits are lost with the crash
					committed, _ = e.ResumeOffset()
				}
			}
		}
		if committed > int64(crash) {
			t.Fatalf("trial %d: committed offset %d beyond the crash at %d", trial, committed, crash)
		}
		replay := newEngine(t, s.ledger)
		s.feed(t, replay, evs[committed:], emitEvery)
		s.add(replay.Flush())
		sameRows(t, fmt.Sprintf("trial %d: crash at %d, replay from %d", trial, crash, committed), final(t, s), want)
		st := replay.Stats()
		t.Logf("trial %d: crash at %d of %d, replay from %d: %d history rebuilds, %d reopened, %d duplicates",
			trial, crash, len(evs), committed, st.HistoryRebuilds, st.Reopened, st.Duplicates)
	}
}

// duplicate inserts copies of a third as many events as evs holds, each
// after its original, as at-least-once delivery and replays do.
func duplicate(rng *rand.Rand, evs []event.Event) []event.Event {
	for range len(evs) / 3 {
		i := rng.IntN(len(evs))
		j := i + rng.IntN(len(evs)-i)
		evs = slices.Insert(evs, j, evs[i])
	}
	return evs
}

// TestCrashAndReplayWithProvisionalRows is TestCrashAndReplay with the
// service's provisional rows: EmitOpen now and then, so the committed low
// watermark moves past open workcycles. Each emission is a batch with the
// events accepted since the one before; batches are stored when their
// offsets are committed, and those after the last commit are stored or
// lost at random with the crash. The next owner restores every workcycle
// whose latest stored state row is open, then replays from the committed
// offset. The final rows must equal the truth, every one closed.
func TestCrashAndReplayWithProvisionalRows(t *testing.T) {
	evs := stream(t, genConfig(29, 300))
	want := truth.AllRows(evs, price.Default())
	rng := rand.New(rand.NewPCG(29, 1))
	var movedProvisional, movedClosing int64
	for trial := range 12 {
		crash := rng.IntN(len(evs))
		emitEvery := 1 + rng.IntN(60)
		s := newSink(t)
		states := map[[2]string]engine.StateRow{} // latest state row per workcycle
		store := func(b batch) {
			s.add(b.rows)
			for i := range b.events {
				s.ledger.Add(&b.events[i])
			}
			for _, st := range b.rows.States {
				k := [2]string{st.TenantID, st.WorkcycleID}
				if prev, ok := states[k]; !ok || stateRank(st) >= stateRank(prev) {
					states[k] = st
				}
			}
		}
		e := newEngine(t, s.ledger)
		committed := int64(0)
		var unacked []batch
		var pending []event.Event
		for i := 0; i < crash; i++ {
			o, err := e.Apply(&evs[i])
			if err != nil {
				t.Fatal(err)
			}
			if o.Accepted() {
				pending = append(pending, evs[i])
			}
			if i%emitEvery == emitEvery-1 {
				var rows engine.Rows
				if rng.IntN(2) == 0 {
					rows = e.EmitOpen()
				} else {
					rows = e.Emit()
				}
				unacked = append(unacked, batch{events: pending, rows: rows})
				pending = nil
				if rng.IntN(3) > 0 { // acknowledged and committed
					for _, b := range unacked {
						store(b)
					}
					unacked = nil
					committed, _ = e.ResumeOffset()
				}
			}
		}
		for _, b := range unacked { // the crash: some batches landed
			if rng.IntN(2) == 0 {
				store(b)
			}
		}
		replay := newEngine(t, s.ledger)
		restored := 0
		for k, st := range states {
			if st.Open {
				stored, _ := s.ledger.Events(k[0], k[1])
				if replay.Restore(k[0], k[1], stored) {
					restored++
				}
			}
		}
		s.feed(t, replay, evs[committed:], emitEvery)
		s.add(replay.Flush())
		name := fmt.Sprintf("trial %d: crash at %d, replay from %d", trial, crash, committed)
		sameRows(t, name, final(t, s), want)
		for _, w := range final(t, s).Workcycles {
			if w.State != engine.StateClosed {
				t.Fatalf("%s: workcycle %s ends %q", name, w.WorkcycleID, w.State)
			}
		}
		movedProvisional += committed
		t.Logf("%s: %d restored, %d history rebuilds", name, restored, replay.Stats().HistoryRebuilds)
	}
	_ = movedClosing
}

type batch struct {
	events []event.Event
	rows   engine.Rows
}

// stateRank orders state rows as the table does: by version, a closed row
// above an open one of the same version.
func stateRank(st engine.StateRow) uint64 {
	r := 2 * st.Version
	if !st.Open {
		r++
	}
	return r
}

// withOutcomeFields gives generated events the outcome fields of contract
// v1: human time, CSAT and resolved_by on completed events, by on rollback
// reports, and for one workcycle in four a second completed event at the
// same time with other fields, so that the tie-break is exercised.
func withOutcomeFields(evs []event.Event) []event.Event {
	var out []event.Event
	for _, ev := range evs {
		h := fnv.New32a()
		h.Write([]byte(ev.EventID))
		x := h.Sum32()
		switch {
		case ev.Type == event.TypeWorkcycle && ev.Phase == event.PhaseCompleted:
			ev.HumanMillis = int64(x%600) * 1000
			ev.CSAT = uint8(x % 6)
			ev.ResolvedBy = event.Actor(x % 3)
			if x%4 == 0 {
				twin := ev
				twin.EventID += "-twin"
				twin.HumanMillis, twin.CSAT, twin.ResolvedBy = ev.HumanMillis+1, 5-ev.CSAT, event.ActorHuman
				out = append(out, twin)
			}
		case ev.Type == event.TypeToolInvocation && ev.Status == event.StatusRolledBack:
			ev.By = event.Actor(2 + x%2) // human or system
		}
		out = append(out, ev)
	}
	return out
}

// The outcome fields follow the same rules as every other value: the final
// rows depend on the set of events only, and equal the truth's.
func TestOutcomeFieldsIgnoreOrderAndDuplication(t *testing.T) {
	base := withOutcomeFields(stream(t, genConfig(31, 300)))
	want := truth.AllRows(base, price.Default())
	var human, csat, overridden int
	for _, w := range want.Workcycles {
		if w.HumanMillis > 0 {
			human++
		}
		if w.CSAT > 0 {
			csat++
		}
		overridden += int(w.AWUsOverridden)
	}
	if human == 0 || csat == 0 || overridden == 0 {
		t.Fatalf("the truth has %d workcycles with human time, %d with CSAT, %d overridden AWUs: the test proves little", human, csat, overridden)
	}
	rng := rand.New(rand.NewPCG(31, 7))
	for trial := range 4 {
		evs := slices.Clone(base)
		rng.Shuffle(len(evs), func(i, j int) { evs[i], evs[j] = evs[j], evs[i] })
		if trial%2 == 1 {
			evs = duplicate(rng, evs)
		}
		sameRows(t, fmt.Sprintf("trial %d", trial), final(t, runAll(t, withOffsets(evs), 1+rng.IntN(100))), want)
	}
}
