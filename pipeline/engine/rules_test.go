package engine_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/awumeter/awumeter/pipeline/engine"
	"github.com/awumeter/awumeter/pipeline/event"
)

var t0 = time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)

// at is t0 plus s seconds.
func at(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }

// builder makes events of one workcycle with increasing ids and offsets.
type builder struct {
	tenant, wc string
	n          int
}

func (b *builder) base(typ event.Type, s int) event.Event {
	b.n++
	return event.Event{
		EventID: fmt.Sprintf("%s-e%d", b.wc, b.n), Type: typ, Time: at(s),
		TenantID: b.tenant, WorkcycleID: b.wc, AgentID: "agent-1",
	}
}

func (b *builder) tokens(s int, awu string, attempt int32, model string, in, out int64) event.Event {
	ev := b.base(event.TypeTokenUsage, s)
	ev.AWUID, ev.Attempt, ev.Model, ev.InputTokens, ev.OutputTokens = awu, attempt, model, in, out
	return ev
}

func (b *builder) tool(s int, awu string, attempt int32, status event.ToolStatus, ch event.Channel) event.Event {
	ev := b.base(event.TypeToolInvocation, s)
	ev.AWUID, ev.Attempt, ev.Tool, ev.Status, ev.Channel = awu, attempt, "crm.update_case", status, ch
	return ev
}

func (b *builder) phase(s int, p event.Phase, outcome string) event.Event {
	ev := b.base(event.TypeWorkcycle, s)
	ev.Phase, ev.Outcome = p, outcome
	return ev
}

// runRules applies events in order and flushes; it returns the last row of
// each workcycle and AWU.
func runRules(t *testing.T, evs ...event.Event) (map[string]engine.WorkcycleRow, map[string]engine.AWURow) {
	t.Helper()
	s := runAll(t, withOffsets(evs), 1)
	rows := final(t, s)
	wm := map[string]engine.WorkcycleRow{}
	for _, r := range rows.Workcycles {
		wm[r.WorkcycleID] = r
	}
	am := map[string]engine.AWURow{}
	for _, r := range rows.AWUs {
		am[r.AWUID] = r
	}
	return wm, am
}

func TestAttemptsAndRetries(t *testing.T) {
	b := &builder{tenant: "t", wc: "wc"}
	w, a := runRules(t,
		b.tokens(1, "call", 1, "gemini-3-flash", 1000, 100),
		b.tool(2, "call", 1, event.StatusFailed, event.ChannelText),
		b.tokens(3, "call", 2, "gemini-3-flash", 1000, 100),
		b.tool(4, "call", 2, event.StatusFailed, event.ChannelText),
		b.tokens(5, "call", 3, "gemini-3-flash", 1000, 100),
		b.tool(6, "call", 3, event.StatusSucceeded, event.ChannelText),
		b.tokens(7, "prompt", 1, "gemini-3-flash", 10, 10),
	)
	if got := a["call"]; got.Attempts != 3 || got.Status != "succeeded" || got.Kind != "tool" {
		t.Errorf("tool AWU: attempts %d status %s kind %s, want 3 succeeded tool", got.Attempts, got.Status, got.Kind)
	}
	if got := a["prompt"]; got.Attempts != 1 || got.Kind != "prompt" || got.Status != "succeeded" {
		t.Errorf("prompt AWU: attempts %d kind %s status %s, want 1 prompt succeeded", got.Attempts, got.Kind, got.Status)
	}
	wc := w["wc"]
	if wc.AWUs != 2 || wc.Attempts != 4 || wc.Retries != 2 || wc.Actions != 1 {
		t.Errorf("workcycle: awus %d attempts %d retries %d actions %d, want 2 4 2 1", wc.AWUs, wc.Attempts, wc.Retries, wc.Actions)
	}
	// Tokens of every attempt count: retries burn real compute.
	if wc.InputTokens != 3010 || wc.OutputTokens != 310 {
		t.Errorf("tokens %d/%d, want 3010/310", wc.InputTokens, wc.OutputTokens)
	}
	// 3010 × $0.50/M + 310 × $3.00/M = 0.001505 + 0.00093.
	if got := wc.TokenCost.String(); got != "0.002435" {
		t.Errorf("token cost %s, want 0.002435", got)
	}
}

