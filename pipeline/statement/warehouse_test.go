package statement

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/awumeter/awumeter/internal/testenv"
	"github.com/awumeter/awumeter/pipeline/engine"
	"github.com/awumeter/awumeter/pipeline/migrate"
	"github.com/awumeter/awumeter/pipeline/sink"
)

// stack is a migrated database of the test's own with a Service over it.
type stack struct {
	t      *testing.T
	ctx    context.Context
	ch     *testenv.ClickHouse
	wh     *Warehouse
	svc    *Service
	offset int64
}

func newStack(t *testing.T, cfg Config) *stack {
	t.Helper()
	if testing.Short() {
		t.Skip("needs ClickHouse")
	}
	ch := testenv.NewClickHouse(t)
	ctx := testenv.Context(t, 2*time.Minute)
	if _, err := migrate.Up(ctx, ch.Conn, migrate.Options{Database: ch.Database}); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	wh, err := NewWarehouse(ch.Conn, ch.Database)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := NewService(wh, testBook(t), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &stack{t: t, ctx: ctx, ch: ch, wh: wh, svc: svc}
}

// event is one ledger event of the fixtures.
type event struct {
	tenant, workcycle, id, typ string
	at                         string
	conversation, awu          string
	attempt                    int32
	model                      string
	input, output              int64
	channel, status            string
}

// ingest writes events to the ledger at the next offsets of partition 0,
// and the rows the engine makes of them (given by the caller, who works
// them out by hand).
func (s *stack) ingest(events []event, awus []engine.AWURow, models []ModelRow, wcs []engine.WorkcycleRow) {
	s.t.Helper()
	db := s.ch.Database
	if len(events) > 0 {
		b := s.batch("INSERT INTO " + db + ".events (tenant_id, workcycle_id, event_id, type, time, agent_id, conversation_id, awu_id, attempt, model, provider, input_tokens, output_tokens, cache_read_input_tokens, cache_creation_input_tokens, reasoning_tokens, tool, channel, status, phase, outcome, outcome_type, kafka_topic, kafka_partition, kafka_offset, ingested_at)")
		for _, e := range events {
			s.offset++
			if err := b.Append(e.tenant, e.workcycle, e.id, e.typ, ts(e.at), "agent", e.conversation, e.awu, e.attempt, e.model, "",
				e.input, e.output, int64(0), int64(0), int64(0), "lookup", e.channel, e.status, "", "", "",
				"telemetry", int32(0), s.offset, time.Now().UTC()); err != nil {
				s.t.Fatal(err)
			}
		}
		s.send(b)
	}
	if len(awus)+len(models) > 0 {
		// Through the sink's Writer, which also stores them by day and
		// refreshes the rollup tables the statements read.
		var b sink.Batch
		for _, a := range awus {
			a.AgentID = "agent"
			b.AWUs = append(b.AWUs, a)
		}
		for _, m := range models {
			b.AWUModels = append(b.AWUModels, sink.AWUModelRow{TenantID: m.TenantID, WorkcycleID: m.WorkcycleID, AWUID: m.AWUID,
				Model: m.Model, AgentID: "agent", Kind: "tool", Tool: "lookup", FirstSeen: m.FirstSeen,
				TokenCounts: m.TokenCounts, TokenCost: m.TokenCost, UnpricedTokens: m.UnpricedTokens, Version: m.Version})
		}
		schema, err := migrate.CheckSchema(s.ctx, s.ch.Conn, db)
		if err != nil {
			s.t.Fatal(err)
		}
		if err := sink.NewWriter(s.ch.Conn, schema, sink.DefaultConfig(), sink.Settings{}).Write(s.ctx, b); err != nil {
			s.t.Fatal(err)
		}
	}
	if len(wcs) > 0 {
		b := s.batch("INSERT INTO " + db + ".workcycles (tenant_id, workcycle_id, agent_id, conversation_id, outcome, outcome_type, started_at, ended_at, awus, awus_succeeded, awus_failed, awus_validated, awus_rolled_back, actions, voice_actions, attempts, retries, input_tokens, output_tokens, cache_read_input_tokens, cache_creation_input_tokens, reasoning_tokens, token_cost, credits, list_cost, unpriced_tokens, version)")
		for _, w := range wcs {
			if err := b.Append(w.TenantID, w.WorkcycleID, "agent", w.ConversationID, "", "", w.StartedAt, w.EndedAt,
				w.AWUs, w.AWUsSucceeded, w.AWUsFailed, w.AWUsValidated, w.AWUsRolledBack, w.Actions, w.VoiceActions, w.Attempts, w.Retries,
				w.InputTokens, w.OutputTokens, int64(0), int64(0), int64(0), w.TokenCost, w.Credits, w.ListCost, w.UnpricedTokens, w.Version); err != nil {
				s.t.Fatal(err)
			}
		}
		s.send(b)
	}
}

type appender interface {
	Append(v ...any) error
	Send() error
	Abort() error
}

func (s *stack) batch(q string) appender {
	s.t.Helper()
	b, err := s.ch.Conn.PrepareBatch(s.ctx, q)
	if err != nil {
		s.t.Fatal(err)
	}
	s.t.Cleanup(func() { _ = b.Abort() })
	return b
}

func (s *stack) send(b appender) {
	s.t.Helper()
	if err := b.Send(); err != nil {
		s.t.Fatal(err)
	}
}

func (s *stack) statement(tenant, month string) *Statement {
	s.t.Helper()
	st, err := s.svc.Statement(s.ctx, tenant, month)
	if err != nil {
		s.t.Fatal(err)
	}
	return st
}

func (s *stack) close(tenant, month, now string, force bool) (Closed, error) {
	s.t.Helper()
	done, err := s.svc.Close(s.ctx, []string{tenant}, month, CloseOptions{Now: ts(now), Force: force})
	if err != nil {
		return Closed{}, err
	}
	return done[0], nil
}

func (s *stack) count(q string) uint64 {
	s.t.Helper()
	var n uint64
	if err := s.ch.Conn.QueryRow(s.ctx, strings.ReplaceAll(q, "{db}", s.ch.Database)).Scan(&n); err != nil {
		s.t.Fatal(err)
	}
	return n
}

// A unit of work, worked out by hand: an AWU with its events and rows.
type unit struct {
	tenant, workcycle, conversation, awu string
	first                                string // first event
	channel                              string // tool AWUs: text or voice
	attempts                             int32  // the last succeeds
	inputTokens                          int64  // gemini-3-flash, $0.50 per 1M
	cost                                 string // inputTokens × $0.0000005
	version                              uint64
}

func (u unit) rows() ([]event, engine.AWURow, ModelRow) {
	first := ts(u.first)
	var evs []event
	if u.inputTokens > 0 {
		evs = append(evs, event{tenant: u.tenant, workcycle: u.workcycle, id: u.awu + "-tokens", typ: "token_usage", at: u.first,
			conversation: u.conversation, awu: u.awu, attempt: 1, model: "gemini-3-flash", input: u.inputTokens})
	}
	for a := int32(1); a <= u.attempts; a++ {
		status := "failed"
		if a == u.attempts {
			status = "succeeded"
		}
		evs = append(evs, event{tenant: u.tenant, workcycle: u.workcycle, id: u.awu + "-call-" + string('0'+rune(a)), typ: "tool_invocation",
			at: first.Add(time.Duration(a) * time.Second).Format(time.RFC3339Nano), conversation: u.conversation, awu: u.awu, attempt: a,
			channel: u.channel, status: status})
	}
	credits := int64(20)
	if u.channel == "voice" {
		credits = 30
	}
	cost := decimal.RequireFromString(u.cost)
	version := max(u.version, 1)
	row := engine.AWURow{TenantID: u.tenant, WorkcycleID: u.workcycle, AWUID: u.awu, Kind: "tool", Channel: engine.AWUChannel(u.channel),
		Status: "succeeded", Attempts: int64(u.attempts), FirstSeen: first, LastSeen: first.Add(time.Duration(u.attempts) * time.Second),
		TokenCounts: engine.TokenCounts{InputTokens: u.inputTokens}, TokenCost: cost, Credits: credits,
		ListCost: decimal.NewFromInt(credits).Mul(dec("0.005")), Version: version}
	model := ModelRow{TenantID: u.tenant, WorkcycleID: u.workcycle, AWUID: u.awu, Model: "gemini-3-flash", FirstSeen: first,
		TokenCounts: row.TokenCounts, TokenCost: cost, Version: version}
	return evs, row, model
}

func (s *stack) add(units ...unit) {
	s.t.Helper()
	var evs []event
	var awus []engine.AWURow
	var models []ModelRow
	var wcs []engine.WorkcycleRow
	index := map[string]int{}
	for _, u := range units {
		e, a, m := u.rows()
		evs, awus = append(evs, e...), append(awus, a)
		if u.inputTokens > 0 {
			models = append(models, m)
		}
		// A workcycle spans the events of all its units.
		i, ok := index[u.workcycle]
		if !ok {
			i = len(wcs)
			index[u.workcycle] = i
			wcs = append(wcs, engine.WorkcycleRow{TenantID: u.tenant, WorkcycleID: u.workcycle, ConversationID: u.conversation,
				StartedAt: a.FirstSeen, EndedAt: a.LastSeen, TokenCost: decimal.Zero, ListCost: decimal.Zero})
		}
		w := &wcs[i]
		if a.FirstSeen.Before(w.StartedAt) {
			w.StartedAt = a.FirstSeen
		}
		if a.LastSeen.After(w.EndedAt) {
			w.EndedAt = a.LastSeen
		}
		w.Version = max(w.Version, a.Version)
	}
	s.ingest(evs, awus, models, wcs)
}

// october is the fixture of tenant acme: a workcycle that starts at 23:50
// on 31 October and runs into November.
//
//	a1  31 Oct 23:50  text action, 250,000 tokens = $0.125   → October
//	a2   1 Nov 00:05  voice action in 2 attempts, 270,000 tokens = $0.135 → November
//
// October: 1 action = 20 credits = $0.10; conversation c1; token cost
// $0.125 → $0.12. November: 1 voice action = 30 credits = $0.15, 1 retry;
// token cost $0.135 → $0.14; c1 began in October.
var october = []unit{
	{tenant: "acme", workcycle: "wc1", conversation: "c1", awu: "a1", first: "2026-10-31T23:50:00Z", channel: "text", attempts: 1, inputTokens: 250000, cost: "0.125"},
	{tenant: "acme", workcycle: "wc1", conversation: "c1", awu: "a2", first: "2026-11-01T00:05:00Z", channel: "voice", attempts: 2, inputTokens: 270000, cost: "0.135"},
}

func TestStatementOfAMonthBoundaryWorkcycleFromClickHouse(t *testing.T) {
	s := newStack(t, DefaultConfig())
	s.add(october...)

	oct := s.statement("acme", "2026-10")
	wantQuantity(t, oct, ItemActions, 1)
	wantQuantity(t, oct, ItemVoiceActions, 0)
	wantQuantity(t, oct, ItemConversations, 1)
	wantAmount(t, oct, ItemFlexCreditAmount, "", "0.10")
	wantAmount(t, oct, ItemTokenCost, "gemini-3-flash", "0.12") // $0.125, half-even
	if !oct.Total.Equal(dec("0.10")) || oct.Status != StatusDraft {
		t.Errorf("October: %s total %s", oct.Status, oct.Total)
	}

	nov := s.statement("acme", "2026-11")
	wantQuantity(t, nov, ItemVoiceActions, 1)
	wantQuantity(t, nov, ItemRetries, 1)
	wantQuantity(t, nov, ItemConversations, 0)
	wantAmount(t, nov, ItemFlexCreditAmount, "", "0.15")
	wantAmount(t, nov, ItemTokenCost, "gemini-3-flash", "0.14") // $0.135, half-even
	if !nov.Total.Equal(dec("0.15")) {
		t.Errorf("November total %s", nov.Total)
	}

	rec, err := s.svc.Reconcile(s.ctx, "acme", "2026-10")
	if err != nil {
		t.Fatal(err)
	}
	if !rec.OK() {
		t.Errorf("reconciliation of consistent data failed:\n%s", rec.Explain())
	}
	if rec.LateAfterClose != nil || rec.DeadLetters.Available {
		t.Errorf("late %v, dead letters %+v", rec.LateAfterClose, rec.DeadLetters)
	}
}

func TestNonUTCBillingZoneAcrossDaylightSavingTime(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Tenants = map[string]TenantConfig{"nyc": {TimeZone: "America/New_York"}}
	s := newStack(t, cfg)
	// Daylight saving time ends at 06:00 UTC on 1 November 2026, so until
	// then New York is UTC-4: 03:30 UTC is 23:30 EDT on 31 October and
	// 04:30 UTC is 00:30 EDT on 1 November. In UTC both are in November.
	s.add(
		unit{tenant: "nyc", workcycle: "w1", conversation: "n1", awu: "b1", first: "2026-11-01T03:30:00Z", channel: "text", attempts: 1, cost: "0"},
		unit{tenant: "nyc", workcycle: "w2", conversation: "n2", awu: "b2", first: "2026-11-01T04:30:00Z", channel: "voice", attempts: 1, cost: "0"},
	)
	oct := s.statement("nyc", "2026-10")
	if oct.Period.TimeZone != "America/New_York" || oct.Period.End.Format(time.RFC3339) != "2026-11-01T04:00:00Z" {
		t.Fatalf("October period %+v", oct.Period)
	}
	wantQuantity(t, oct, ItemActions, 1)
	wantQuantity(t, oct, ItemVoiceActions, 0)
	wantQuantity(t, oct, ItemConversations, 1)

	// The grace period runs 48 hours from 04:00 UTC on 1 November.
	if _, err := s.close("nyc", "2026-10", "2026-11-03T03:59:59Z", false); !errors.Is(err, ErrGracePeriod) {
		t.Fatalf("close one second early: %v", err)
	}
	c, err := s.close("nyc", "2026-10", "2026-11-03T04:00:00Z", false)
	if err != nil {
		t.Fatal(err)
	}
	back, err := s.wh.Closed(s.ctx, "nyc", "2026-10")
	if err != nil || back == nil {
		t.Fatalf("read back: %v", err)
	}
	if back.Period != c.Statement.Period || back.Period.Start.Format(time.RFC3339) != "2026-10-01T04:00:00Z" {
		t.Errorf("stored period %+v", back.Period)
	}

	nov := s.statement("nyc", "2026-11")
	wantQuantity(t, nov, ItemVoiceActions, 1)
	wantQuantity(t, nov, ItemConversations, 1)
	if nov.Period.End.Format(time.RFC3339) != "2026-12-01T05:00:00Z" {
		t.Errorf("November ends %s", nov.Period.End)
	}
}

func TestCloseBeforeAndAfterTheGracePeriod(t *testing.T) {
	t.Run("closing early is refused and nothing is written", func(t *testing.T) {
		s := newStack(t, DefaultConfig())
		s.add(october...)
		_, err := s.close("acme", "2026-10", "2026-11-02T23:59:59Z", false)
		var ce *CloseError
		if !errors.As(err, &ce) || !errors.Is(err, ErrGracePeriod) || ce.TenantID != "acme" {
			t.Fatalf("err = %v", err)
		}
		if !strings.Contains(err.Error(), "2026-11-03T00:00:00Z") {
			t.Errorf("the error does not say when the grace period ends: %v", err)
		}
		if n := s.count("SELECT count() FROM {db}.statements"); n != 0 {
			t.Errorf("%d statements written", n)
		}
	})
	t.Run("forcing an early close is recorded", func(t *testing.T) {
		s := newStack(t, DefaultConfig())
		s.add(october...)
		c, err := s.close("acme", "2026-10", "2026-11-02T12:00:00Z", true)
		if err != nil {
			t.Fatal(err)
		}
		if c.Already || !c.Statement.Closing.Forced || c.Statement.Status != StatusClosed {
			t.Errorf("closed %+v", c)
		}
		if n := s.count("SELECT count() FROM {db}.statements WHERE forced = 1"); n != 1 {
			t.Errorf("%d forced statements stored", n)
		}
	})
	t.Run("after the grace period it closes, and closing again changes nothing", func(t *testing.T) {
		s := newStack(t, DefaultConfig())
		s.add(october...)
		draft := s.statement("acme", "2026-10")
		c, err := s.close("acme", "2026-10", "2026-11-03T00:00:00Z", false)
		if err != nil {
			t.Fatal(err)
		}
		st := c.Statement
		if c.Already || st.Closing.Forced || st.Status != StatusClosed {
			t.Fatalf("closed %+v", c)
		}
		if st.ContentHash != draft.ContentHash {
			t.Errorf("closed hash %s differs from the draft's %s", st.ContentHash, draft.ContentHash)
		}
		if !st.Closing.ClosedAt.Equal(ts("2026-11-03T00:00:00Z")) || st.Closing.Grace != 48*time.Hour {
			t.Errorf("closing %+v", st.Closing)
		}
		if cut := st.Closing.Cutoff; len(cut.Offsets) != 1 || cut.Offsets[0].Offset != s.offset || cut.LedgerEvents != int64(s.offset) {
			t.Errorf("cutoff %+v, want offset %d", cut, s.offset)
		}
		wantAmount(t, st, ItemFlexCreditAmount, "", "0.10")

		again, err := s.close("acme", "2026-10", "2026-12-01T00:00:00Z", false)
		if err != nil {
			t.Fatal(err)
		}
		if !again.Already || again.Statement.ContentHash != st.ContentHash || !again.Statement.Closing.ClosedAt.Equal(st.Closing.ClosedAt) {
			t.Errorf("second close %+v", again)
		}
		if n := s.count("SELECT count() FROM {db}.statements"); n != 1 {
			t.Errorf("%d statement rows after closing twice", n)
		}
		if got := s.statement("acme", "2026-10"); got.Status != StatusClosed || got.ContentHash != st.ContentHash {
			t.Errorf("statement after close: %s %s", got.Status, got.ContentHash)
		}
	})
}

func TestLateEventsAfterCloseBecomeAdjustments(t *testing.T) {
	s := newStack(t, DefaultConfig())
	s.add(october...)
	closed, err := s.close("acme", "2026-10", "2026-11-03T00:00:00Z", false)
	if err != nil {
		t.Fatal(err)
	}
	hash := closed.Statement.ContentHash

	// A workcycle of 15 October arrives late: a text action and a new
	// conversation, 10,000 tokens ($0.005).
	s.add(unit{tenant: "acme", workcycle: "wc9", conversation: "c9", awu: "a9", first: "2026-10-15T10:00:00Z",
		channel: "text", attempts: 1, inputTokens: 10000, cost: "0.005"})

	oct := s.statement("acme", "2026-10")
	if oct.Status != StatusClosed || oct.ContentHash != hash {
		t.Fatalf("the closed month changed: %s %s", oct.Status, oct.ContentHash)
	}
	wantQuantity(t, oct, ItemActions, 1)

	rec, err := s.svc.Reconcile(s.ctx, "acme", "2026-10")
	if err != nil {
		t.Fatal(err)
	}
	// Two late events: the token usage and the tool call of a9.
	if rec.LateAfterClose == nil || *rec.LateAfterClose != 2 {
		t.Errorf("late after close = %v, want 2", rec.LateAfterClose)
	}
	if !rec.OK() {
		t.Errorf("the ledger and the rollups of a closed month with late data must still agree:\n%s", rec.Explain())
	}

	nov := s.statement("acme", "2026-11")
	want := map[string]string{
		ItemActions:          "1 20",    // credits
		ItemCredits:          "20",      //
		ItemFlexCreditAmount: "20 0.10", // 20 × $0.005
		ItemConversations:    "1",
		// $2.00, not billed on flex_credits
		ItemConversationAmount: "1 2.00",
		// $0.125 + $0.005 = $0.130 → $0.13, closed at $0.12
		ItemTokenCost:     "10000 0.01",
		ItemAWUsAttempted: "1",
		ItemAWUsSucceeded: "1",
		ItemInputTokens:   "10000",
	}
	got := map[string]string{}
	for _, a := range nov.Adjustments {
		if a.RefStatementID != "acme:2026-10" {
			t.Errorf("adjustment references %s", a.RefStatementID)
		}
		v := a.Quantity.String()
		if a.Amount.Valid {
			v += " " + amount(a.Amount.Decimal, a.Currency)
		}
		got[a.Item] = v
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("adjustment %s = %q, want %q", k, got[k], v)
		}
	}
	if len(got) != len(want) {
		t.Errorf("adjustments %v", got)
	}
	// November: 30 credits = $0.15, plus the $0.10 credit adjustment.
	if !nov.Total.Equal(dec("0.25")) {
		t.Errorf("November total %s, want 0.25", nov.Total)
	}

	// November closes with its adjustments; December has nothing left to
	// adjust until more late data arrives.
	if _, err := s.close("acme", "2026-11", "2026-12-03T00:00:00Z", false); err != nil {
		t.Fatal(err)
	}
	if dec := s.statement("acme", "2026-12"); len(dec.Adjustments) != 0 {
		t.Errorf("December adjustments after November carried them: %+v", dec.Adjustments)
	}
	s.add(unit{tenant: "acme", workcycle: "wc10", conversation: "c9", awu: "a10", first: "2026-10-20T10:00:00Z",
		channel: "voice", attempts: 1, cost: "0"})
	d := s.statement("acme", "2026-12")
	got = map[string]string{}
	for _, a := range d.Adjustments {
		got[a.RefStatementID+" "+a.Item] = a.Quantity.String()
	}
	if got["acme:2026-10 voice_actions"] != "1" || got["acme:2026-10 credits"] != "30" || got["acme:2026-10 conversations"] != "" {
		t.Errorf("December adjustments %v", got)
	}
	if !d.Total.Equal(dec("0.15")) {
		t.Errorf("December total %s, want 0.15", d.Total)
	}

	// Closing October again is still a no-op with the same hash.
	again, err := s.close("acme", "2026-10", "2026-12-03T00:00:00Z", false)
	if err != nil || !again.Already || again.Statement.ContentHash != hash {
		t.Errorf("re-close after late data: %+v %v", again, err)
	}
}

