// Package price holds the price book and the one cost engine of awumeter.
//
// Cost per workcycle has two layers that are compared side by side:
//
//   - the compute cost: tokens times model prices, retries included, priced by
//     a [Rate] resolved from a model name and an event time;
//   - the platform list price: Flex Credits per action or a price per
//     conversation, priced by a tenant's [Plan].
//
// Finance needs both exact and reproducible for any past date, and price
// books change every few weeks. So every price is an exact decimal read from
// the YAML text (never through float64), every price carries the period it is
// in force, and [Rate.Cost] is the only implementation of the token cost
// formula: the work-unit engine, the ClickHouse sink, the statements and the
// awumeter cost command all call it.
//
// Precision: [Rate.Cost] is exact. Prices are decimals per million tokens; the
// per-token price is that decimal shifted six places, and products and sums
// are exact, so no digit is ever rounded away. Rounding happens only where a
// statement line is rounded to cents. Every amount is stored as ClickHouse
// Decimal(38, 12), so the loader accepts only prices whose amounts fit it
// exactly: at most [TokenPricePlaces] decimal places per 1M tokens, at most
// [MoneyPlaces] for plan prices, and a credit price (block price ÷ block
// credits) exact at [MoneyPlaces]. [Plan.CreditsCost] is then exact too.
//
// An unknown model is never priced at $0: [Book.Rate] reports ok=false, the
// caller counts the tokens as unpriced and warns once per model name with
// the help of [UnknownModels]. The data can be re-priced when the book is
// fixed.
//
// Resolution is on the hot path (once per token_usage event): an exact-name
// map lookup first, then a bounded cache of pattern results per model name.
// Callers that aggregate may key maps by the returned *Rate, which is a stable
// pointer for the same model entry, price period and tier, and price the
// summed usage once, because the cost is linear in usage for a given rate.
//
// The YAML format is documented in docs/pricebook.md.
package price
