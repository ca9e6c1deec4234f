package statement

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/shopspring/decimal"

	"github.com/awumeter/awumeter/pipeline/engine"
)

// ModelRow is the final version of one AWU's token use with one model, a
// row of the awu_models table (JSON names are its column names).
type ModelRow struct {
	TenantID    string    `json:"tenant_id"`
	WorkcycleID string    `json:"workcycle_id"`
	AWUID       string    `json:"awu_id"`
	Model       string    `json:"model"`
	FirstSeen   time.Time `json:"first_seen"`

	engine.TokenCounts

	TokenCost      decimal.Decimal `json:"token_cost"`
	UnpricedTokens int64           `json:"unpriced_tokens"`
	Version        uint64          `json:"version"`
}

// Tally accumulates one tenant's final rows for one period. Every source
// feeds its rows here, and the Add methods attribute them: a row outside the
// period is ignored, so sources may over-select. Feed each final row once.
//
// Every sum is checked: a row with a negative count or cost, or a row whose
// addition would take a sum past the largest int64 (9223372036854775807),
// is refused with a *SumError and leaves the tally as it was. A statement is
// never drawn up from a wrapped or negative sum.
type Tally struct {
	// TenantID names the tenant in errors; the sources set it.
	TenantID string
	Period   Period

	AWUs, Succeeded, Failed, Validated, RolledBack int64
	// TextActions and VoiceActions are the billable actions by channel
	// (engine.AWURow.BillableAction, VoiceAction); PromptAWUs are the
	// prompt AWUs.
	TextActions, VoiceActions, PromptAWUs int64
	Attempts                              int64
	Tokens                                engine.TokenCounts
	UnpricedTokens                        int64
	// TokenCost is the exact sum of the rows' token cost.
	TokenCost decimal.Decimal
	// RowCredits is the sum of the credits the engine wrote on the rows.
	RowCredits int64

	Conversations int64
	conversations map[string]struct{}

	// Models is the per-model split, by model; nil when the source has none.
	Models map[string]*ModelTally
}

// ModelTally is the token use and cost of one model in a period.
type ModelTally struct {
	Tokens         engine.TokenCounts
	TokenCost      decimal.Decimal
	UnpricedTokens int64
}

// NewTally returns an empty tally for p.
func NewTally(p Period) *Tally {
	return &Tally{Period: p, TokenCost: decimal.Zero, conversations: map[string]struct{}{}}
}

// AddAWU counts an AWU in the month of its first event. It reports whether
// the AWU belongs to the period; the error is a *SumError when the row has a
// negative count or cost, or when a sum would overflow int64, and the tally
// is then unchanged.
func (t *Tally) AddAWU(r *engine.AWURow) (bool, error) {
	if !t.Period.Contains(r.FirstSeen) {
		return false, nil
	}
	c := t.checker("")
	c.nonNegative("attempts", r.Attempts)
	c.nonNegativeTokens(r.TokenCounts)
	c.nonNegative(ItemUnpricedTokens, r.UnpricedTokens)
	c.nonNegative(ItemCredits, r.Credits)
	c.nonNegativeCost(r.TokenCost)
	if c.err != nil {
		return false, c.err
	}
	succeeded := r.Status == engine.StatusSucceeded
	one := func(cond bool) int64 {
		if cond {
			return 1
		}
		return 0
	}
	awus := c.add(ItemAWUsAttempted, t.AWUs, 1)
	succ := c.add(ItemAWUsSucceeded, t.Succeeded, one(succeeded))
	failed := c.add("awus_failed", t.Failed, one(!succeeded))
	validated := c.add(ItemAWUsValidated, t.Validated, one(r.Validated))
	rolledBack := c.add("awus_rolled_back", t.RolledBack, one(r.RolledBack))
	prompt := c.add(ItemPromptAWUs, t.PromptAWUs, one(r.Kind != engine.KindTool))
	voice := c.add(ItemVoiceActions, t.VoiceActions, one(r.VoiceAction()))
	text := c.add(ItemActions, t.TextActions, one(r.BillableAction() && !r.VoiceAction()))
	attempts := c.add("attempts", t.Attempts, r.Attempts)
	tokens := c.addTokens(t.Tokens, r.TokenCounts)
	unpriced := c.add(ItemUnpricedTokens, t.UnpricedTokens, r.UnpricedTokens)
	credits := c.add(ItemCredits, t.RowCredits, r.Credits)
	if c.err != nil {
		return false, c.err
	}
	t.AWUs, t.Succeeded, t.Failed, t.Validated, t.RolledBack = awus, succ, failed, validated, rolledBack
	t.PromptAWUs, t.VoiceActions, t.TextActions = prompt, voice, text
	t.Attempts, t.Tokens, t.UnpricedTokens, t.RowCredits = attempts, tokens, unpriced, credits
	t.TokenCost = t.TokenCost.Add(r.TokenCost)
	return true, nil
}

