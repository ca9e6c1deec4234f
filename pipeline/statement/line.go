package statement

import "github.com/shopspring/decimal"

// Line items. The list lines come first; the tenant's plan decides which of
// them are billed. token_cost is the compute cost and is never billed under
// the shipped plans; the context lines carry quantities only.
const (
	ItemActions            = "actions"             // billable text actions, credits each
	ItemVoiceActions       = "voice_actions"       // billable voice actions, credits each
	ItemPromptAWUs         = "prompt_awus"         // prompt AWUs, only when the plan charges credits for them
	ItemCredits            = "credits"             // the credit total
	ItemFlexCreditAmount   = "flex_credit_amount"  // credits × credit price, USD
	ItemConversations      = "conversations"       // distinct conversations begun in the month
	ItemConversationAmount = "conversation_amount" // conversations × conversation price, USD
	ItemTokenCost          = "token_cost"          // compute cost of one model, USD

	ItemAWUsAttempted            = "awus_attempted"
	ItemAWUsSucceeded            = "awus_succeeded"
	ItemAWUsValidated            = "awus_validated"
	ItemRetries                  = "retries"
	ItemInputTokens              = "input_tokens"
	ItemOutputTokens             = "output_tokens"
	ItemCacheReadInputTokens     = "cache_read_input_tokens"
	ItemCacheCreationInputTokens = "cache_creation_input_tokens"
	ItemReasoningTokens          = "reasoning_tokens"
	ItemUnpricedTokens           = "unpriced_tokens"
)

// Currencies of line amounts. A statement has one currency, USD; the credit
// lines count credits, which the flex_credit_amount line turns into USD.
const (
	USD     = "USD"
	Credits = "credits"
)

// AllModels is the model of the single token_cost line of a source without a
// per-model breakdown.
const AllModels = "*"

// Line is one line item. Quantities and amounts are exact decimals; an amount
// in USD is already rounded to cents half-even. UnitPrice and Amount are
// invalid (null) on lines that only carry a quantity.
type Line struct {
	Item      string
	Model     string // token_cost lines only
	Quantity  decimal.Decimal
	Unit      string
	UnitPrice decimal.NullDecimal
	Amount    decimal.NullDecimal
	Currency  string // USD, Credits, or "" when there is no amount
	Billed    bool

	// exact is the amount before rounding; reconciliation compares it.
	exact decimal.Decimal
}

// key identifies a line within a statement.
func (l *Line) key() lineKey { return lineKey{l.Item, l.Model} }

type lineKey struct{ item, model string }

// Adjustment is a late-data delta to an earlier closed statement: the
// current recomputation of that month minus what was closed and minus the
// adjustments already made on statements closed since. Quantity and Amount
// are deltas.
type Adjustment struct {
	RefStatementID string
	RefMonth       string
	Line
}

// roundCents rounds an amount once, to cents, half to even.
func roundCents(d decimal.Decimal) decimal.Decimal { return d.RoundBank(2) }

func nullDec(d decimal.Decimal) decimal.NullDecimal {
	return decimal.NullDecimal{Decimal: d, Valid: true}
}

func qty(n int64) decimal.Decimal { return decimal.NewFromInt(n) }
