package sink

import (
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/shopspring/decimal"

	"github.com/awumeter/awumeter/internal/testenv"
	"github.com/awumeter/awumeter/pipeline/engine"
	"github.com/awumeter/awumeter/pipeline/event"
	"github.com/awumeter/awumeter/pipeline/migrate"
)

// migrated gives the test a fresh database migrated to this binary's schema.
func migrated(t *testing.T) (driver.Conn, migrate.Schema) {
	t.Helper()
	ch := testenv.NewClickHouse(t)
	return ch.Conn, mustMigrate(t, ch)
}

func mustMigrate(t testing.TB, ch *testenv.ClickHouse) migrate.Schema {
	t.Helper()
	ctx := testenv.Context(t, 2*time.Minute)
	if _, err := migrate.Up(ctx, ch.Conn, migrate.Options{Database: ch.Database}); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	schema, err := migrate.CheckSchema(ctx, ch.Conn, ch.Database)
	if err != nil {
		t.Fatalf("check schema: %v", err)
	}
	return schema
}

func testConfig() Config {
	c := DefaultConfig()
	c.Retry.InitialBackoff = 10 * time.Millisecond
	c.Retry.MaxBackoff = 100 * time.Millisecond
	return c
}

func write(t *testing.T, w *Writer, batches ...Batch) {
	t.Helper()
	ctx := testenv.Context(t, time.Minute)
	for _, b := range batches {
		if err := w.Write(ctx, b); err != nil {
			t.Fatalf("write: %v", err)
		}
	}
}

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func at(s string) time.Time {
	t, err := time.Parse("2006-01-02 15:04:05.999", s)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

func toks(in, out int64) engine.TokenCounts {
	return engine.TokenCounts{InputTokens: in, OutputTokens: out}
}

// The known data of the query pack tests. Expected results in
// testdata/querypack/*.tsv were computed by hand from these rows:
//
//	tenant t1: workcycles wc1 (a1, resolved; AWUs u1 search tool, u2 prompt),
//	           wc2 (a1, escalated; u3 refund tool, failed twice),
//	           wc3 (a2, resolved; u4 voice refund, validated; a late event
//	                moved its start from 1 Feb back to 31 Jan 23:59:59.5),
//	           wc5 (a1, resolved; u7 prompt)
//	tenant t2: wc4 (b1, still open; u5 search tool rolled back, u6 prompt;
//	                u5 used two models)
//
// knownStale holds earlier versions that the final rows replace.
func knownFinal() Batch {
	wc := func(tenant, id, agent, outcome, start, end string, awus, succ, failed, valid, rb, actions, voice, attempts, retries int64,
		tc engine.TokenCounts, cost string, credits int64, list string, version uint64) engine.WorkcycleRow {
		return engine.WorkcycleRow{TenantID: tenant, WorkcycleID: id, AgentID: agent, ConversationID: "c-" + id, Outcome: outcome,
			StartedAt: at(start), EndedAt: at(end), AWUs: awus, AWUsSucceeded: succ, AWUsFailed: failed, AWUsValidated: valid,
			AWUsRolledBack: rb, Actions: actions, VoiceActions: voice, Attempts: attempts, Retries: retries, TokenCounts: tc,
			TokenCost: dec(cost), Credits: credits, ListCost: dec(list), Version: version}
	}
	awu := func(tenant, wcID, id, agent, kind, tool, channel, status string, valid, rb bool, attempts int64, first, last string,
		tc engine.TokenCounts, cost string, credits int64, list string, version uint64) engine.AWURow {
		return engine.AWURow{TenantID: tenant, WorkcycleID: wcID, AWUID: id, AgentID: agent, Kind: engine.AWUKind(kind), Tool: tool, Channel: engine.AWUChannel(channel),
			Status: engine.AWUStatus(status), Validated: valid, RolledBack: rb, Attempts: attempts, FirstSeen: at(first), LastSeen: at(last),
			TokenCounts: tc, TokenCost: dec(cost), Credits: credits, ListCost: dec(list), Version: version}
	}
	am := func(a engine.AWURow, model string, tc engine.TokenCounts, cost string) AWUModelRow {
		return AWUModelRow{TenantID: a.TenantID, WorkcycleID: a.WorkcycleID, AWUID: a.AWUID, Model: model, Provider: "p",
			AgentID: a.AgentID, Kind: a.Kind, Tool: a.Tool, FirstSeen: a.FirstSeen, TokenCounts: tc, TokenCost: dec(cost), Version: a.Version}
	}
	u1 := awu("t1", "wc1", "u1", "a1", "tool", "search", "text", "succeeded", true, false, 2, "2026-01-05 10:00:00", "2026-01-05 10:02:00", toks(600, 120), "0.0006", 20, "0.1", 2)
	u2 := awu("t1", "wc1", "u2", "a1", "prompt", "", "text", "succeeded", false, false, 1, "2026-01-05 10:03:00", "2026-01-05 10:04:00", toks(400, 80), "0.0005", 0, "0", 1)
	u3 := awu("t1", "wc2", "u3", "a1", "tool", "refund", "text", "failed", false, false, 2, "2026-01-05 12:00:00", "2026-01-05 12:01:00", toks(500, 100), "0.0004", 0, "0", 1)
	u4 := awu("t1", "wc3", "u4", "a2", "tool", "refund", "voice", "succeeded", true, false, 1, "2026-01-31 23:59:59.5", "2026-02-01 00:10:00", toks(2000, 500), "0.0025", 30, "0.15", 2)
	// u4's events fall on two days, so its rows name both (see AWURow.EventDays).
	u4.EventDays = []int32{int32(at("2026-01-31 00:00:00").Unix() / 86400), int32(at("2026-02-01 00:00:00").Unix() / 86400)}
	u5 := awu("t2", "wc4", "u5", "b1", "tool", "search", "text", "succeeded", false, true, 1, "2026-02-02 08:00:00", "2026-02-02 08:00:30", toks(1000, 400), "0.004", 20, "0.1", 1)
	u6 := awu("t2", "wc4", "u6", "b1", "prompt", "", "text", "succeeded", false, false, 1, "2026-02-02 08:01:00", "2026-02-02 08:01:10", toks(2000, 600), "0.008", 0, "0", 1)
	u7 := awu("t1", "wc5", "u7", "a1", "prompt", "", "text", "succeeded", false, false, 1, "2026-01-06 09:00:00", "2026-01-06 09:00:05", toks(100, 50), "0.0005", 0, "0", 1)
	b := knownBatch(wc, u1, u2, u3, u4, u5, u6, u7, am)
	// The outcome fields of contract v1: wc1 took 1.5 human minutes and was
	// rated 4; escalated wc2 took 10, was rated 2, resolved by a human, and
	// a human overrode one of its AWUs.
	b.Workcycles[0].HumanMillis, b.Workcycles[0].CSAT, b.Workcycles[0].ResolvedBy = 90_000, 4, "agent"
	b.Workcycles[1].HumanMillis, b.Workcycles[1].CSAT, b.Workcycles[1].ResolvedBy, b.Workcycles[1].AWUsOverridden = 600_000, 2, "human", 1
	return b
}

func knownBatch(wc func(tenant, id, agent, outcome, start, end string, awus, succ, failed, valid, rb, actions, voice, attempts, retries int64,
	tc engine.TokenCounts, cost string, credits int64, list string, version uint64) engine.WorkcycleRow,
	u1, u2, u3, u4, u5, u6, u7 engine.AWURow, am func(a engine.AWURow, model string, tc engine.TokenCounts, cost string) AWUModelRow) Batch {
	return Batch{
		Workcycles: []engine.WorkcycleRow{
			wc("t1", "wc1", "a1", "resolved", "2026-01-05 10:00:00", "2026-01-05 10:05:00", 2, 2, 0, 1, 0, 1, 0, 3, 1, toks(1000, 200), "0.0011", 20, "0.1", 3),
			wc("t1", "wc2", "a1", "escalated", "2026-01-05 12:00:00", "2026-01-05 12:01:00", 1, 0, 1, 0, 0, 0, 0, 2, 1, toks(500, 100), "0.0004", 0, "0", 1),
			wc("t1", "wc3", "a2", "resolved", "2026-01-31 23:59:59.5", "2026-02-01 00:10:00", 1, 1, 0, 1, 0, 1, 1, 1, 0, toks(2000, 500), "0.0025", 30, "0.15", 2),
			wc("t2", "wc4", "b1", "", "2026-02-02 08:00:00", "2026-02-02 08:01:10", 2, 2, 0, 0, 1, 1, 0, 2, 0, toks(3000, 1000), "0.012", 20, "0.1", 1),
			wc("t1", "wc5", "a1", "resolved", "2026-01-06 09:00:00", "2026-01-06 09:00:05", 1, 1, 0, 0, 0, 0, 0, 1, 0, toks(100, 50), "0.0005", 0, "0", 1),
		},
		AWUs: []engine.AWURow{u1, u2, u3, u4, u5, u6, u7},
		AWUModels: []AWUModelRow{
			am(u1, "gemini-3-flash", toks(600, 120), "0.0006"),
			am(u2, "gemini-3-flash", toks(400, 80), "0.0005"),
			am(u3, "claude-sonnet-4.6", toks(500, 100), "0.0004"),
			am(u4, "gemini-3-pro", toks(2000, 500), "0.0025"),
			am(u5, "gemini-3-flash", toks(600, 300), "0.001"),
			am(u5, "claude-sonnet-4.6", toks(400, 100), "0.003"),
			am(u6, "gemini-3-pro", toks(2000, 600), "0.008"),
			am(u7, "gemini-3-flash", toks(100, 50), "0.0005"),
		},
		Events: []event.Event{
			tokenEvent("t1", "wc1", "u1", "e1", 1, "gemini-3-flash", 300, 60, "2026-01-05 10:00:00", 1),
			tokenEvent("t1", "wc1", "u1", "e2", 2, "gemini-3-flash", 300, 60, "2026-01-05 10:01:00", 2),
			tokenEvent("t1", "wc1", "u2", "e3", 1, "gemini-3-flash", 400, 80, "2026-01-05 10:03:00", 3),
			tokenEvent("t1", "wc2", "u3", "e4", 1, "claude-sonnet-4.6", 250, 50, "2026-01-05 12:00:00", 4),
			tokenEvent("t1", "wc2", "u3", "e5", 2, "claude-sonnet-4.6", 250, 50, "2026-01-05 12:00:30", 5),
			tokenEvent("t1", "wc3", "u4", "e6", 1, "gemini-3-pro", 2000, 500, "2026-01-31 23:59:59.5", 6),
			tokenEvent("t1", "wc5", "u7", "g1", 1, "gemini-3-flash", 100, 50, "2026-01-06 09:00:00", 7),
			tokenEvent("t2", "wc4", "u5", "f1", 1, "gemini-3-flash", 600, 300, "2026-02-02 08:00:00", 8),
			tokenEvent("t2", "wc4", "u5", "f2", 1, "claude-sonnet-4.6", 400, 100, "2026-02-02 08:00:10", 9),
			tokenEvent("t2", "wc4", "u6", "f3", 1, "gemini-3-pro", 2000, 600, "2026-02-02 08:01:00", 10),
			{EventID: "e7", Type: event.TypeToolInvocation, Time: at("2026-01-05 10:01:30"), TenantID: "t1", WorkcycleID: "wc1",
				AgentID: "a1", AWUID: "u1", Attempt: 2, Tool: "search", Status: event.StatusSucceeded,
				Source: event.Position{Topic: "telemetry", Partition: 0, Offset: 11}},
		},
	}
}

func tokenEvent(tenant, wcID, awuID, id string, attempt int32, model string, in, out int64, when string, offset int64) event.Event {
	return event.Event{EventID: id, Type: event.TypeTokenUsage, Time: at(when), TenantID: tenant, WorkcycleID: wcID,
		AgentID: "a", AWUID: awuID, Attempt: attempt, Model: model, Provider: "p", InputTokens: in, OutputTokens: out,
		Source: event.Position{Topic: "telemetry", Partition: 0, Offset: offset}}
}

// knownStale holds the versions the engine emitted before the final ones.
func knownStale() Batch {
	f := knownFinal()
	var s Batch
	wc1 := f.Workcycles[0]
	wc1.Version, wc1.AWUs, wc1.AWUsSucceeded, wc1.Attempts, wc1.TokenCounts, wc1.TokenCost = 1, 1, 0, 1, toks(300, 60), dec("0.0003")
	wc1.Credits, wc1.ListCost, wc1.Actions, wc1.AWUsValidated = 0, dec("0"), 0, 0
	wc3 := f.Workcycles[2]
	wc3.Version, wc3.StartedAt, wc3.AWUsValidated = 1, at("2026-02-01 00:00:10"), 0
	s.Workcycles = []engine.WorkcycleRow{wc1, wc3}
	u1 := f.AWUs[0]
	u1.Version, u1.Status, u1.Validated, u1.Attempts, u1.TokenCounts, u1.TokenCost, u1.Credits, u1.ListCost = 1, "failed", false, 1, toks(300, 60), dec("0.0003"), 0, dec("0")
	u4 := f.AWUs[3]
	u4.Version, u4.FirstSeen, u4.Validated, u4.EventDays = 1, at("2026-02-01 00:00:10"), false, nil
	s.AWUs = []engine.AWURow{u1, u4}
	m1 := f.AWUModels[0]
	m1.Version, m1.TokenCounts, m1.TokenCost = 1, toks(300, 60), dec("0.0003")
	m4 := f.AWUModels[3]
	m4.Version, m4.FirstSeen = 1, at("2026-02-01 00:00:10")
	s.AWUModels = []AWUModelRow{m1, m4}
	return s
}

// writeKnown writes the known data the way a crashing, replaying,
// correcting pipeline would: early versions, final versions, then a replay
// of both, and one event twice more.
func writeKnown(t *testing.T, conn driver.Conn, schema migrate.Schema) {
	w := NewWriter(conn, schema, testConfig(), Settings{})
	final, stale := knownFinal(), knownStale()
	write(t, w, stale, final, stale, final, Batch{Events: final.Events[1:2]})
}
