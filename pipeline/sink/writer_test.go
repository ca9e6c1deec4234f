package sink

import (
	"reflect"
	"sort"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/awumeter/awumeter/internal/testenv"
	"github.com/awumeter/awumeter/pipeline/engine"
	"github.com/awumeter/awumeter/pipeline/event"
	"github.com/awumeter/awumeter/schemas/chschema"
)

// Rows come back from ClickHouse exactly: decimals to the 12th digit and at
// the type's integer range, times to the millisecond.
func TestWriteRoundTripsRowsExactly(t *testing.T) {
	conn, schema := migrated(t)
	rows := knownFinal().Workcycles
	rows[0].TokenCost = dec("0.000000000001")
	rows[1].TokenCost = dec("12345678901234567890123456.123456789012")
	rows[2].ListCost = dec("-0.000000000007")
	rows[3].StartedAt = at("2026-02-02 08:00:00.999")
	rows[4].CacheReadInputTokens, rows[4].ReasoningTokens, rows[4].UnpricedTokens = 7, 9, 11
	rows[4].HumanMillis, rows[4].CSAT, rows[4].ResolvedBy = event.MaxHumanMillis, 5, "human"
	for i := range rows {
		rows[i].State = engine.StateClosed
	}
	rows[2].State = engine.StateOpen
	w := NewWriter(conn, schema, testConfig(), Settings{})
	write(t, w, Batch{Workcycles: rows, AWUs: knownFinal().AWUs})

	got := readWorkcycles(t, w)
	if len(got) != len(rows) {
		t.Fatalf("read %d workcycles, wrote %d", len(got), len(rows))
	}
	byID := map[string]engine.WorkcycleRow{}
	for _, r := range got {
		byID[r.WorkcycleID] = r
	}
	for _, want := range rows {
		g := byID[want.WorkcycleID]
		if !g.TokenCost.Equal(want.TokenCost) || !g.ListCost.Equal(want.ListCost) {
			t.Errorf("%s: money %s/%s, want %s/%s", want.WorkcycleID, g.TokenCost, g.ListCost, want.TokenCost, want.ListCost)
		}
		if !g.StartedAt.Equal(want.StartedAt) || !g.EndedAt.Equal(want.EndedAt) {
			t.Errorf("%s: times %s..%s, want %s..%s", want.WorkcycleID, g.StartedAt, g.EndedAt, want.StartedAt, want.EndedAt)
		}
		g.TokenCost, g.ListCost, g.StartedAt, g.EndedAt = want.TokenCost, want.ListCost, want.StartedAt, want.EndedAt
		if !reflect.DeepEqual(g, want) {
			t.Errorf("%s:\n got %+v\nwant %+v", want.WorkcycleID, g, want)
		}
	}
}

