package statement

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"time"

	"github.com/shopspring/decimal"
)

// Statuses of a statement.
const (
	StatusDraft  = "draft"
	StatusClosed = "closed"
)

// Statement is one tenant's statement for one month.
type Statement struct {
	ID       string
	TenantID string
	Period   Period
	Terms    PlanTerms
	Currency string
	Status   string

	Lines       []Line
	Adjustments []Adjustment
	// Total is the sum of the billed USD amounts of Lines and Adjustments,
	// each already rounded to cents.
	Total decimal.Decimal

	// ContentHash is Hash() when the statement was drawn up or closed; a
	// draft whose hash equals its closed snapshot's has not changed.
	ContentHash string
	// Closing is set on closed statements.
	Closing *Closing

	// Tally is what a draft was computed from; nil on a closed statement.
	Tally *Tally
}

// Closing records how a statement was closed.
type Closing struct {
	ClosedAt time.Time
	// Forced is true when the statement was closed before its grace period
	// ended (--force).
	Forced bool
	Grace  time.Duration
	Cutoff Cutoff
}

// Cutoff is what a closed statement covers: every ledger event of the tenant
// at or below these offsets, ingested at or before IngestedAt.
type Cutoff struct {
	IngestedAt   time.Time
	Offsets      []PartitionOffset // sorted by topic, then partition
	LedgerEvents int64             // distinct events of the tenant in the ledger
}

// PartitionOffset is the highest ledger offset of one Kafka partition.
type PartitionOffset struct {
	Topic     string
	Partition int32
	Offset    int64
}

// sumTotal sets Total from the billed USD lines and adjustments.
func (s *Statement) sumTotal() {
	total := decimal.Zero
	for i := range s.Lines {
		if l := &s.Lines[i]; l.Billed && l.Currency == USD && l.Amount.Valid {
			total = total.Add(l.Amount.Decimal)
		}
	}
	for i := range s.Adjustments {
		if a := &s.Adjustments[i]; a.Billed && a.Currency == USD && a.Amount.Valid {
			total = total.Add(a.Amount.Decimal)
		}
	}
	s.Total = total
}

// Hash is "sha256:" and the hex SHA-256 of the statement's canonical form:
// compact JSON of its identity, period, terms, lines, adjustments and total,
// in a fixed field order, with every decimal written in its shortest exact
// form (13.5, not 13.50) and times in RFC 3339 UTC. Status, the closing time
// and the cutoff are not part of it, so a draft that still matches its
// closed snapshot has the snapshot's hash.
func (s *Statement) Hash() string {
	type canonLine struct {
		Kind      string  `json:"kind"`
		Ref       string  `json:"ref"`
		RefMonth  string  `json:"ref_month"`
		Item      string  `json:"item"`
		Model     string  `json:"model"`
		Quantity  string  `json:"quantity"`
		Unit      string  `json:"unit"`
		UnitPrice *string `json:"unit_price"`
		Amount    *string `json:"amount"`
		Currency  string  `json:"currency"`
		Billed    bool    `json:"billed"`
	}
	type canon struct {
		Version            int         `json:"v"`
		ID                 string      `json:"statement_id"`
		TenantID           string      `json:"tenant_id"`
		Month              string      `json:"month"`
		TimeZone           string      `json:"time_zone"`
		Start              string      `json:"period_start"`
		End                string      `json:"period_end"`
		Currency           string      `json:"currency"`
		Plan               string      `json:"plan"`
		ActionCredits      int64       `json:"action_credits"`
		VoiceActionCredits int64       `json:"voice_action_credits"`
		PromptAWUCredits   int64       `json:"prompt_awu_credits"`
		CreditPrice        string      `json:"credit_price"`
		ConversationPrice  string      `json:"conversation_price"`
		Lines              []canonLine `json:"lines"`
		Total              string      `json:"total"`
	}
	opt := func(d decimal.NullDecimal) *string {
		if !d.Valid {
			return nil
		}
		s := d.Decimal.String()
		return &s
	}
	line := func(kind, ref, refMonth string, l *Line) canonLine {
		return canonLine{kind, ref, refMonth, l.Item, l.Model, l.Quantity.String(), l.Unit,
			opt(l.UnitPrice), opt(l.Amount), l.Currency, l.Billed}
	}
	c := canon{
		Version: 1, ID: s.ID, TenantID: s.TenantID, Month: s.Period.Month, TimeZone: s.Period.TimeZone,
		Start: s.Period.Start.UTC().Format(time.RFC3339), End: s.Period.End.UTC().Format(time.RFC3339),
		Currency: s.Currency, Plan: s.Terms.Plan, ActionCredits: s.Terms.ActionCreditsPer,
		VoiceActionCredits: s.Terms.VoiceActionCreditsPer, PromptAWUCredits: s.Terms.PromptAWUCreditsPer,
		CreditPrice: s.Terms.CreditUnitPrice.String(), ConversationPrice: s.Terms.ConversationUnitPrice.String(),
		Lines: make([]canonLine, 0, len(s.Lines)+len(s.Adjustments)),
		Total: s.Total.String(),
	}
	for i := range s.Lines {
		c.Lines = append(c.Lines, line(KindLine, "", "", &s.Lines[i]))
	}
	for i := range s.Adjustments {
		a := &s.Adjustments[i]
		c.Lines = append(c.Lines, line(KindAdjustment, a.RefStatementID, a.RefMonth, &a.Line))
	}
	b, err := json.Marshal(c)
	if err != nil {
		panic("statement: canonical form does not marshal: " + err.Error()) // only strings, ints and bools
	}
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// Kinds of stored statement lines.
const (
	KindLine       = "line"
	KindAdjustment = "adjustment"
)
