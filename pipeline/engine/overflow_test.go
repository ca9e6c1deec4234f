package engine_test

import (
	"bytes"
	"math"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/awumeter/awumeter/pipeline/engine"
	"github.com/awumeter/awumeter/pipeline/event"
	"github.com/awumeter/awumeter/pipeline/price"
)

// applyAll applies events in order to a fresh engine and returns each
// event's outcome, the engine, and the last version of every row after a
// flush.
func applyAll(t *testing.T, book *price.Book, evs ...event.Event) ([]engine.Outcome, *engine.Engine, engine.Rows) {
	t.Helper()
	e, err := engine.New(engine.DefaultConfig(), engine.Settings{Prices: book})
	if err != nil {
		t.Fatal(err)
	}
	f := engine.NewFinal()
	var outcomes []engine.Outcome
	for i := range withOffsets(evs) {
		o, err := e.Apply(&evs[i])
		if err != nil {
			t.Fatal(err)
		}
		outcomes = append(outcomes, o)
		f.Add(e.Emit())
	}
	f.Add(e.Flush())
	return outcomes, e, f.Rows()
}

// noNegatives fails on any negative count or amount in rows.
func noNegatives(t *testing.T, rows engine.Rows) {
	t.Helper()
	neg := func(what string, tc engine.TokenCounts, unpriced int64, costs ...decimal.Decimal) {
		if tc.InputTokens < 0 || tc.OutputTokens < 0 || tc.CacheReadInputTokens < 0 ||
			tc.CacheCreationInputTokens < 0 || tc.ReasoningTokens < 0 || unpriced < 0 {
			t.Errorf("%s has a negative count: %+v, unpriced %d", what, tc, unpriced)
		}
		for _, c := range costs {
			if c.IsNegative() {
				t.Errorf("%s has a negative amount %s", what, c)
			}
		}
	}
	for _, w := range rows.Workcycles {
		neg("workcycle "+w.WorkcycleID, w.TokenCounts, w.UnpricedTokens, w.TokenCost, w.ListCost)
		if w.Credits < 0 || w.Attempts < 0 || w.Retries < 0 {
			t.Errorf("workcycle %s: credits %d, attempts %d, retries %d", w.WorkcycleID, w.Credits, w.Attempts, w.Retries)
		}
	}
	for _, a := range rows.AWUs {
		neg("AWU "+a.AWUID, a.TokenCounts, a.UnpricedTokens, a.TokenCost, a.ListCost)
	}
	for _, m := range rows.AWUModels {
		neg("AWU model "+m.AWUID+"/"+m.Model, m.TokenCounts, m.UnpricedTokens, m.TokenCost)
	}
}