// UsageRow is the usage of a tenant's AWUs of one kind and channel: a sum of
// rows of the rollup_usage_daily table (JSON names are its column names).
// Counts are UInt64 and sums of Int64 columns Decimal(38, 0) there, so that
// no sum wraps; AddUsage refuses what does not fit int64.
type UsageRow struct {
	Kind    engine.AWUKind    `json:"kind"`
	Channel engine.AWUChannel `json:"channel"`

	AWUs         uint64 `json:"awus"`
	Succeeded    uint64 `json:"awus_succeeded"`
	Failed       uint64 `json:"awus_failed"`
	Validated    uint64 `json:"awus_validated"`
	RolledBack   uint64 `json:"awus_rolled_back"`
	Actions      uint64 `json:"actions"`       // billable actions, both channels
	VoiceActions uint64 `json:"voice_actions"` // the voice ones among Actions

	Attempts                 decimal.Decimal `json:"attempts"`
	InputTokens              decimal.Decimal `json:"input_tokens"`
	OutputTokens             decimal.Decimal `json:"output_tokens"`
	CacheReadInputTokens     decimal.Decimal `json:"cache_read_input_tokens"`
	CacheCreationInputTokens decimal.Decimal `json:"cache_creation_input_tokens"`
	ReasoningTokens          decimal.Decimal `json:"reasoning_tokens"`
	TokenCost                decimal.Decimal `json:"token_cost"` // USD
	Credits                  decimal.Decimal `json:"credits"`
	UnpricedTokens           decimal.Decimal `json:"unpriced_tokens"`
}

// ModelUsageRow is the token use and cost of one model: a sum of rows of the
// rollup_model_usage_daily table.
type ModelUsageRow struct {
	Model                    string          `json:"model"`
	InputTokens              decimal.Decimal `json:"input_tokens"`
	OutputTokens             decimal.Decimal `json:"output_tokens"`
	CacheReadInputTokens     decimal.Decimal `json:"cache_read_input_tokens"`
	CacheCreationInputTokens decimal.Decimal `json:"cache_creation_input_tokens"`
	ReasoningTokens          decimal.Decimal `json:"reasoning_tokens"`
	TokenCost                decimal.Decimal `json:"token_cost"` // USD
	UnpricedTokens           decimal.Decimal `json:"unpriced_tokens"`
}

// AddUsage adds rollup usage that lies in the period: the caller selects
// it. The error is a *SumError when a value is negative or a sum would not
// fit int64; the tally is then unchanged.
func (t *Tally) AddUsage(r *UsageRow) error {
	c := t.checker("")
	awus := c.count(ItemAWUsAttempted, r.AWUs)
	succeeded := c.count(ItemAWUsSucceeded, r.Succeeded)
	failed := c.count("awus_failed", r.Failed)
	validated := c.count(ItemAWUsValidated, r.Validated)
	rolledBack := c.count("awus_rolled_back", r.RolledBack)
	actions := c.count(ItemActions, r.Actions)
	voice := c.count(ItemVoiceActions, r.VoiceActions)
	if c.err == nil && voice > actions {
		c.fail(ItemActions, ErrNegative, fmt.Sprintf("%d voice actions of %d actions", voice, actions))
	}
	row := engine.AWURow{
		Attempts: c.whole("attempts", r.Attempts),
		TokenCounts: engine.TokenCounts{
			InputTokens:              c.whole(ItemInputTokens, r.InputTokens),
			OutputTokens:             c.whole(ItemOutputTokens, r.OutputTokens),
			CacheReadInputTokens:     c.whole(ItemCacheReadInputTokens, r.CacheReadInputTokens),
			CacheCreationInputTokens: c.whole(ItemCacheCreationInputTokens, r.CacheCreationInputTokens),
			ReasoningTokens:          c.whole(ItemReasoningTokens, r.ReasoningTokens),
		},
		Credits:        c.whole(ItemCredits, r.Credits),
		UnpricedTokens: c.whole(ItemUnpricedTokens, r.UnpricedTokens),
	}
	c.nonNegativeCost(r.TokenCost)
	var prompts int64
	if r.Kind != engine.KindTool {
		prompts = awus
	}
	sums := [...]struct {
		field string
		sum   *int64
		v     int64
	}{
		{ItemAWUsAttempted, &t.AWUs, awus}, {ItemAWUsSucceeded, &t.Succeeded, succeeded}, {"awus_failed", &t.Failed, failed},
		{ItemAWUsValidated, &t.Validated, validated}, {"awus_rolled_back", &t.RolledBack, rolledBack},
		{ItemPromptAWUs, &t.PromptAWUs, prompts}, {ItemVoiceActions, &t.VoiceActions, voice},
		{ItemActions, &t.TextActions, actions - voice}, {"attempts", &t.Attempts, row.Attempts},
		{ItemUnpricedTokens, &t.UnpricedTokens, row.UnpricedTokens}, {ItemCredits, &t.RowCredits, row.Credits},
	}
	var next [len(sums)]int64
	for i, s := range sums {
		next[i] = c.add(s.field, *s.sum, s.v)
	}
	tokens := c.addTokens(t.Tokens, row.TokenCounts)
	if c.err != nil {
		return c.err
	}
	for i, s := range sums {
		*s.sum = next[i]
	}
	t.Tokens = tokens
	t.TokenCost = t.TokenCost.Add(r.TokenCost)
	return nil
}