func readWorkcycles(t *testing.T, w *Writer) []engine.WorkcycleRow {
	t.Helper()
	legacy := w.schema.Flavor == chschema.Legacy
	ms := "0, 0"
	if legacy {
		ms = "started_at_ms, ended_at_ms"
	}
	rows, err := w.conn.Query(testenv.Context(t, time.Minute), `SELECT tenant_id, workcycle_id, agent_id, conversation_id, outcome, outcome_type,
		human_millis, csat, resolved_by,
		started_at, ended_at, `+ms+`, awus, awus_succeeded, awus_failed, awus_validated, awus_rolled_back, awus_overridden, actions, voice_actions,
		attempts, retries, input_tokens, output_tokens, cache_read_input_tokens, cache_creation_input_tokens, reasoning_tokens,
		token_cost, credits, list_cost, unpriced_tokens, state, version FROM `+w.schema.Database+`.workcycles FINAL`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []engine.WorkcycleRow
	for rows.Next() {
		var r engine.WorkcycleRow
		var sms, ems uint16
		var msDest []any
		if legacy {
			msDest = []any{&sms, &ems}
		} else {
			var a, b uint8
			msDest = []any{&a, &b}
		}
		dest := append([]any{&r.TenantID, &r.WorkcycleID, &r.AgentID, &r.ConversationID, &r.Outcome, &r.OutcomeType,
			&r.HumanMillis, &r.CSAT, &r.ResolvedBy, &r.StartedAt, &r.EndedAt}, msDest...)
		dest = append(dest, &r.AWUs, &r.AWUsSucceeded, &r.AWUsFailed, &r.AWUsValidated, &r.AWUsRolledBack, &r.AWUsOverridden, &r.Actions, &r.VoiceActions,
			&r.Attempts, &r.Retries, &r.InputTokens, &r.OutputTokens, &r.CacheReadInputTokens, &r.CacheCreationInputTokens, &r.ReasoningTokens,
			&r.TokenCost, &r.Credits, &r.ListCost, &r.UnpricedTokens, &r.State, &r.Version)
		if err := rows.Scan(dest...); err != nil {
			t.Fatal(err)
		}
		r.StartedAt, r.EndedAt = joinTime(r.StartedAt, sms), joinTime(r.EndedAt, ems)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// The ledger reads back into the events that were written, once each, even
// after a replay, with the Kafka position they came from.
func TestHistoryReadsTheLedgerBack(t *testing.T) {
	conn, schema := migrated(t)
	w := NewWriter(conn, schema, testConfig(), Settings{})
	evs := knownFinal().Events
	evs[0].Time = at("2026-01-05 10:00:00.123")
	evs[0].CacheReadInputTokens, evs[0].CacheCreationInputTokens, evs[0].ReasoningTokens = 5, 6, 7
	done := event.Event{EventID: "e9", Type: event.TypeWorkcycle, Time: at("2026-01-05 10:05:00"), TenantID: "t1", WorkcycleID: "wc1",
		AgentID: "a1", ConversationID: "c-wc1", Phase: event.PhaseCompleted, Outcome: "resolved", OutcomeType: "case",
		HumanMillis: 90_060, CSAT: 5, ResolvedBy: event.ActorHuman,
		Source: event.Position{Topic: "other", Partition: 3, Offset: 99}}
	voice := event.Event{EventID: "e8", Type: event.TypeToolInvocation, Time: at("2026-01-05 10:04:00"), TenantID: "t1", WorkcycleID: "wc1",
		AWUID: "u9", Attempt: 1, Tool: "call", Channel: event.ChannelVoice, Status: event.StatusRolledBack, By: event.ActorHuman}
	evs = append(evs, done, voice)
	write(t, w, Batch{Events: evs}, Batch{Events: evs[:3]})

	h := NewHistory(conn, schema, DefaultMaxQueryBytes).Bound(10 * time.Second)
	got, err := h.Events("t1", "wc1")
	if err != nil {
		t.Fatal(err)
	}
	var want []event.Event
	for _, e := range evs {
		if e.TenantID == "t1" && e.WorkcycleID == "wc1" {
			want = append(want, e)
		}
	}
	sort.Slice(want, func(i, j int) bool {
		if !want[i].Time.Equal(want[j].Time) {
			return want[i].Time.Before(want[j].Time)
		}
		return want[i].EventID < want[j].EventID
	})
	if !reflect.DeepEqual(got, want) {
		t.Errorf("history:\n got %+v\nwant %+v", got, want)
	}
	if none, err := h.Events("t1", "nope"); err != nil || len(none) != 0 {
		t.Errorf("unknown workcycle: %v, %v", none, err)
	}
}

// An insert that can never succeed stops at once with a PermanentError
// instead of retrying forever, and every attempt is observed.
func TestWriteStopsOnPermanentError(t *testing.T) {
	conn, schema := migrated(t)
	var calls []error
	obs := ObserverFunc(func(table string, rows int, d time.Duration, err error) { calls = append(calls, err) })
	schema.Database = "no_such_database_for_awumeter"
	w := NewWriter(conn, schema, testConfig(), Settings{Observer: obs})
	err := w.Write(testenv.Context(t, time.Minute), Batch{Workcycles: knownFinal().Workcycles})
	if !IsPermanent(err) {
		t.Fatalf("got %v, want a permanent error", err)
	}
	if len(calls) != 1 || calls[0] == nil {
		t.Errorf("observer saw %v, want one failed attempt", calls)
	}
}

// A decimal beyond Decimal(38, 12) cannot be written and is permanent.
func TestWriteRejectsOverflowingMoney(t *testing.T) {
	conn, schema := migrated(t)
	w := NewWriter(conn, schema, testConfig(), Settings{})
	rows := knownFinal().Workcycles[:1]
	rows[0].TokenCost = decimal.RequireFromString("123456789012345678901234567890.5")
	if err := w.Write(testenv.Context(t, time.Minute), Batch{Workcycles: rows}); !IsPermanent(err) {
		t.Fatalf("got %v, want a permanent error", err)
	}
}

// A decimal with more than 12 fractional digits would lose its last digits
// in Decimal(38, 12); it is permanent, never silently truncated.
func TestWriteRejectsMoneyBeyondTwelveFractionalDigits(t *testing.T) {
	conn, schema := migrated(t)
	w := NewWriter(conn, schema, testConfig(), Settings{})
	rows := knownFinal().Workcycles[:1]
	rows[0].TokenCost = decimal.RequireFromString("0.0000000000015")
	if err := w.Write(testenv.Context(t, time.Minute), Batch{Workcycles: rows}); !IsPermanent(err) {
		t.Fatalf("got %v, want a permanent error", err)
	}
}