func TestAttemptsCountDistinctNumbersAcrossEventTypes(t *testing.T) {
	b := &builder{tenant: "t", wc: "wc"}
	_, a := runRules(t,
		b.tokens(1, "x", 1, "gemini-3-flash", 1, 1),
		b.tokens(2, "x", 1, "gemini-3-flash", 1, 1), // a second model call of attempt 1
		b.tool(3, "x", 1, event.StatusFailed, event.ChannelText),
		b.tool(4, "x", 70, event.StatusFailed, event.ChannelText), // beyond the 64-attempt fast path
		b.tool(5, "x", 70, event.StatusFailed, event.ChannelText),
	)
	if got := a["x"]; got.Attempts != 2 || got.Status != "failed" {
		t.Errorf("attempts %d status %s, want 2 failed", got.Attempts, got.Status)
	}
}

func TestStatusRules(t *testing.T) {
	cases := []struct {
		name       string
		statuses   []event.ToolStatus
		want       engine.AWUStatus
		validated  bool
		rolledBack bool
	}{
		{"a failed call is failed", []event.ToolStatus{event.StatusFailed}, "failed", false, false},
		{"any succeeded attempt makes it succeeded", []event.ToolStatus{event.StatusFailed, event.StatusSucceeded}, "succeeded", false, false},
		{"a validated report makes it succeeded", []event.ToolStatus{event.StatusFailed, event.StatusValidated}, "succeeded", true, false},
		{"a rolled_back report makes it succeeded", []event.ToolStatus{event.StatusRolledBack}, "succeeded", false, true},
		{"both flags are kept", []event.ToolStatus{event.StatusSucceeded, event.StatusValidated, event.StatusRolledBack}, "succeeded", true, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := &builder{tenant: "t", wc: "wc"}
			var evs []event.Event
			for i, s := range c.statuses {
				evs = append(evs, b.tool(i, "x", int32(i+1), s, event.ChannelText))
			}
			w, a := runRules(t, evs...)
			got := a["x"]
			if got.Status != c.want || got.Validated != c.validated || got.RolledBack != c.rolledBack {
				t.Errorf("status %s validated %v rolled_back %v, want %s %v %v", got.Status, got.Validated, got.RolledBack, c.want, c.validated, c.rolledBack)
			}
			wantActions := int64(0)
			if c.want == "succeeded" {
				wantActions = 1
			}
			if w["wc"].Actions != wantActions || w["wc"].Credits != 20*wantActions {
				t.Errorf("actions %d credits %d, want %d %d", w["wc"].Actions, w["wc"].Credits, wantActions, 20*wantActions)
			}
		})
	}
}

func TestBillableActionsAndVoice(t *testing.T) {
	b := &builder{tenant: "t", wc: "wc"}
	w, a := runRules(t,
		b.tool(1, "voice", 1, event.StatusSucceeded, event.ChannelVoice),
		b.tool(2, "text", 1, event.StatusFailed, event.ChannelText),
		b.tool(3, "text", 2, event.StatusSucceeded, event.ChannelText), // one action however many attempts
		b.tool(4, "failed-voice", 1, event.StatusFailed, event.ChannelVoice),
		b.tokens(5, "prompt", 1, "gemini-3-flash", 10, 10),
	)
	wc := w["wc"]
	if wc.Actions != 2 || wc.VoiceActions != 1 || wc.AWUsFailed != 1 || wc.AWUsSucceeded != 3 {
		t.Errorf("actions %d voice %d failed %d succeeded %d, want 2 1 1 3", wc.Actions, wc.VoiceActions, wc.AWUsFailed, wc.AWUsSucceeded)
	}
	// 20 credits per text action, 30 per voice action, 0 per prompt AWU.
	if wc.Credits != 50 || wc.ListCost.String() != "0.25" {
		t.Errorf("credits %d list cost %s, want 50 0.25", wc.Credits, wc.ListCost)
	}
	if a["voice"].Channel != "voice" || a["voice"].Credits != 30 || a["failed-voice"].Credits != 0 || a["prompt"].Credits != 0 {
		t.Errorf("AWU credits: voice %d failed voice %d prompt %d, want 30 0 0", a["voice"].Credits, a["failed-voice"].Credits, a["prompt"].Credits)
	}
}

