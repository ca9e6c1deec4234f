package price

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// compile validates a decoded price book and builds the Book. It reports
// every problem, each prefixed with the path of its entry and key.
func compile(cfg *fileConfig) (*Book, error) {
	c := &compiler{b: &Book{byName: map[string]*model{}, plans: map[string]*Plan{}}}
	if cfg.Currency != "" && cfg.Currency != "USD" {
		c.errorf("currency", "must be USD, not %q", cfg.Currency)
	}
	if len(cfg.Models) == 0 {
		c.errorf("models", "must list at least one model")
	}
	owner := map[string]string{} // lowercased exact name -> path of the model that has it
	for i := range cfg.Models {
		c.model(i, &cfg.Models[i], owner)
	}
	c.plans(&cfg.Plans, cfg.Tenants)
	if len(c.errs) > 0 {
		return nil, errors.Join(c.errs...)
	}
	c.b.init()
	return c.b, nil
}

type compiler struct {
	b    *Book
	errs []error
}

func (c *compiler) errorf(path, format string, args ...any) {
	c.errs = append(c.errs, fmt.Errorf("%s: %s", path, fmt.Sprintf(format, args...)))
}

func (c *compiler) model(i int, mc *modelConfig, owner map[string]string) {
	path := fmt.Sprintf("models[%d]", i)
	if mc.ID == "" {
		c.errorf(path+".id", "must be set")
	} else {
		path = fmt.Sprintf("models[%d] (id %q)", i, mc.ID)
	}
	m := &model{id: mc.ID}
	c.b.models = append(c.b.models, m)

	addName := func(key, name string) {
		if strings.TrimSpace(name) == "" {
			c.errorf(path+"."+key, "must not be empty")
			return
		}
		l := strings.ToLower(name)
		if prev, dup := owner[l]; dup {
			if prev == path {
				c.errorf(path+"."+key, "%q is listed twice", name)
			} else {
				c.errorf(path+"."+key, "%q is already a name of %s; names are compared case-insensitively and must be unique", name, prev)
			}
			return
		}
		owner[l] = path
		c.b.byName[name] = m
		c.b.byName[l] = m
	}
	if mc.ID != "" {
		addName("id", mc.ID)
	}
	for j, a := range mc.Match.Aliases {
		addName(fmt.Sprintf("match.aliases[%d]", j), a)
	}
	for j, p := range mc.Match.Patterns {
		key := fmt.Sprintf("%s.match.patterns[%d]", path, j)
		re, err := regexp.Compile(p)
		if err != nil {
			c.errorf(key, "invalid regular expression: %v", err)
			continue
		}
		if p == "" {
			c.errorf(key, "must not be empty")
			continue
		}
		c.b.patterns = append(c.b.patterns, pattern{re: re, model: m})
	}

	if len(mc.Prices) == 0 {
		c.errorf(path+".prices", "must list at least one price")
	}
	var periods []indexedPeriod
	for j := range mc.Prices {
		if p, ok := c.period(fmt.Sprintf("%s.prices[%d]", path, j), mc.ID, &mc.Prices[j]); ok {
			periods = append(periods, indexedPeriod{p, j})
		}
	}
	c.checkOverlaps(path, periods)
	for _, ip := range periods {
		m.periods = append(m.periods, ip.p)
	}
}

// indexedPeriod is a compiled period with its index in the file.
type indexedPeriod struct {
	p period
	j int
}

// checkOverlaps sorts periods by start and reports any that overlap the one
// before it. Only the last period may be open-ended.
func (c *compiler) checkOverlaps(path string, periods []indexedPeriod) {
	slices.SortStableFunc(periods, func(a, b indexedPeriod) int { return a.p.from.Compare(b.p.from) })
	for k := 1; k < len(periods); k++ {
		prev, cur := periods[k-1], periods[k]
		if prev.p.to.IsZero() || prev.p.to.After(cur.p.from) {
			end := "open-ended"
			if !prev.p.to.IsZero() {
				end = "to " + prev.p.to.Format(time.RFC3339)
			}
			c.errorf(fmt.Sprintf("%s.prices[%d]", path, cur.j),
				"effective range from %s overlaps prices[%d] (from %s, %s); set effective_to on the earlier price",
				cur.p.from.Format(time.RFC3339), prev.j, prev.p.from.Format(time.RFC3339), end)
		}
	}
}

