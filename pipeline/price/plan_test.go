package price

import (
	"strings"
	"testing"
)

func TestDefaultPlan(t *testing.T) {
	p := Default().PlanFor("any-tenant")
	if p.Name() != PlanFlexCredits {
		t.Errorf("plan %q, want %q", p.Name(), PlanFlexCredits)
	}
	for _, tc := range []struct {
		name                         string
		actions, voice, prompts, cre int64
	}{
		{"one text action is 20 credits", 1, 0, 0, 20},
		{"one voice action is 30 credits", 0, 1, 0, 30},
		{"prompt AWUs are free", 0, 0, 7, 0},
		{"mixed", 3, 2, 5, 120},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got, _ := p.Credits(tc.actions, tc.voice, tc.prompts); got != tc.cre {
				t.Errorf("Credits = %d, want %d", got, tc.cre)
			}
		})
	}
	for _, tc := range []struct {
		credits int64
		want    string
	}{
		{20, "0.1"},
		{30, "0.15"},
		{100000, "500"},
		{1, "0.005"},
		{0, "0"},
	} {
		if got := p.CreditsCost(tc.credits); got.String() != tc.want {
			t.Errorf("CreditsCost(%d) = %s, want %s", tc.credits, got, tc.want)
		}
	}
	if got := p.ConversationCost(3); got.String() != "6" {
		t.Errorf("ConversationCost(3) = %s, want 6", got)
	}
	if got := p.CreditPrice(); got.String() != "0.005" {
		t.Errorf("CreditPrice = %s, want 0.005", got)
	}
	if got := p.ListCost(20, 3); got.String() != "0.1" {
		t.Errorf("flex_credits ListCost = %s, want the credits cost 0.1", got)
	}
}

func TestTenantPlans(t *testing.T) {
	b := parseFixture(t, "good/tenants.yaml")
	t.Run("the book's default plan applies to other tenants", func(t *testing.T) {
		p := b.PlanFor("someone-else")
		if p.Name() != PlanPerConversation {
			t.Errorf("plan %q", p.Name())
		}
		if got := p.ConversationCost(2); got.String() != "3.5" {
			t.Errorf("ConversationCost(2) = %s, want 3.5", got)
		}
		if got := p.ListCost(20, 2); got.String() != "3.5" {
			t.Errorf("per_conversation ListCost = %s, want 3.5", got)
		}
		// block_price 450 per 100,000 credits is $0.0045 a credit.
		if got := p.CreditsCost(20); got.String() != "0.09" {
			t.Errorf("CreditsCost(20) = %s, want 0.09", got)
		}
	})
	t.Run("a tenant override changes one value", func(t *testing.T) {
		p := b.PlanFor("t-flex")
		if p.Name() != PlanFlexCredits {
			t.Errorf("plan %q", p.Name())
		}
		if got, _ := p.Credits(1, 1, 0); got != 60 {
			t.Errorf("Credits(1 action, 1 voice) = %d, want 20+40", got)
		}
	})
	t.Run("a tenant override keeps the default plan name", func(t *testing.T) {
		p := b.PlanFor("t-conv")
		if p.Name() != PlanPerConversation || p.ConversationCost(4).String() != "5" {
			t.Errorf("plan %q, 4 conversations %s; want per_conversation, 5", p.Name(), p.ConversationCost(4))
		}
	})
}

func TestCreditPriceMustBeExactToTwelvePlaces(t *testing.T) {
	// $1 per 1,024 credits is 0.0009765625 per credit: exact, so kept.
	b, err := Parse([]byte(`
models: [{id: m, prices: [{effective_from: 2025-01-01, input: 1, output: 1}]}]
plans: {flex_credits: {block_price: 1, block_credits: 1024}}
`))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := b.PlanFor("").CreditsCost(3).String(), "0.0029296875"; got != want {
		t.Errorf("CreditsCost(3) = %s, want %s", got, want)
	}
	// $100 per 3 credits would need rounding on every amount: refused.
	_, err = Parse([]byte(`
models: [{id: m, prices: [{effective_from: 2025-01-01, input: 1, output: 1}]}]
plans: {flex_credits: {block_price: 100, block_credits: 3}}
`))
	if err == nil || !strings.Contains(err.Error(), "plans.flex_credits.block_price: block_price ÷ block_credits (100 ÷ 3) must be exact to 12 decimal places") {
		t.Errorf("err = %v, want the inexact credit price refused", err)
	}
}
