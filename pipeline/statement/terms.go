package statement

import (
	"github.com/shopspring/decimal"

	"github.com/awumeter/awumeter/pipeline/price"
)

// Terms are the list prices a statement is drawn up with. *price.Plan
// satisfies it for drafts; a closed statement keeps its own [PlanTerms], so
// a later change of the price book never re-prices a closed month.
type Terms interface {
	// Name is the billed plan: price.PlanFlexCredits or price.PlanPerConversation.
	Name() string
	CreditsCost(credits int64) decimal.Decimal
	ConversationCost(conversations int64) decimal.Decimal
	CreditPrice() decimal.Decimal
	ConversationPrice() decimal.Decimal
	ActionCredits() int64
	VoiceActionCredits() int64
	PromptAWUCredits() int64
}

var _ Terms = (*price.Plan)(nil)

// PlanTerms is a recorded copy of a plan's list prices, as stored with a
// closed statement.
type PlanTerms struct {
	Plan                  string
	ActionCreditsPer      int64
	VoiceActionCreditsPer int64
	PromptAWUCreditsPer   int64
	CreditUnitPrice       decimal.Decimal
	ConversationUnitPrice decimal.Decimal
}

// TermsOf records the list prices of t.
func TermsOf(t Terms) PlanTerms {
	return PlanTerms{
		Plan:                  t.Name(),
		ActionCreditsPer:      t.ActionCredits(),
		VoiceActionCreditsPer: t.VoiceActionCredits(),
		PromptAWUCreditsPer:   t.PromptAWUCredits(),
		CreditUnitPrice:       t.CreditPrice(),
		ConversationUnitPrice: t.ConversationPrice(),
	}
}

// Name implements Terms.
func (p PlanTerms) Name() string { return p.Plan }

// CreditsCost implements Terms: the recorded unit price times credits, the
// amount a closed statement line shows.
func (p PlanTerms) CreditsCost(credits int64) decimal.Decimal {
	return p.CreditUnitPrice.Mul(decimal.NewFromInt(credits))
}

// ConversationCost implements Terms.
func (p PlanTerms) ConversationCost(n int64) decimal.Decimal {
	return p.ConversationUnitPrice.Mul(decimal.NewFromInt(n))
}

// CreditPrice implements Terms.
func (p PlanTerms) CreditPrice() decimal.Decimal { return p.CreditUnitPrice }

// ConversationPrice implements Terms.
func (p PlanTerms) ConversationPrice() decimal.Decimal { return p.ConversationUnitPrice }

// ActionCredits implements Terms.
func (p PlanTerms) ActionCredits() int64 { return p.ActionCreditsPer }

// VoiceActionCredits implements Terms.
func (p PlanTerms) VoiceActionCredits() int64 { return p.VoiceActionCreditsPer }

// PromptAWUCredits implements Terms.
func (p PlanTerms) PromptAWUCredits() int64 { return p.PromptAWUCreditsPer }
