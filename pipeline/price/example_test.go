package price_test

import (
	"fmt"
	"time"

	"github.com/awumeter/awumeter/pipeline/price"
)

func Example() {
	book := price.Default()
	at := time.Date(2026, 10, 5, 9, 30, 0, 0, time.UTC)

	u := price.Usage{InputTokens: 4000, OutputTokens: 800}
	if r, ok := book.Rate("anthropic/claude-sonnet-4.6", at, u.InputTokens); ok {
		fmt.Println(r.ModelID(), r.Cost(u))
	}

	plan := book.PlanFor("acme")
	credits, _ := plan.Credits(1, 1, 4) // one text action, one voice action, four prompts
	fmt.Println(plan.Name(), credits, plan.CreditsCost(credits))
	// Output:
	// claude-sonnet-4.6 0.024
	// flex_credits 50 0.25
}

// Unknown models are reported, never priced at $0: count their tokens as
// unpriced and warn once per name.
func ExampleUnknownModels() {
	book := price.Default()
	var unknown price.UnknownModels
	var unpriced int64
	for _, model := range []string{"gpt-x", "gemini-3-flash", "gpt-x"} {
		u := price.Usage{InputTokens: 100, OutputTokens: 10}
		if _, ok := book.Rate(model, time.Now(), u.InputTokens); !ok {
			total, err := u.Total() // an error only beyond int64
			if err != nil {
				fmt.Println(err)
				return
			}
			unpriced += total
			if unknown.Seen(model) {
				fmt.Printf("warning: no price for model %q; its tokens are unpriced\n", model)
			}
		}
	}
	fmt.Println("unpriced tokens:", unpriced)
	// Output:
	// warning: no price for model "gpt-x"; its tokens are unpriced
	// unpriced tokens: 220
}