func TestSumsThatWouldWrapAreRefused(t *testing.T) {
	t.Run("a second input of 5,000,000,000,000,000,000 tokens in one AWU is refused and the first stands", func(t *testing.T) {
		b := &builder{tenant: "t", wc: "wc"}
		outcomes, e, rows := applyAll(t, nil,
			b.tokens(0, "x", 1, "gemini-3-flash", 5000000000000000000, 0),
			b.tokens(1, "x", 2, "gemini-3-flash", 5000000000000000000, 0),
		)
		if outcomes[0] != engine.OutcomeAccepted || outcomes[1] != engine.OutcomeOverflow {
			t.Fatalf("outcomes %v, want accepted then overflow", outcomes)
		}
		noNegatives(t, rows)
		// gemini-3-flash input is $0.50 per 1M tokens: 5e18 × 0.5e-6 = $2.5e12.
		wantCost := decimal.RequireFromString("2500000000000")
		if len(rows.Workcycles) != 1 || len(rows.AWUs) != 1 || len(rows.AWUModels) != 1 {
			t.Fatalf("got %d workcycles, %d AWUs, %d models; want one of each", len(rows.Workcycles), len(rows.AWUs), len(rows.AWUModels))
		}
		w, a, m := rows.Workcycles[0], rows.AWUs[0], rows.AWUModels[0]
		for what, got := range map[string]int64{"workcycle": w.InputTokens, "AWU": a.InputTokens, "AWU model": m.InputTokens} {
			if got != 5000000000000000000 {
				t.Errorf("%s input_tokens %d, want 5000000000000000000", what, got)
			}
		}
		for what, got := range map[string]decimal.Decimal{"workcycle": w.TokenCost, "AWU": a.TokenCost, "AWU model": m.TokenCost} {
			if !got.Equal(wantCost) {
				t.Errorf("%s token_cost %s, want %s", what, got, wantCost)
			}
		}
		if w.Version != 1 || w.Attempts != 1 || a.Attempts != 1 {
			t.Errorf("version %d, attempts %d/%d: the refused event must leave no trace", w.Version, w.Attempts, a.Attempts)
		}
		if st := e.Stats(); st.Overflows != 1 || st.Accepted != 1 {
			t.Errorf("stats %+v, want 1 accepted and 1 overflow", st)
		}
	})

	t.Run("an unknown model's input and output of 9,223,372,036,854,775,807 each are refused, not counted as -2 unpriced tokens", func(t *testing.T) {
		b := &builder{tenant: "t", wc: "wc"}
		outcomes, e, rows := applyAll(t, nil, b.tokens(0, "x", 1, "mystery-model", math.MaxInt64, math.MaxInt64))
		if outcomes[0] != engine.OutcomeOverflow {
			t.Fatalf("outcome %v, want overflow", outcomes[0])
		}
		noNegatives(t, rows)
		if rows.Len() != 0 {
			t.Errorf("a refused first event emitted %d rows", rows.Len())
		}
		if st := e.Stats(); st.Held != 0 || st.EventIDs != 0 {
			t.Errorf("a refused first event left %d workcycles and %d event ids held", st.Held, st.EventIDs)
		}
	})

	t.Run("unpriced tokens summed over AWUs stop at exactly 9,223,372,036,854,775,807", func(t *testing.T) {
		b := &builder{tenant: "t", wc: "wc"}
		outcomes, _, rows := applyAll(t, nil,
			b.tokens(0, "x", 1, "mystery-model", math.MaxInt64-10, 0),
			b.tokens(1, "y", 1, "mystery-model", 0, 11), // one token too many
			b.tokens(2, "y", 1, "mystery-model", 0, 10), // exactly the limit
		)
		want := []engine.Outcome{engine.OutcomeAccepted, engine.OutcomeOverflow, engine.OutcomeAccepted}
		for i := range want {
			if outcomes[i] != want[i] {
				t.Fatalf("outcomes %v, want %v", outcomes, want)
			}
		}
		noNegatives(t, rows)
		w := rows.Workcycles[0]
		if w.UnpricedTokens != math.MaxInt64 || w.InputTokens != math.MaxInt64-10 || w.OutputTokens != 10 {
			t.Errorf("unpriced %d, input %d, output %d; want %d, %d, 10", w.UnpricedTokens, w.InputTokens, w.OutputTokens,
				int64(math.MaxInt64), int64(math.MaxInt64-10))
		}
	})

	t.Run("a refused event is refused again when re-sent, never taken for a duplicate", func(t *testing.T) {
		b := &builder{tenant: "t", wc: "wc"}
		big := b.tokens(1, "x", 2, "gemini-3-flash", math.MaxInt64, 0)
		outcomes, _, _ := applyAll(t, nil, b.tokens(0, "x", 1, "gemini-3-flash", 1, 0), big, big)
		if outcomes[1] != engine.OutcomeOverflow || outcomes[2] != engine.OutcomeOverflow {
			t.Errorf("outcomes %v, want the event refused twice", outcomes)
		}
	})

	t.Run("negative token counts are refused as invalid, not priced negative", func(t *testing.T) {
		b := &builder{tenant: "t", wc: "wc"}
		neg := b.tokens(0, "x", 1, "gemini-3-flash", -1000, 0)
		cache := b.tokens(1, "x", 1, "gemini-3-flash", math.MaxInt64, 0)
		cache.CacheReadInputTokens, cache.CacheCreationInputTokens = math.MaxInt64, math.MaxInt64 // wraps to -2 when summed
		outcomes, _, rows := applyAll(t, nil, neg, cache)
		if outcomes[0] != engine.OutcomeInvalid || outcomes[1] != engine.OutcomeInvalid {
			t.Errorf("outcomes %v, want both invalid", outcomes)
		}
		noNegatives(t, rows)
	})

	t.Run("credits beyond int64 refuse the AWU that would add them", func(t *testing.T) {
		// 2^62 credits per text action: one AWU fits, two would make 2^63.
		yaml := bytes.Replace(price.DefaultYAML(), []byte("action_credits: 20"), []byte("action_credits: 4611686018427387904"), 1)
		book, err := price.Parse(yaml)
		if err != nil {
			t.Fatal(err)
		}
		b := &builder{tenant: "t", wc: "wc"}
		outcomes, _, rows := applyAll(t, book,
			b.tool(0, "x", 1, event.StatusSucceeded, event.ChannelText),
			b.tool(1, "y", 1, event.StatusSucceeded, event.ChannelText),
			b.tool(2, "x", 2, event.StatusSucceeded, event.ChannelText), // an existing AWU adds no credits
		)
		want := []engine.Outcome{engine.OutcomeAccepted, engine.OutcomeOverflow, engine.OutcomeAccepted}
		for i := range want {
			if outcomes[i] != want[i] {
				t.Fatalf("outcomes %v, want %v", outcomes, want)
			}
		}
		noNegatives(t, rows)
		if w := rows.Workcycles[0]; w.Credits != 4611686018427387904 || w.AWUs != 1 || w.Attempts != 2 {
			t.Errorf("credits %d, AWUs %d, attempts %d; want 4611686018427387904, 1, 2", w.Credits, w.AWUs, w.Attempts)
		}
	})

	t.Run("a rebuild from History skips a stored event that would overflow", func(t *testing.T) {
		// A ledger should never hold such a pair; the rebuild must not
		// wrap if it does.
		b := &builder{tenant: "t", wc: "wc"}
		evs := withOffsets([]event.Event{
			b.tokens(0, "x", 1, "gemini-3-flash", math.MaxInt64, 0),
			b.tokens(1, "x", 2, "gemini-3-flash", math.MaxInt64, 0),
			b.tokens(2, "y", 1, "gemini-3-flash", 0, 0),
		})
		h := engine.NewMemoryHistory()
		h.Add(&evs[0])
		h.Add(&evs[1])
		e, err := engine.New(engine.DefaultConfig(), engine.Settings{History: h})
		if err != nil {
			t.Fatal(err)
		}
		if o, err := e.Apply(&evs[2]); err != nil || o != engine.OutcomeReopened {
			t.Fatalf("Apply = %v, %v; want reopened", o, err)
		}
		rows := e.Flush()
		noNegatives(t, rows)
		if w := rows.Workcycles[0]; w.InputTokens != math.MaxInt64 || w.Version != 2 {
			t.Errorf("input_tokens %d at version %d, want %d at version 2", w.InputTokens, w.Version, int64(math.MaxInt64))
		}
	})
}