// AddModelUsage adds one model's rollup usage that lies in the period;
// errors as for [Tally.AddUsage].
func (t *Tally) AddModelUsage(r *ModelUsageRow) error {
	c := t.checker(r.Model)
	m := ModelRow{
		Model: r.Model, FirstSeen: t.Period.Start,
		TokenCounts: engine.TokenCounts{
			InputTokens:              c.whole(ItemInputTokens, r.InputTokens),
			OutputTokens:             c.whole(ItemOutputTokens, r.OutputTokens),
			CacheReadInputTokens:     c.whole(ItemCacheReadInputTokens, r.CacheReadInputTokens),
			CacheCreationInputTokens: c.whole(ItemCacheCreationInputTokens, r.CacheCreationInputTokens),
			ReasoningTokens:          c.whole(ItemReasoningTokens, r.ReasoningTokens),
		},
		TokenCost:      r.TokenCost,
		UnpricedTokens: c.whole(ItemUnpricedTokens, r.UnpricedTokens),
	}
	if c.err != nil {
		return c.err
	}
	_, err := t.AddModel(&m)
	return err
}

// AddModel counts an AWU's use of one model in the month of the AWU's first
// event. It reports whether the row belongs to the period; errors as for
// [Tally.AddAWU].
func (t *Tally) AddModel(r *ModelRow) (bool, error) {
	if !t.Period.Contains(r.FirstSeen) {
		return false, nil
	}
	c := t.checker(r.Model)
	c.nonNegativeTokens(r.TokenCounts)
	c.nonNegative(ItemUnpricedTokens, r.UnpricedTokens)
	c.nonNegativeCost(r.TokenCost)
	if c.err != nil {
		return false, c.err
	}
	m := t.Models[r.Model]
	if m == nil {
		m = &ModelTally{TokenCost: decimal.Zero}
	}
	tokens := c.addTokens(m.Tokens, r.TokenCounts)
	unpriced := c.add(ItemUnpricedTokens, m.UnpricedTokens, r.UnpricedTokens)
	if c.err != nil {
		return false, c.err
	}
	if t.Models == nil {
		t.Models = map[string]*ModelTally{}
	}
	t.Models[r.Model] = m
	m.Tokens, m.UnpricedTokens = tokens, unpriced
	m.TokenCost = m.TokenCost.Add(r.TokenCost)
	return true, nil
}

// AddConversation counts a conversation whose first event, the earliest
// started_at of its workcycles, is firstEvent. It reports whether the
// conversation belongs to the period; an empty id is no conversation.
func (t *Tally) AddConversation(id string, firstEvent time.Time) bool {
	if id == "" || !t.Period.Contains(firstEvent) {
		return false
	}
	if _, dup := t.conversations[id]; !dup {
		t.conversations[id] = struct{}{}
		t.Conversations++
	}
	return true
}

// ConversationStarts finds the first event of every conversation from
// workcycle rows: the earliest started_at of its workcycles.
type ConversationStarts map[string]time.Time

// Add folds in one workcycle.
func (c ConversationStarts) Add(w *engine.WorkcycleRow) {
	if w.ConversationID == "" {
		return
	}
	if t, ok := c[w.ConversationID]; !ok || w.StartedAt.Before(t) {
		c[w.ConversationID] = w.StartedAt
	}
}

// Errors a *SumError wraps.
var (
	// ErrOverflow: a sum would not fit int64.
	ErrOverflow = errors.New("the sum would overflow int64")
	// ErrNegative: a row or a derived quantity is negative where only zero
	// or more makes sense (counts, tokens, credits, cost).
	ErrNegative = errors.New("a negative value")
)