func TestReconciliationCatchesAnInjectedMismatch(t *testing.T) {
	s := newStack(t, DefaultConfig())
	s.add(october...)
	// A newer version of a1 with tokens no event in the ledger accounts for.
	_, a1, _ := october[0].rows()
	a1.InputTokens += 1000
	a1.Version = 7
	s.ingest(nil, []engine.AWURow{a1}, nil, nil)

	rec, err := s.svc.Reconcile(s.ctx, "acme", "2026-10")
	if err != nil {
		t.Fatal(err)
	}
	if rec.OK() {
		t.Fatal("reconciliation passed with an injected mismatch")
	}
	for _, c := range rec.Checks {
		if c.Name == ItemInputTokens {
			if c.Match || !c.Ledger.Decimal.Equal(qty(250000)) || !c.Rollups.Decimal.Equal(qty(251000)) {
				t.Errorf("input_tokens check %+v", c)
			}
		} else if !c.Match {
			t.Errorf("%s does not match: %+v", c.Name, c)
		}
	}
	_, err = s.close("acme", "2026-10", "2026-11-05T00:00:00Z", false)
	if !errors.Is(err, ErrNotReconciled) || !strings.Contains(err.Error(), "input_tokens: ledger 250000, rollups 251000") {
		t.Fatalf("close: %v", err)
	}
	if n := s.count("SELECT count() FROM {db}.statements"); n != 0 {
		t.Errorf("%d statements written", n)
	}
}
