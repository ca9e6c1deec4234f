package statement

import (
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/awumeter/awumeter/pipeline/engine"
	"github.com/awumeter/awumeter/pipeline/price"
)

// testBook has three tenants: the default flex_credits plan, "conv" on
// per_conversation, and "quarter" on flex credits at $1 per 400 credits
// ($0.0025 a credit) with 5 credits a text action, so that a credit amount
// can fall on half a cent.
func testBook(t *testing.T) *price.Book {
	t.Helper()
	b, err := price.Parse([]byte(`
currency: USD
models:
  - id: gemini-3-flash
    prices:
      - effective_from: 2025-01-01
        input: 0.50
        output: 3.00
tenants:
  - tenant_id: conv
    plan: per_conversation
  - tenant_id: quarter
    plan: flex_credits
    block_price: 1
    block_credits: 400
    action_credits: 5
`))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func ts(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t
}

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

// tool is a succeeded tool AWU on channel, first seen at first.
func tool(first, channel string) *engine.AWURow {
	credits := int64(20)
	if channel == "voice" {
		credits = 30
	}
	return &engine.AWURow{Kind: "tool", Channel: engine.AWUChannel(channel), Status: "succeeded", Attempts: 1, FirstSeen: ts(first),
		TokenCost: decimal.Zero, Credits: credits}
}

func month(t *testing.T, m string, zone string) Period {
	t.Helper()
	loc, err := time.LoadLocation(zone)
	if err != nil {
		t.Fatal(err)
	}
	p, err := MonthPeriod(m, loc)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func line(t *testing.T, s *Statement, item, model string) Line {
	t.Helper()
	for _, l := range s.Lines {
		if l.Item == item && l.Model == model {
			return l
		}
	}
	t.Fatalf("statement %s has no line %s %s", s.ID, item, model)
	return Line{}
}

func wantQuantity(t *testing.T, s *Statement, item string, want int64) {
	t.Helper()
	if got := line(t, s, item, "").Quantity; !got.Equal(qty(want)) {
		t.Errorf("%s %s quantity = %s, want %d", s.ID, item, got, want)
	}
}

func wantAmount(t *testing.T, s *Statement, item, model, want string) {
	t.Helper()
	l := line(t, s, item, model)
	if !l.Amount.Valid || !l.Amount.Decimal.Equal(dec(want)) {
		t.Errorf("%s %s %s amount = %v, want %s", s.ID, item, model, l.Amount, want)
	}
}

func TestAttributionAtTheMonthBoundary(t *testing.T) {
	oct, nov := month(t, "2026-10", "UTC"), month(t, "2026-11", "UTC")
	// One workcycle runs from 23:59 on 31 October to 00:01 on 1 November:
	// its first AWU belongs to October, its second to November, and its
	// conversation, which a second workcycle continues in November, to
	// October.
	awus := []*engine.AWURow{
		tool("2026-10-31T23:59:59.999Z", "text"),
		tool("2026-11-01T00:00:00Z", "voice"),
		tool("2026-11-01T00:01:00Z", "text"),
	}
	starts := ConversationStarts{}
	starts.Add(&engine.WorkcycleRow{ConversationID: "c1", StartedAt: ts("2026-10-31T23:59:00Z")})
	starts.Add(&engine.WorkcycleRow{ConversationID: "c1", StartedAt: ts("2026-11-01T09:00:00Z")})
	starts.Add(&engine.WorkcycleRow{ConversationID: "c2", StartedAt: ts("2026-11-01T00:00:00Z")})
	starts.Add(&engine.WorkcycleRow{ConversationID: "", StartedAt: ts("2026-11-02T00:00:00Z")})

	tallies := map[string]*Tally{"2026-10": NewTally(oct), "2026-11": NewTally(nov)}
	for _, tl := range tallies {
		for _, a := range awus {
			tl.AddAWU(a)
		}
		for id, first := range starts {
			tl.AddConversation(id, first)
		}
	}
	book := testBook(t)
	o := mustDraft(t, "acme", book.PlanFor("acme"), tallies["2026-10"])
	n := mustDraft(t, "acme", book.PlanFor("acme"), tallies["2026-11"])

	wantQuantity(t, o, ItemActions, 1)
	wantQuantity(t, o, ItemVoiceActions, 0)
	wantQuantity(t, o, ItemConversations, 1)
	wantQuantity(t, o, ItemCredits, 20)
	wantAmount(t, o, ItemFlexCreditAmount, "", "0.10") // 20 × $0.005

	wantQuantity(t, n, ItemActions, 1)
	wantQuantity(t, n, ItemVoiceActions, 1)
	wantQuantity(t, n, ItemConversations, 1) // c2; c1 began in October
	wantQuantity(t, n, ItemCredits, 50)
	wantAmount(t, n, ItemFlexCreditAmount, "", "0.25") // 50 × $0.005
	if !n.Total.Equal(dec("0.25")) || !o.Total.Equal(dec("0.10")) {
		t.Errorf("totals %s and %s, want 0.10 and 0.25", o.Total, n.Total)
	}
}

func TestAttributionInABillingZoneAcrossDaylightSavingTime(t *testing.T) {
	// In New York, October 2026 ends at 04:00 UTC on 1 November (EDT) and
	// November at 05:00 UTC on 1 December (EST).
	oct, nov := month(t, "2026-10", "America/New_York"), month(t, "2026-11", "America/New_York")
	awus := []*engine.AWURow{
		tool("2026-11-01T03:59:59Z", "text"), // 23:59:59 EDT on 31 October
		tool("2026-11-01T04:00:00Z", "text"), // 00:00 EDT on 1 November
		tool("2026-12-01T04:30:00Z", "text"), // 23:30 EST on 30 November
		tool("2026-12-01T05:00:00Z", "text"), // 00:00 EST on 1 December
	}
	o, n := NewTally(oct), NewTally(nov)
	for _, a := range awus {
		o.AddAWU(a)
		n.AddAWU(a)
	}
	if o.TextActions != 1 || n.TextActions != 2 {
		t.Errorf("October has %d actions, November %d; want 1 and 2", o.TextActions, n.TextActions)
	}
	// The same AWUs in UTC months: three in November.
	u := NewTally(month(t, "2026-11", "UTC"))
	for _, a := range awus {
		u.AddAWU(a)
	}
	if u.TextActions != 2 {
		t.Errorf("UTC November has %d actions, want 2", u.TextActions)
	}
}

func TestRoundingIsHalfEvenOncePerLine(t *testing.T) {
	p := month(t, "2026-10", "UTC")
	book := testBook(t)
	for _, c := range []struct {
		name string
		cost string
		want string
	}{
		{"$0.125 rounds down to the even cent", "0.125", "0.12"},
		{"$0.135 rounds up to the even cent", "0.135", "0.14"},
		{"$0.145 rounds down to the even cent", "0.145", "0.14"},
		{"$0.1251 rounds up", "0.1251", "0.13"},
		{"$0.124999999999 rounds down", "0.124999999999", "0.12"},
	} {
		t.Run(c.name, func(t *testing.T) {
			tl := NewTally(p)
			tl.Models = map[string]*ModelTally{}
			a := &engine.AWURow{Kind: "prompt", Status: "succeeded", Attempts: 1, FirstSeen: ts("2026-10-10T00:00:00Z"),
				TokenCost: dec(c.cost), TokenCounts: engine.TokenCounts{InputTokens: 250000}}
			tl.AddAWU(a)
			tl.AddModel(&ModelRow{Model: "gemini-3-flash", FirstSeen: a.FirstSeen, TokenCounts: a.TokenCounts, TokenCost: a.TokenCost})
			s := mustDraft(t, "acme", book.PlanFor("acme"), tl)
			wantAmount(t, s, ItemTokenCost, "gemini-3-flash", c.want)
			if l := line(t, s, ItemTokenCost, "gemini-3-flash"); l.Billed || !l.exact.Equal(dec(c.cost)) {
				t.Errorf("token_cost line billed=%v exact=%s", l.Billed, l.exact)
			}
		})
	}
	// A billed credit amount on half a cent: 10 text actions × 5 credits =
	// 50 credits × $0.0025 = $0.125 → $0.12; 27 actions → 135 credits =
	// $0.3375 → $0.34; the total is the rounded line.
	for _, c := range []struct {
		actions int64
		credits int64
		want    string
	}{{10, 50, "0.12"}, {27, 135, "0.34"}, {14, 70, "0.18"}} { // 70 × 0.0025 = 0.175 → 0.18
		tl := NewTally(p)
		for range c.actions {
			tl.AddAWU(tool("2026-10-10T00:00:00Z", "text"))
		}
		s := mustDraft(t, "quarter", book.PlanFor("quarter"), tl)
		wantQuantity(t, s, ItemCredits, c.credits)
		wantAmount(t, s, ItemFlexCreditAmount, "", c.want)
		if !s.Total.Equal(dec(c.want)) {
			t.Errorf("%d actions: total %s, want %s", c.actions, s.Total, c.want)
		}
		if up := line(t, s, ItemFlexCreditAmount, "").UnitPrice; !up.Valid || !up.Decimal.Equal(dec("0.0025")) {
			t.Errorf("unit price %v, want 0.0025", up)
		}
	}
}

func TestThePlanDecidesWhichLinesAreBilled(t *testing.T) {
	p := month(t, "2026-10", "UTC")
	book := testBook(t)
	tally := func() *Tally {
		tl := NewTally(p)
		tl.AddAWU(tool("2026-10-02T00:00:00Z", "text"))
		tl.AddAWU(tool("2026-10-02T00:00:00Z", "voice"))
		tl.AddConversation("c1", ts("2026-10-02T00:00:00Z"))
		tl.AddConversation("c2", ts("2026-10-03T00:00:00Z"))
		tl.AddConversation("c2", ts("2026-10-03T00:00:00Z"))
		return tl
	}
	flex := mustDraft(t, "acme", book.PlanFor("acme"), tally())
	conv := mustDraft(t, "conv", book.PlanFor("conv"), tally())
	if flex.Terms.Plan != price.PlanFlexCredits || conv.Terms.Plan != price.PlanPerConversation {
		t.Fatalf("plans %s and %s", flex.Terms.Plan, conv.Terms.Plan)
	}
	billed := map[string]bool{ItemActions: true, ItemVoiceActions: true, ItemCredits: true, ItemFlexCreditAmount: true}
	for _, l := range flex.Lines {
		if l.Billed != billed[l.Item] {
			t.Errorf("flex_credits: %s billed=%v", l.Item, l.Billed)
		}
	}
	billed = map[string]bool{ItemConversations: true, ItemConversationAmount: true}
	for _, l := range conv.Lines {
		if l.Billed != billed[l.Item] {
			t.Errorf("per_conversation: %s billed=%v", l.Item, l.Billed)
		}
	}
	// 20 + 30 credits × $0.005 = $0.25; 2 conversations × $2 = $4.00.
	wantAmount(t, flex, ItemFlexCreditAmount, "", "0.25")
	wantAmount(t, flex, ItemConversationAmount, "", "4.00")
	if !flex.Total.Equal(dec("0.25")) || !conv.Total.Equal(dec("4")) {
		t.Errorf("totals %s and %s, want 0.25 and 4.00", flex.Total, conv.Total)
	}
}

func TestTokenCostWithoutAModelSplit(t *testing.T) {
	tl := NewTally(month(t, "2026-10", "UTC"))
	tl.AddAWU(&engine.AWURow{Kind: "prompt", Status: "succeeded", Attempts: 3, FirstSeen: ts("2026-10-02T00:00:00Z"),
		TokenCost: dec("0.0044"), TokenCounts: engine.TokenCounts{InputTokens: 4000, OutputTokens: 800}})
	s := mustDraft(t, "acme", testBook(t).PlanFor("acme"), tl)
	l := line(t, s, ItemTokenCost, AllModels)
	if !l.Quantity.Equal(qty(4800)) || !l.Amount.Decimal.Equal(dec("0.00")) || !l.exact.Equal(dec("0.0044")) {
		t.Errorf("token_cost line %+v", l)
	}
	wantQuantity(t, s, ItemRetries, 2)
	wantQuantity(t, s, ItemAWUsAttempted, 1)
}

func TestAdjustments(t *testing.T) {
	p := month(t, "2026-10", "UTC")
	book := testBook(t)
	closedTally := NewTally(p)
	closedTally.AddAWU(tool("2026-10-02T00:00:00Z", "text"))
	closed := mustDraft(t, "acme", book.PlanFor("acme"), closedTally)

	now := NewTally(p)
	now.AddAWU(tool("2026-10-02T00:00:00Z", "text"))
	now.AddAWU(tool("2026-10-03T00:00:00Z", "voice"))
	now.AddConversation("late", ts("2026-10-03T00:00:00Z"))
	current := mustDraft(t, "acme", TermsOf(book.PlanFor("acme")), now)

	adjs := Adjust(closed, current, nil)
	got := map[string]string{}
	for _, a := range adjs {
		if a.RefStatementID != "acme:2026-10" || a.RefMonth != "2026-10" {
			t.Errorf("adjustment references %s %s", a.RefStatementID, a.RefMonth)
		}
		s := a.Quantity.String()
		if a.Amount.Valid {
			s += " " + a.Amount.Decimal.StringFixed(2)
		}
		got[a.Item] = s
	}
	want := map[string]string{
		ItemVoiceActions:       "1 30.00",
		ItemCredits:            "30",
		ItemFlexCreditAmount:   "30 0.15",
		ItemConversations:      "1",
		ItemConversationAmount: "1 2.00",
		ItemAWUsAttempted:      "1",
		ItemAWUsSucceeded:      "1",
	}
	if len(got) != len(want) {
		t.Errorf("adjustments %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s adjustment %q, want %q", k, got[k], v)
		}
	}

	// On the next open statement the billed deltas add to the total:
	// $0.15 of credits; the conversation amount is not billed on flex.
	open := mustDraft(t, "acme", book.PlanFor("acme"), NewTally(month(t, "2026-11", "UTC"))).WithAdjustments(adjs)
	if !open.Total.Equal(dec("0.15")) {
		t.Errorf("open total %s, want 0.15", open.Total)
	}

	// Once a later closed statement carries these adjustments, nothing is
	// left to adjust.
	if again := Adjust(closed, current, adjs); len(again) != 0 {
		t.Errorf("adjusted twice: %+v", again)
	}
}

func TestHashIgnoresDecimalScaleAndStatus(t *testing.T) {
	tl := NewTally(month(t, "2026-10", "UTC"))
	tl.AddAWU(tool("2026-10-02T00:00:00Z", "text"))
	s := mustDraft(t, "acme", testBook(t).PlanFor("acme"), tl)
	h := s.Hash()
	if h != s.ContentHash || len(h) != len("sha256:")+64 {
		t.Fatalf("hash %q", h)
	}
	s.Status = StatusClosed
	s.Closing = &Closing{ClosedAt: time.Now()}
	for i := range s.Lines {
		s.Lines[i].Quantity = s.Lines[i].Quantity.Round(12) // as read back from Decimal(38, 12)
	}
	if s.Hash() != h {
		t.Error("hash changed with status or decimal scale")
	}
	s.Lines[0].Quantity = s.Lines[0].Quantity.Add(qty(1))
	if s.Hash() == h {
		t.Error("hash unchanged after a quantity changed")
	}
}

func mustDraft(t *testing.T, tenantID string, terms Terms, tl *Tally) *Statement {
	t.Helper()
	s, err := Draft(tenantID, terms, tl)
	if err != nil {
		t.Fatalf("Draft: %v", err)
	}
	return s
}