// SumError is a statement quantity that cannot be stated exactly: a row with
// a negative count or cost, or a sum beyond int64. The statement is refused
// rather than drawn up with a wrapped or negative number.
type SumError struct {
	TenantID string
	Month    string // YYYY-MM
	// Field is the line item or row column, e.g. input_tokens or credits.
	Field string
	// Model is set for a per-model sum.
	Model  string
	Err    error // ErrOverflow or ErrNegative
	Detail string
}

func (e *SumError) Error() string {
	field := e.Field
	if e.Model != "" {
		field += fmt.Sprintf(" of model %q", e.Model)
	}
	// %q escapes every control and bidi character of the ids, which come
	// from data.
	return fmt.Sprintf("cannot draw up the statement of tenant %q for %s: %s: %v (%s)",
		e.TenantID, e.Month, field, e.Err, e.Detail)
}

func (e *SumError) Unwrap() error { return e.Err }

// checker stages checked sums; the first problem is kept in err and every
// later call is a no-op returning its input.
type checker struct {
	tenant, month, model string
	err                  error
}

func (t *Tally) checker(model string) *checker {
	return &checker{tenant: t.TenantID, month: t.Period.Month, model: model}
}

func (c *checker) fail(field string, err error, detail string) {
	if c.err == nil {
		c.err = &SumError{TenantID: c.tenant, Month: c.month, Field: field, Model: c.model, Err: err, Detail: detail}
	}
}

func (c *checker) nonNegative(field string, v int64) {
	if v < 0 {
		c.fail(field, ErrNegative, fmt.Sprintf("a row has %d", v))
	}
}

func (c *checker) nonNegativeTokens(n engine.TokenCounts) {
	c.nonNegative(ItemInputTokens, n.InputTokens)
	c.nonNegative(ItemOutputTokens, n.OutputTokens)
	c.nonNegative(ItemCacheReadInputTokens, n.CacheReadInputTokens)
	c.nonNegative(ItemCacheCreationInputTokens, n.CacheCreationInputTokens)
	c.nonNegative(ItemReasoningTokens, n.ReasoningTokens)
}

func (c *checker) nonNegativeCost(d decimal.Decimal) {
	if d.IsNegative() {
		c.fail(ItemTokenCost, ErrNegative, "a row has "+d.String()+" USD")
	}
}

// add is sum + v for v >= 0, refusing overflow.
func (c *checker) add(field string, sum, v int64) int64 {
	if c.err != nil {
		return sum
	}
	if v > math.MaxInt64-sum {
		c.fail(field, ErrOverflow, fmt.Sprintf("%d + %d is more than %d", sum, v, int64(math.MaxInt64)))
		return sum
	}
	return sum + v
}

// count is a UInt64 count from ClickHouse as an int64, refusing one past
// int64.
func (c *checker) count(field string, v uint64) int64 {
	if c.err == nil && v > math.MaxInt64 {
		c.fail(field, ErrOverflow, fmt.Sprintf("%d is more than %d", v, int64(math.MaxInt64)))
		return 0
	}
	return int64(v)
}

var maxInt64 = decimal.NewFromInt(math.MaxInt64)

// whole is a Decimal(38, 0) sum from ClickHouse as an int64, refusing a
// negative value or one past int64.
func (c *checker) whole(field string, d decimal.Decimal) int64 {
	switch {
	case c.err != nil:
		return 0
	case d.IsNegative():
		c.fail(field, ErrNegative, "a sum of "+d.String())
		return 0
	case d.GreaterThan(maxInt64):
		c.fail(field, ErrOverflow, fmt.Sprintf("%s is more than %d", d.String(), int64(math.MaxInt64)))
		return 0
	}
	return d.IntPart()
}

// mul is a × b for a, b >= 0, refusing overflow.
func (c *checker) mul(field string, a, b int64) int64 {
	if c.err != nil {
		return 0
	}
	if a != 0 && b > math.MaxInt64/a {
		c.fail(field, ErrOverflow, fmt.Sprintf("%d × %d is more than %d", a, b, int64(math.MaxInt64)))
		return 0
	}
	return a * b
}

func (c *checker) addTokens(sum, v engine.TokenCounts) engine.TokenCounts {
	return engine.TokenCounts{
		InputTokens:              c.add(ItemInputTokens, sum.InputTokens, v.InputTokens),
		OutputTokens:             c.add(ItemOutputTokens, sum.OutputTokens, v.OutputTokens),
		CacheReadInputTokens:     c.add(ItemCacheReadInputTokens, sum.CacheReadInputTokens, v.CacheReadInputTokens),
		CacheCreationInputTokens: c.add(ItemCacheCreationInputTokens, sum.CacheCreationInputTokens, v.CacheCreationInputTokens),
		ReasoningTokens:          c.add(ItemReasoningTokens, sum.ReasoningTokens, v.ReasoningTokens),
	}
}