func (c *compiler) period(path, id string, pc *priceConfig) (period, bool) {
	n := len(c.errs)
	var p period
	if !pc.EffectiveFrom.set {
		c.errorf(path+".effective_from", "must be set (a date like 2025-01-01 or an RFC 3339 time)")
	} else if t, err := parseTime(pc.EffectiveFrom); err != nil {
		c.errorf(path+".effective_from", "%v", err)
	} else {
		p.from = t
	}
	if pc.EffectiveTo.set {
		if t, err := parseTime(pc.EffectiveTo); err != nil {
			c.errorf(path+".effective_to", "%v", err)
		} else if !p.from.IsZero() && !t.After(p.from) {
			c.errorf(path+".effective_to", "must be after effective_from")
		} else {
			p.to = t
		}
	}
	base, ok := c.prices(path, &pc.tokenPrices)
	if ok {
		p.base = newRate(id, p.from, p.to, false, 0, base)
	}
	p.tiers = c.tiers(path, id, p.from, p.to, &pc.LongContext)
	return p, len(c.errs) == n
}

// tiers validates the long-context tiers of a price. In the list form the
// thresholds must be distinct and listed in ascending order, so that every
// input token count selects one tier (the highest threshold it exceeds)
// without depending on the order of the file.
func (c *compiler) tiers(path, id string, from, to time.Time, lc *longContextConfig) []tier {
	if lc.List && len(lc.Tiers) == 0 {
		c.errorf(path+".long_context", "must list at least one tier, or be left out")
		return nil
	}
	var out []tier
	prev := -1 // index in lc.Tiers of the last tier with a valid threshold
	var prevAbove int64
	for j := range lc.Tiers {
		tc := &lc.Tiers[j]
		tpath := path + ".long_context"
		if lc.List {
			tpath = fmt.Sprintf("%s.long_context[%d]", path, j)
		}
		n := len(c.errs)
		var above int64
		if !tc.AboveInputTokens.set {
			c.errorf(tpath+".above_input_tokens", "must be set (a whole number of input tokens)")
		} else if v, err := strconv.ParseInt(strings.TrimSpace(tc.AboveInputTokens.text), 10, 64); err != nil || v < 0 {
			c.errorf(tpath+".above_input_tokens", "must be a whole number of tokens >= 0, not %q", tc.AboveInputTokens.text)
		} else {
			above = v
			if prev >= 0 {
				switch {
				case above == prevAbove:
					c.errorf(tpath+".above_input_tokens", "%d is also the threshold of long_context[%d]; each tier needs its own threshold", above, prev)
				case above < prevAbove:
					c.errorf(tpath+".above_input_tokens", "%d is below the threshold of long_context[%d] (%d); list tiers in ascending order of above_input_tokens", above, prev, prevAbove)
				}
			}
			if prev < 0 || above > prevAbove {
				prev, prevAbove = j, above
			}
		}
		prices, ok := c.prices(tpath, &tc.tokenPrices)
		if ok && len(c.errs) == n {
			out = append(out, tier{above: above, rate: newRate(id, from, to, true, above, prices)})
		}
	}
	return out
}

// prices validates the five prices of a tier and applies their defaults.
func (c *compiler) prices(path string, tp *tokenPrices) (Prices, bool) {
	n := len(c.errs)
	get := func(key string, s scalar, required bool) decimal.Decimal {
		if !s.set {
			if required {
				c.errorf(path+"."+key, "must be set (USD per 1M tokens)")
			}
			return decimal.Decimal{}
		}
		d, err := parseMoney(s, TokenPricePlaces)
		if err != nil {
			c.errorf(path+"."+key, "%v", err)
		}
		return d
	}
	p := Prices{
		Input:         get("input", tp.Input, true),
		Output:        get("output", tp.Output, true),
		CacheRead:     get("cache_read", tp.CacheRead, false),
		CacheCreation: get("cache_creation", tp.CacheCreation, false),
		Reasoning:     get("reasoning", tp.Reasoning, false),
	}
	if !tp.CacheRead.set {
		p.CacheRead = p.Input
	}
	if !tp.CacheCreation.set {
		p.CacheCreation = p.Input
	}
	if !tp.Reasoning.set {
		p.Reasoning = p.Output
	}
	return p, len(c.errs) == n
}

// parseMoney reads a non-negative exact decimal with at most places
// fractional digits (trailing zeros aside) from the YAML text.
func parseMoney(s scalar, places int32) (decimal.Decimal, error) {
	d, err := decimal.NewFromString(strings.TrimSpace(s.text))
	if err != nil {
		return decimal.Decimal{}, fmt.Errorf("must be a decimal number, not %q", s.text)
	}
	if d.IsNegative() {
		return decimal.Decimal{}, fmt.Errorf("must be >= 0, not %s", s.text)
	}
	if !d.Truncate(places).Equal(d) {
		return decimal.Decimal{}, fmt.Errorf("must have at most %d decimal places (amounts are stored with %d), not %s", places, MoneyPlaces, s.text)
	}
	if d.GreaterThan(maxMoney()) {
		return decimal.Decimal{}, fmt.Errorf("must be at most %d, not %s", MaxMoney, s.text)
	}
	return d, nil
}

