package statement

import (
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
type Tally struct {
	Period Period

	AWUs, Succeeded, Failed, Validated, RolledBack int64
	// TextActions and VoiceActions are the billable actions (succeeded tool
	// AWUs) by channel; PromptAWUs are the prompt AWUs.
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
// the AWU belongs to the period.
func (t *Tally) AddAWU(r *engine.AWURow) bool {
	if !t.Period.Contains(r.FirstSeen) {
		return false
	}
	t.AWUs++
	succeeded := r.Status == "succeeded"
	if succeeded {
		t.Succeeded++
	} else {
		t.Failed++
	}
	if r.Validated {
		t.Validated++
	}
	if r.RolledBack {
		t.RolledBack++
	}
	switch {
	case r.Kind != "tool":
		t.PromptAWUs++
	case succeeded && r.Channel == "voice":
		t.VoiceActions++
	case succeeded:
		t.TextActions++
	}
	t.Attempts += r.Attempts
	addTokens(&t.Tokens, r.TokenCounts)
	t.UnpricedTokens += r.UnpricedTokens
	t.TokenCost = t.TokenCost.Add(r.TokenCost)
	t.RowCredits += r.Credits
	return true
}

// AddModel counts an AWU's use of one model in the month of the AWU's first
// event. It reports whether the row belongs to the period.
func (t *Tally) AddModel(r *ModelRow) bool {
	if !t.Period.Contains(r.FirstSeen) {
		return false
	}
	if t.Models == nil {
		t.Models = map[string]*ModelTally{}
	}
	m := t.Models[r.Model]
	if m == nil {
		m = &ModelTally{TokenCost: decimal.Zero}
		t.Models[r.Model] = m
	}
	addTokens(&m.Tokens, r.TokenCounts)
	m.TokenCost = m.TokenCost.Add(r.TokenCost)
	m.UnpricedTokens += r.UnpricedTokens
	return true
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

func addTokens(dst *engine.TokenCounts, src engine.TokenCounts) {
	dst.InputTokens += src.InputTokens
	dst.OutputTokens += src.OutputTokens
	dst.CacheReadInputTokens += src.CacheReadInputTokens
	dst.CacheCreationInputTokens += src.CacheCreationInputTokens
	dst.ReasoningTokens += src.ReasoningTokens
}
