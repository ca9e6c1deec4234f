package statement

import (
	"fmt"
	"slices"

	"github.com/shopspring/decimal"

	"github.com/awumeter/awumeter/pipeline/price"
)

// Draft draws up the statement of a tally under terms: the list lines, the
// token_cost lines and the context lines, each amount rounded once to cents
// half-even, and the total of the billed ones. It has no adjustments; see
// [Adjust].
//
// The error is a *SumError when a derived quantity would overflow int64
// (credits = actions × credits per action + ...) or be negative (retries =
// attempts − AWUs); no statement is drawn up then.
func Draft(tenantID string, terms Terms, t *Tally) (*Statement, error) {
	s := &Statement{
		ID:       StatementID(tenantID, t.Period.Month),
		TenantID: tenantID,
		Period:   t.Period,
		Terms:    TermsOf(terms),
		Currency: USD,
		Status:   StatusDraft,
		Tally:    t,
	}
	flex := terms.Name() != price.PlanPerConversation
	perConv := !flex

	// Each credits line needs its own product, so the sum is taken here,
	// checked and attributed to its line.
	c := &checker{tenant: tenantID, month: t.Period.Month}
	textCredits := c.mul(ItemActions, t.TextActions, terms.ActionCredits())
	voiceCredits := c.mul(ItemVoiceActions, t.VoiceActions, terms.VoiceActionCredits())
	promptCredits := c.mul(ItemPromptAWUs, t.PromptAWUs, terms.PromptAWUCredits())
	credits := c.add(ItemCredits, c.add(ItemCredits, textCredits, voiceCredits), promptCredits)
	if t.Attempts < t.AWUs {
		c.fail(ItemRetries, ErrNegative, fmt.Sprintf("%d attempts for %d AWUs", t.Attempts, t.AWUs))
	}
	if c.err != nil {
		return nil, c.err
	}
	creditLine := func(item, unit string, n, per, amount int64) Line {
		return Line{Item: item, Quantity: qty(n), Unit: unit, UnitPrice: nullDec(qty(per)),
			Amount: nullDec(qty(amount)), Currency: Credits, Billed: flex, exact: qty(amount)}
	}
	s.Lines = append(s.Lines,
		creditLine(ItemActions, "action", t.TextActions, terms.ActionCredits(), textCredits),
		creditLine(ItemVoiceActions, "voice_action", t.VoiceActions, terms.VoiceActionCredits(), voiceCredits))
	if terms.PromptAWUCredits() != 0 {
		s.Lines = append(s.Lines, creditLine(ItemPromptAWUs, "awu", t.PromptAWUs, terms.PromptAWUCredits(), promptCredits))
	}
	s.Lines = append(s.Lines,
		Line{Item: ItemCredits, Quantity: qty(credits), Unit: "credit", Billed: flex},
		money(ItemFlexCreditAmount, "", qty(credits), "credit", nullDec(terms.CreditPrice()), terms.CreditsCost(credits), flex),
		Line{Item: ItemConversations, Quantity: qty(t.Conversations), Unit: "conversation", Billed: perConv},
		money(ItemConversationAmount, "", qty(t.Conversations), "conversation", nullDec(terms.ConversationPrice()),
			terms.ConversationCost(t.Conversations), perConv),
	)
	s.Lines = append(s.Lines, tokenCostLines(t)...)

	context := func(item, unit string, n int64) Line { return Line{Item: item, Quantity: qty(n), Unit: unit} }
	s.Lines = append(s.Lines,
		context(ItemAWUsAttempted, "awu", t.AWUs),
		context(ItemAWUsSucceeded, "awu", t.Succeeded),
		context(ItemAWUsValidated, "awu", t.Validated),
		context(ItemRetries, "attempt", t.Attempts-t.AWUs),
		context(ItemInputTokens, "token", t.Tokens.InputTokens),
		context(ItemOutputTokens, "token", t.Tokens.OutputTokens),
		context(ItemCacheReadInputTokens, "token", t.Tokens.CacheReadInputTokens),
		context(ItemCacheCreationInputTokens, "token", t.Tokens.CacheCreationInputTokens),
		context(ItemReasoningTokens, "token", t.Tokens.ReasoningTokens),
		context(ItemUnpricedTokens, "token", t.UnpricedTokens),
	)
	s.sumTotal()
	s.ContentHash = s.Hash()
	return s, nil
}

// money is a USD line whose amount is exact rounded once to cents.
func money(item, model string, q decimal.Decimal, unit string, unitPrice decimal.NullDecimal, exact decimal.Decimal, billed bool) Line {
	return Line{Item: item, Model: model, Quantity: q, Unit: unit, UnitPrice: unitPrice,
		Amount: nullDec(roundCents(exact)), Currency: USD, Billed: billed, exact: exact}
}

// tokenCostLines are the compute cost lines, one per model, sorted by model.
// Their quantity is the model's tokens (input + output) and they have no
// unit price: a model's tokens are priced by kind, by the price in force at
// each event and by the long-context tier of each request. Cost the source
// does not split by model, or all of it when the source has no per-model
// rows, is on one line for model "*". Quantities are exact decimals, so
// input + output cannot wrap.
func tokenCostLines(t *Tally) []Line {
	var lines []Line
	restTokens := qty(t.Tokens.InputTokens).Add(qty(t.Tokens.OutputTokens))
	restCost := t.TokenCost
	models := make([]string, 0, len(t.Models))
	for m := range t.Models {
		models = append(models, m)
	}
	slices.Sort(models)
	for _, name := range models {
		m := t.Models[name]
		n := qty(m.Tokens.InputTokens).Add(qty(m.Tokens.OutputTokens))
		restTokens = restTokens.Sub(n)
		restCost = restCost.Sub(m.TokenCost)
		lines = append(lines, money(ItemTokenCost, name, n, "token", decimal.NullDecimal{}, m.TokenCost, false))
	}
	if len(lines) == 0 || !restTokens.IsZero() || !restCost.IsZero() {
		lines = append(lines, money(ItemTokenCost, AllModels, restTokens, "token", decimal.NullDecimal{}, restCost, false))
	}
	return lines
}
