package statement

import (
	"strings"
	"testing"
)

// Two AWUs of 5,000,000,000,000,000,000 input tokens each: ClickHouse's
// sum of an Int64 column would wrap to -8446744073709551616. The ledger and
// rollup recounts are exact, and the statement, which cannot state the sum
// in an int64, is refused rather than drawn up.
func TestReconciliationSumsBeyondInt64AreExact(t *testing.T) {
	s := newStack(t, DefaultConfig())
	s.add(
		unit{tenant: "acme", workcycle: "w1", awu: "a1", first: "2026-10-02T00:00:00Z", channel: "text", attempts: 1,
			inputTokens: 5000000000000000000, cost: "2500000000000"},
		unit{tenant: "acme", workcycle: "w2", awu: "a2", first: "2026-10-03T00:00:00Z", channel: "text", attempts: 1,
			inputTokens: 5000000000000000000, cost: "2500000000000"},
	)
	p := month(t, "2026-10", "UTC")
	ledger, err := s.wh.ledgerTotals(s.ctx, "acme", p)
	if err != nil {
		t.Fatal(err)
	}
	rollups, err := s.wh.rollupTotals(s.ctx, "acme", p)
	if err != nil {
		t.Fatal(err)
	}
	for name, got := range map[string]string{"ledger": ledger[ItemInputTokens].String(), "rollups": rollups[ItemInputTokens].String()} {
		if got != "10000000000000000000" {
			t.Errorf("%s input_tokens = %s, want 10000000000000000000", name, got)
		}
	}
	st, err := s.svc.Statement(s.ctx, "acme", "2026-10")
	if err == nil {
		t.Fatalf("the statement was drawn up with input_tokens %s", line(t, st, ItemInputTokens, "").Quantity)
	}
	if !strings.Contains(err.Error(), "input_tokens") || !strings.Contains(err.Error(), "overflow") {
		t.Fatalf("error %q does not name input_tokens and the overflow", err)
	}
}
