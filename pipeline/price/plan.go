package price

import (
	"errors"
	"fmt"

	"github.com/shopspring/decimal"
)

// Plan names.
const (
	// PlanFlexCredits bills Flex Credits: credits per action, priced per block.
	PlanFlexCredits = "flex_credits"
	// PlanPerConversation bills a price per distinct conversation.
	PlanPerConversation = "per_conversation"
)

// Every amount is stored as ClickHouse Decimal(38, 12), so the price book
// only accepts prices whose amounts fit it exactly: a dollar amount keeps at
// most MoneyPlaces fractional digits, and a price per 1M tokens at most
// TokenPricePlaces (a per-token price of MoneyPlaces digits, so a token
// count times it never needs more).
const (
	MoneyPlaces      = 12
	TokenPricePlaces = MoneyPlaces - 6
)

// MaxMoney bounds every amount of a price book, USD ($1,000,000,000 per 1M
// tokens, per block of credits or per conversation): a price above it is a
// typo, and with it no cost of a workcycle's counts (each at most
// max_tokens_per_event) comes near the 26 integer digits of
// Decimal(38, 12).
const MaxMoney = 1_000_000_000

// maxMoney is MaxMoney as a decimal.
func maxMoney() decimal.Decimal { return decimal.NewFromInt(MaxMoney) }

// Plan is the list-price plan of a tenant, with the tenant's overrides
// applied. It holds the values of both plans so that statements can show the
// unbilled layer for context; Name says which one is billed.
type Plan struct {
	name               string
	blockPrice         decimal.Decimal
	blockCredits       int64
	actionCredits      int64
	voiceActionCredits int64
	promptAWUCredits   int64
	conversationPrice  decimal.Decimal
	// creditPrice is blockPrice ÷ blockCredits; the loader refuses plans
	// where that division is not exact at MoneyPlaces.
	creditPrice decimal.Decimal
}

// defaultPlan is the built-in flex_credits plan: $500 per 100,000 credits,
// 20 credits per action, 30 per voice action, 0 per prompt AWU, and $2 per
// conversation.
func defaultPlan() Plan {
	p := Plan{
		name:               PlanFlexCredits,
		blockPrice:         decimal.NewFromInt(500),
		blockCredits:       100000,
		actionCredits:      20,
		voiceActionCredits: 30,
		promptAWUCredits:   0,
		conversationPrice:  decimal.NewFromInt(2),
	}
	p.finish()
	return p
}

// finish derives the credit price once the plan values are final. It
// reports false when a credit's price has more than MoneyPlaces fractional
// digits, which could be neither stored nor billed exactly.
func (p *Plan) finish() bool {
	bc := decimal.NewFromInt(p.blockCredits)
	// The string round trip drops trailing zeros: 0.005, not 0.005000….
	p.creditPrice = decimal.RequireFromString(p.blockPrice.DivRound(bc, MoneyPlaces).String())
	return p.creditPrice.Mul(bc).Equal(p.blockPrice)
}

// Name is the billed plan: PlanFlexCredits or PlanPerConversation.
func (p *Plan) Name() string { return p.name }

// ErrCreditsOverflow is wrapped by [Plan.Credits] when the credits would
// pass int64 (9,223,372,036,854,775,807 credits).
var ErrCreditsOverflow = errors.New("credits overflow int64")

// Credits is the number of credits for the given billable actions, billable
// voice actions and prompt AWUs (each >= 0). It never wraps: a product or
// sum beyond int64 is an error wrapping [ErrCreditsOverflow] that names the
// count.
func (p *Plan) Credits(actions, voiceActions, promptAWUs int64) (int64, error) {
	var total int64
	for _, c := range [...]struct {
		what   string
		n, per int64
	}{
		{"actions", actions, p.actionCredits},
		{"voice actions", voiceActions, p.voiceActionCredits},
		{"prompt AWUs", promptAWUs, p.promptAWUCredits},
	} {
		part, ok := mul64(c.n, c.per)
		if ok {
			total, ok = addInt64(total, part)
		}
		if !ok {
			return 0, fmt.Errorf("%w: %d %s at %d credits each", ErrCreditsOverflow, c.n, c.what, c.per)
		}
	}
	return total, nil
}

// maxAWUCredits is the most credits one AWU can earn under the plan.
func (p *Plan) maxAWUCredits() int64 {
	return max(p.actionCredits, p.voiceActionCredits, p.promptAWUCredits)
}

// CreditsCost is the USD price of credits: block price × credits ÷ block
// credits ($0.005 per credit by default). See the package documentation for
// its precision.
func (p *Plan) CreditsCost(credits int64) decimal.Decimal {
	return p.creditPrice.Mul(decimal.NewFromInt(credits))
}

// ConversationCost is the USD price of the given distinct conversations.
func (p *Plan) ConversationCost(conversations int64) decimal.Decimal {
	return p.conversationPrice.Mul(decimal.NewFromInt(conversations))
}

// CreditPrice is the USD price of one credit, the unit price of a credits line.
func (p *Plan) CreditPrice() decimal.Decimal { return p.creditPrice }

// ConversationPrice is the USD price of one conversation.
func (p *Plan) ConversationPrice() decimal.Decimal { return p.conversationPrice }

// ActionCredits is the number of credits per billable text action.
func (p *Plan) ActionCredits() int64 { return p.actionCredits }

// VoiceActionCredits is the number of credits per billable voice action.
func (p *Plan) VoiceActionCredits() int64 { return p.voiceActionCredits }

// PromptAWUCredits is the number of credits per prompt AWU.
func (p *Plan) PromptAWUCredits() int64 { return p.promptAWUCredits }

// ListCost is the billed list price under the plan: CreditsCost of credits
// for flex_credits, ConversationCost of conversations for per_conversation.
func (p *Plan) ListCost(credits, conversations int64) decimal.Decimal {
	if p.name == PlanPerConversation {
		return p.ConversationCost(conversations)
	}
	return p.CreditsCost(credits)
}
