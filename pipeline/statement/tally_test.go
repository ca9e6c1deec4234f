package statement

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/awumeter/awumeter/pipeline/engine"
)

// bigAWU is a prompt AWU of acme in October with input tokens n.
func bigAWU(n int64) *engine.AWURow {
	return &engine.AWURow{TenantID: "acme", Kind: "prompt", Status: "succeeded", Attempts: 1,
		FirstSeen: ts("2026-10-02T00:00:00Z"), TokenCounts: engine.TokenCounts{InputTokens: n}, TokenCost: dec("1")}
}

func wantSumError(t *testing.T, err error, field string, kind error) *SumError {
	t.Helper()
	var se *SumError
	if !errors.As(err, &se) {
		t.Fatalf("error = %v, want a *SumError", err)
	}
	if se.TenantID != "acme" || se.Month != "2026-10" || se.Field != field || !errors.Is(err, kind) {
		t.Fatalf("error names tenant %q, month %q, field %q (%v); want acme, 2026-10, %s (%v)",
			se.TenantID, se.Month, se.Field, se.Err, field, kind)
	}
	for _, want := range []string{`"acme"`, "2026-10", field} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
	return se
}

func TestTallyRefusesSumsThatWouldOverflow(t *testing.T) {
	t.Run("two AWUs of five quintillion input tokens are refused, not wrapped", func(t *testing.T) {
		tl := NewTally(month(t, "2026-10", "UTC"))
		tl.TenantID = "acme"
		if _, err := tl.AddAWU(bigAWU(5000000000000000000)); err != nil {
			t.Fatal(err)
		}
		_, err := tl.AddAWU(bigAWU(5000000000000000000))
		wantSumError(t, err, ItemInputTokens, ErrOverflow)
		if tl.Tokens.InputTokens != 5000000000000000000 || tl.AWUs != 1 || !tl.TokenCost.Equal(dec("1")) {
			t.Fatalf("the refused row changed the tally: %d input tokens, %d AWUs, cost %s; want 5000000000000000000, 1, 1",
				tl.Tokens.InputTokens, tl.AWUs, tl.TokenCost)
		}
	})
	t.Run("the largest int64 is still summed exactly", func(t *testing.T) {
		tl := NewTally(month(t, "2026-10", "UTC"))
		tl.TenantID = "acme"
		for _, n := range []int64{math.MaxInt64 - 1, 1} {
			if _, err := tl.AddAWU(bigAWU(n)); err != nil {
				t.Fatal(err)
			}
		}
		if tl.Tokens.InputTokens != math.MaxInt64 {
			t.Fatalf("input tokens = %d, want %d", tl.Tokens.InputTokens, int64(math.MaxInt64))
		}
	})
	t.Run("a per-model sum that would overflow names the model", func(t *testing.T) {
		tl := NewTally(month(t, "2026-10", "UTC"))
		tl.TenantID = "acme"
		row := &ModelRow{Model: "m1", FirstSeen: ts("2026-10-02T00:00:00Z"),
			TokenCounts: engine.TokenCounts{OutputTokens: math.MaxInt64}, TokenCost: decimal.Zero}
		if _, err := tl.AddModel(row); err != nil {
			t.Fatal(err)
		}
		row.OutputTokens = 1
		_, err := tl.AddModel(row)
		if se := wantSumError(t, err, ItemOutputTokens, ErrOverflow); se.Model != "m1" {
			t.Fatalf("error names model %q, want m1", se.Model)
		}
	})
	t.Run("unpriced tokens that would overflow are refused", func(t *testing.T) {
		tl := NewTally(month(t, "2026-10", "UTC"))
		tl.TenantID = "acme"
		a := bigAWU(0)
		a.UnpricedTokens = math.MaxInt64
		if _, err := tl.AddAWU(a); err != nil {
			t.Fatal(err)
		}
		_, err := tl.AddAWU(a)
		wantSumError(t, err, ItemUnpricedTokens, ErrOverflow)
	})
}

func TestTallyRefusesNegativeRows(t *testing.T) {
	for _, c := range []struct {
		name  string
		field string
		edit  func(*engine.AWURow)
	}{
		{"a row with negative input tokens is refused", ItemInputTokens, func(a *engine.AWURow) { a.InputTokens = -8446744073709551616 }},
		{"a row with negative unpriced tokens is refused", ItemUnpricedTokens, func(a *engine.AWURow) { a.UnpricedTokens = -2 }},
		{"a row with a negative token cost is refused", ItemTokenCost, func(a *engine.AWURow) { a.TokenCost = dec("-4223372036854.78") }},
		{"a row with negative credits is refused", ItemCredits, func(a *engine.AWURow) { a.Credits = -20 }},
	} {
		t.Run(c.name, func(t *testing.T) {
			tl := NewTally(month(t, "2026-10", "UTC"))
			tl.TenantID = "acme"
			a := bigAWU(10)
			c.edit(a)
			_, err := tl.AddAWU(a)
			wantSumError(t, err, c.field, ErrNegative)
			if tl.AWUs != 0 {
				t.Fatalf("the refused row was counted: %d AWUs", tl.AWUs)
			}
		})
	}
}

func TestDraftRefusesCreditsThatWouldOverflow(t *testing.T) {
	// 5e17 text actions at 20 credits each are 1e19 credits, more than an
	// int64 holds; the credits line must not wrap to a negative number.
	tl := NewTally(month(t, "2026-10", "UTC"))
	tl.TenantID = "acme"
	tl.AWUs, tl.Succeeded, tl.Attempts, tl.TextActions = 500000000000000000, 500000000000000000, 500000000000000000, 500000000000000000
	s, err := Draft("acme", testBook(t).PlanFor("acme"), tl)
	if s != nil {
		t.Fatalf("Draft returned a statement with credits %s", line(t, s, ItemCredits, "").Quantity)
	}
	wantSumError(t, err, ItemActions, ErrOverflow)
}

func TestDraftStatesTokenCostQuantitiesBeyondInt64Exactly(t *testing.T) {
	// Input and output each fit an int64, their sum does not: the token
	// cost line's quantity is the exact sum.
	tl := NewTally(month(t, "2026-10", "UTC"))
	tl.TenantID = "acme"
	a := bigAWU(math.MaxInt64)
	a.OutputTokens = math.MaxInt64
	if _, err := tl.AddAWU(a); err != nil {
		t.Fatal(err)
	}
	s := mustDraft(t, "acme", testBook(t).PlanFor("acme"), tl)
	if got := line(t, s, ItemTokenCost, AllModels).Quantity; !got.Equal(dec("18446744073709551614")) {
		t.Fatalf("token_cost quantity = %s, want 18446744073709551614", got)
	}
}