func TestUnknownModelIsCountedNotPricedAtZero(t *testing.T) {
	b := &builder{tenant: "t", wc: "wc"}
	w, _ := runRules(t,
		b.tokens(1, "x", 1, "mystery-model", 700, 300),
		b.tokens(2, "x", 2, "gemini-3-flash", 1000000, 0),
	)
	wc := w["wc"]
	if wc.UnpricedTokens != 1000 || wc.TokenCost.String() != "0.5" || wc.InputTokens != 1000700 {
		t.Errorf("unpriced %d cost %s input %d, want 1000 0.5 1000700", wc.UnpricedTokens, wc.TokenCost, wc.InputTokens)
	}
}

func TestModelRows(t *testing.T) {
	b := &builder{tenant: "t", wc: "wc"}
	withProvider := func(ev event.Event, p string) event.Event { ev.Provider = p; return ev }
	evs := []event.Event{
		// x: aliases of one priced model, at two sizes (gemini-3-pro has a
		// long-context rate above 200,000 input tokens), and two unknown
		// models, each kept under its own name.
		withProvider(b.tokens(5, "x", 1, "google/gemini-3-pro", 1000, 100), "vertex_ai"),
		withProvider(b.tokens(3, "x", 1, "gemini-3-pro-preview", 300000, 0), "gemini"),
		withProvider(b.tokens(3, "x", 2, "gemini-3-pro", 1000, 0), "google"),
		withProvider(b.tokens(4, "x", 1, "mystery-b", 10, 5), "acme"),
		b.tokens(2, "x", 2, "mystery-a", 20, 1),
		withProvider(b.tokens(6, "x", 3, "mystery-a", 30, 2), "acme"),
		// y: no token events, so no model rows.
		b.tool(7, "y", 1, event.StatusSucceeded, event.ChannelText),
	}
	s := runAll(t, withOffsets(evs), 1) // checks the sums of every emission
	rows := final(t, s)
	var got []string
	for _, m := range rows.AWUModels {
		got = append(got, fmt.Sprintf("%s %s provider=%s in=%d out=%d cost=%s unpriced=%d v%d",
			m.AWUID, m.Model, m.Provider, m.InputTokens, m.OutputTokens, m.TokenCost, m.UnpricedTokens, m.Version))
	}
	// gemini-3-pro: 1,000 × $2/M + 100 × $12/M + 300,000 × $4/M + 1,000 × $2/M
	// = 0.002 + 0.0012 + 1.2 + 0.002 = 1.2052. The provider is that of the
	// earliest events (time 3); of "gemini" and "google", the smaller. The
	// version is that of AWU x: 2^32 + its 6 events (4,294,967,302).
	want := []string{
		"x gemini-3-pro provider=gemini in=302000 out=100 cost=1.2052 unpriced=0 v4294967302",
		"x mystery-a provider=acme in=50 out=3 cost=0 unpriced=53 v4294967302",
		"x mystery-b provider=acme in=10 out=5 cost=0 unpriced=15 v4294967302",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("model rows:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestOutcomeAndTimes(t *testing.T) {
	b := &builder{tenant: "t", wc: "wc"}
	w, a := runRules(t,
		b.tokens(50, "x", 1, "gemini-3-flash", 1, 1),
		b.phase(10, event.PhaseStarted, ""),
		b.phase(90, event.PhaseCompleted, "resolved"),
		b.tool(60, "x", 1, event.StatusSucceeded, event.ChannelText),
	)
	wc := w["wc"]
	if wc.Outcome != "resolved" || !wc.StartedAt.Equal(at(10)) || !wc.EndedAt.Equal(at(90)) {
		t.Errorf("outcome %q started %s ended %s", wc.Outcome, wc.StartedAt, wc.EndedAt)
	}
	if !a["x"].FirstSeen.Equal(at(50)) || !a["x"].LastSeen.Equal(at(60)) {
		t.Errorf("AWU first %s last %s", a["x"].FirstSeen, a["x"].LastSeen)
	}

	b = &builder{tenant: "t", wc: "open"}
	w, _ = runRules(t, b.phase(0, event.PhaseStarted, ""))
	if w["open"].Outcome != "" || w["open"].AWUs != 0 {
		t.Errorf("workcycle without completed event: outcome %q awus %d, want empty and 0", w["open"].Outcome, w["open"].AWUs)
	}
}

func TestDuplicatesAndConflicts(t *testing.T) {
	b := &builder{tenant: "t", wc: "wc"}
	ev := b.tokens(1, "x", 1, "gemini-3-flash", 100, 10)
	conflict := ev
	conflict.InputTokens = 999
	other := ev
	other.TenantID = "another-tenant" // ids are unique per tenant only
	e := newEngine(t, nil)
	want := []engine.Outcome{engine.OutcomeAccepted, engine.OutcomeDuplicate, engine.OutcomeConflict, engine.OutcomeAccepted}
	for i, x := range []event.Event{ev, ev, conflict, other} {
		got, err := e.Apply(&x)
		if err != nil || got != want[i] {
			t.Errorf("event %d: got %v, %v; want %v", i, got, err, want[i])
		}
	}
	rows := e.Flush()
	if len(rows.Workcycles) != 2 || rows.Workcycles[1].InputTokens != 100 || rows.Workcycles[1].Version != 1 {
		t.Errorf("the first copy must stand: %+v", rows.Workcycles)
	}
	if st := e.Stats(); st.Duplicates != 1 || st.Conflicts != 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestClosingTriggers(t *testing.T) {
	cfg := engine.DefaultConfig() // settle 30s, idle 30m, max 24h, lateness 1m
	// One clock workcycle far ahead of the others drives the watermark here,
	// which engine.corroboration_window allows only within the window.
	cfg.CorroborationWindow = 48 * time.Hour
	newE := func() *engine.Engine {
		e, err := engine.New(cfg, engine.Settings{})
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	apply := func(e *engine.Engine, evs ...event.Event) {
		for i := range evs {
			if _, err := e.Apply(&evs[i]); err != nil {
				t.Fatal(err)
			}
		}
	}
	clock := &builder{tenant: "t", wc: "clock"} // another workcycle moves the watermark

	t.Run("completed workcycle waits the settle delay", func(t *testing.T) {
		e := newE()
		b := &builder{tenant: "t", wc: "wc"}
		apply(e, b.phase(0, event.PhaseStarted, ""), b.phase(10, event.PhaseCompleted, "resolved"))
		apply(e, clock.phase(99, event.PhaseStarted, "")) // watermark 39s: settle ends at 40s
		if n := len(e.Emit().Workcycles); n != 0 {
			t.Fatalf("emitted %d rows before the settle delay", n)
		}
		apply(e, clock.phase(100, event.PhaseStarted, "")) // watermark 40s
		if rows := e.Emit(); len(rows.Workcycles) != 1 || rows.Workcycles[0].WorkcycleID != "wc" {
			t.Fatalf("want wc emitted at the end of the settle delay, got %+v", rows.Workcycles)
		}
	})
	t.Run("idle workcycle closes after the idle timeout", func(t *testing.T) {
		e := newE()
		b := &builder{tenant: "t", wc: "wc"}
		apply(e, b.phase(0, event.PhaseStarted, ""))
		apply(e, clock.phase(1859, event.PhaseStarted, ""))
		if n := len(e.Emit().Workcycles); n != 0 {
			t.Fatalf("emitted %d rows before the idle timeout", n)
		}
		apply(e, clock.phase(1860, event.PhaseStarted, "")) // watermark 1800s
		if len(e.Emit().Workcycles) != 1 {
			t.Fatal("want the idle workcycle emitted")
		}
	})
	t.Run("busy workcycle is cut at max duration, later events re-emit it", func(t *testing.T) {
		e := newE()
		b := &builder{tenant: "t", wc: "wc"}
		var versions []uint64
		for s := 0; s <= 25*3600; s += 600 { // an event every 10 minutes for 25 hours
			// The clock keeps pace: the watermark needs two workcycles.
			apply(e, b.phase(s, event.PhaseStarted, ""), clock.phase(s, event.PhaseStarted, ""))
			for _, r := range e.Emit().Workcycles {
				if r.WorkcycleID != "wc" {
					continue
				}
				if len(versions) == 0 && s != 24*3600+600 {
					t.Fatalf("first emitted at %ds, want at 24h10m (the first watermark past 24h)", s)
				}
				versions = append(versions, r.Version)
			}
		}
		// 146 events at 0..87000s are cut at 24h; the 5 after it re-emit.
		want := []uint64{146, 147, 148, 149, 150, 151}
		if fmt.Sprint(versions) != fmt.Sprint(want) {
			t.Fatalf("versions %v, want %v", versions, want)
		}
	})
	t.Run("AdvanceTo closes a quiet partition", func(t *testing.T) {
		e := newE()
		b := &builder{tenant: "t", wc: "wc"}
		apply(e, b.phase(0, event.PhaseStarted, ""))
		e.AdvanceTo(at(1800))
		if len(e.Emit().Workcycles) != 1 {
			t.Fatal("want the workcycle emitted after AdvanceTo")
		}
	})
}

func TestLateEventReemitsWithHigherVersion(t *testing.T) {
	for _, evicted := range []bool{false, true} {
		t.Run(fmt.Sprintf("evicted %v", evicted), func(t *testing.T) {
			s := newSink(t)
			e := newEngine(t, s.ledger) // idle 10m, retention 5m
			b := &builder{tenant: "t", wc: "wc"}
			clock := &builder{tenant: "t", wc: "clock"}
			evs := withOffsets([]event.Event{
				b.tool(0, "x", 1, event.StatusSucceeded, event.ChannelText),
				b.phase(5, event.PhaseCompleted, "resolved"),
				clock.phase(200, event.PhaseStarted, ""),
			})
			s.feed(t, e, evs, 1)
			if len(s.wcs) != 1 || s.wcs[0].Version != 2 {
				t.Fatalf("want wc emitted once at version 2, got %+v", s.wcs)
			}
			if evicted {
				late := clock.phase(800, event.PhaseStarted, "") // within the corroboration window of wc
				late.Source.Offset = 3
				s.feed(t, e, []event.Event{late}, 1)
				if st := e.Stats(); st.Held != 1 {
					t.Fatalf("want wc evicted after retention, %d held", st.Held)
				}
			}
			late := b.tool(1, "x", 1, event.StatusValidated, event.ChannelText)
			late.Source.Offset = 10
			o, err := e.Apply(&late)
			if err != nil || o != engine.OutcomeReopened {
				t.Fatalf("late event: %v, %v; want reopened", o, err)
			}
			s.add(e.Emit())
			last := s.wcs[len(s.wcs)-1]
			if last.WorkcycleID != "wc" || last.Version != 3 || last.AWUsValidated != 1 {
				t.Fatalf("want wc re-emitted at version 3 with the validation, got %+v", last)
			}
			dup := late
			dup.Source.Offset = 11
			if o, _ := e.Apply(&dup); o != engine.OutcomeDuplicate {
				t.Fatalf("straggler duplicate: %v", o)
			}
		})
	}
}

func TestHistoryErrorIsReturnedAndRetryable(t *testing.T) {
	boom := errors.New("clickhouse is down")
	fail := true
	h := engine.HistoryFunc(func(string, string) ([]event.Event, error) {
		if fail {
			return nil, boom
		}
		return nil, nil
	})
	e := newEngine(t, h)
	b := &builder{tenant: "t", wc: "wc"}
	ev := b.phase(0, event.PhaseStarted, "")
	if _, err := e.Apply(&ev); !errors.Is(err, boom) {
		t.Fatalf("got %v, want the History error", err)
	}
	fail = false
	if o, err := e.Apply(&ev); err != nil || o != engine.OutcomeAccepted {
		t.Fatalf("retry: %v, %v", o, err)
	}
}

func TestResumeOffset(t *testing.T) {
	e := newEngine(t, nil)
	if _, ok := e.ResumeOffset(); ok {
		t.Fatal("resume offset before any event")
	}
	a, b := &builder{tenant: "t", wc: "a"}, &builder{tenant: "t", wc: "b"}
	evs := withOffsets([]event.Event{
		a.phase(0, event.PhaseStarted, ""),
		b.phase(1, event.PhaseStarted, ""),
		a.phase(2, event.PhaseCompleted, "resolved"),
		b.phase(200, event.PhaseStarted, ""),
	})
	for i := range evs {
		e.Apply(&evs[i])
	}
	if off, _ := e.ResumeOffset(); off != 0 {
		t.Fatalf("resume offset %d, want 0: a is open", off)
	}
	e.Emit() // a closes (watermark 140s)
	if off, _ := e.ResumeOffset(); off != 1 {
		t.Fatalf("resume offset %d, want 1: b is open", off)
	}
	e.Flush()
	if off, _ := e.ResumeOffset(); off != 4 {
		t.Fatalf("resume offset %d, want 4: nothing open", off)
	}
	back := a.phase(300, event.PhaseStarted, "")
	back.Source.Offset = 2
	if _, err := e.Apply(&back); !errors.Is(err, engine.ErrOffsetOrder) {
		t.Fatalf("got %v, want ErrOffsetOrder", err)
	}
}

func TestInvalidEventsAreRefused(t *testing.T) {
	e := newEngine(t, nil)
	b := &builder{tenant: "t", wc: "wc"}
	bad := b.tokens(0, "", 1, "gemini-3-flash", 1, 1)
	if o, _ := e.Apply(&bad); o != engine.OutcomeInvalid {
		t.Errorf("token event without awu_id: %v", o)
	}
}

// How far an event lags the watermark must not decide whether it counts:
// after a restart the watermark starts afresh, and the same event would be
// judged differently. An old event is folded in like any other, and a
// duplicate of it is still a duplicate.
func TestAnEventFarBehindTheWatermarkStillCounts(t *testing.T) {
	e := newEngine(t, nil)
	b := &builder{tenant: "t", wc: "wc"}
	now := b.phase(40*24*3600, event.PhaseStarted, "")
	e.Apply(&now)
	old := b.phase(0, event.PhaseStarted, "")
	if o, _ := e.Apply(&old); o != engine.OutcomeAccepted {
		t.Errorf("event 40 days behind the watermark: %v, want accepted", o)
	}
	again := old
	if o, _ := e.Apply(&again); o != engine.OutcomeDuplicate {
		t.Errorf("its re-send: %v, want duplicate", o)
	}
}