// parseCount reads a non-negative whole number from the YAML text.
func parseCount(s scalar) (int64, error) {
	v, err := strconv.ParseInt(strings.TrimSpace(s.text), 10, 64)
	if err != nil || v < 0 {
		return 0, fmt.Errorf("must be a whole number >= 0, not %q", s.text)
	}
	return v, nil
}

// parseTime reads a date (midnight UTC) or an RFC 3339 time.
func parseTime(s scalar) (time.Time, error) {
	for _, layout := range timeLayouts {
		if t, err := time.Parse(layout, strings.TrimSpace(s.text)); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("must be a date like 2025-01-01 or an RFC 3339 time, not %q", s.text)
}

// plans builds the default plan and one plan per tenant entry.
func (c *compiler) plans(pc *plansConfig, tenants []tenantConfig) {
	base := defaultPlan()
	c.applyPlanValues("plans.flex_credits", &base, &pc.FlexCredits, nil)
	c.applyPlanValues("plans.per_conversation", &base, nil, &pc.PerConversation)
	if pc.Default != "" {
		if !validPlanName(pc.Default) {
			c.errorf("plans.default", "must be %s or %s, not %q", PlanFlexCredits, PlanPerConversation, pc.Default)
		} else {
			base.name = pc.Default
		}
	}
	if !base.finish() {
		c.inexactCredit("plans.flex_credits", &base)
	}
	c.b.defaultPlan = &base

	for i := range tenants {
		tc := &tenants[i]
		path := fmt.Sprintf("tenants[%d]", i)
		if tc.TenantID == "" {
			c.errorf(path+".tenant_id", "must be set")
		} else {
			path = fmt.Sprintf("tenants[%d] (tenant_id %q)", i, tc.TenantID)
			if _, dup := c.b.plans[tc.TenantID]; dup {
				c.errorf(path+".tenant_id", "duplicate tenant; each tenant has one entry")
				continue
			}
		}
		p := base
		if tc.Plan != "" {
			if !validPlanName(tc.Plan) {
				c.errorf(path+".plan", "must be %s or %s, not %q", PlanFlexCredits, PlanPerConversation, tc.Plan)
			} else {
				p.name = tc.Plan
			}
		}
		c.applyPlanValues(path, &p, &tc.flexCreditsConfig, &tc.perConversationConfig)
		if !p.finish() {
			c.inexactCredit(path, &p)
		}
		if tc.TenantID != "" {
			c.b.plans[tc.TenantID] = &p
		}
	}
}

// inexactCredit reports a block price that does not divide into its credits
// at MoneyPlaces: every credits amount would have to be rounded.
func (c *compiler) inexactCredit(path string, p *Plan) {
	c.errorf(path+".block_price", "block_price ÷ block_credits (%s ÷ %d) must be exact to %d decimal places, the precision amounts are stored with",
		p.blockPrice, p.blockCredits, MoneyPlaces)
}

func validPlanName(s string) bool { return s == PlanFlexCredits || s == PlanPerConversation }

// applyPlanValues overrides the values of p that are set in fc and pc.
func (c *compiler) applyPlanValues(path string, p *Plan, fc *flexCreditsConfig, pc *perConversationConfig) {
	money := func(key string, s scalar, dst *decimal.Decimal) {
		if !s.set {
			return
		}
		if d, err := parseMoney(s, MoneyPlaces); err != nil {
			c.errorf(path+"."+key, "%v", err)
		} else {
			*dst = d
		}
	}
	count := func(key string, s scalar, dst *int64) {
		if !s.set {
			return
		}
		if v, err := parseCount(s); err != nil {
			c.errorf(path+"."+key, "%v", err)
		} else {
			*dst = v
		}
	}
	if fc != nil {
		money("block_price", fc.BlockPrice, &p.blockPrice)
		count("block_credits", fc.BlockCredits, &p.blockCredits)
		if fc.BlockCredits.set && p.blockCredits == 0 {
			c.errorf(path+".block_credits", "must be > 0")
			p.blockCredits = 1
		}
		count("action_credits", fc.ActionCredits, &p.actionCredits)
		count("voice_action_credits", fc.VoiceActionCredits, &p.voiceActionCredits)
		count("prompt_awu_credits", fc.PromptAWUCredits, &p.promptAWUCredits)
	}
	if pc != nil {
		money("conversation_price", pc.ConversationPrice, &p.conversationPrice)
	}
}
