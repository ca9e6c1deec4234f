package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/shopspring/decimal"
	"github.com/spf13/cobra"

	"github.com/awumeter/awumeter/internal/textsafe"
	"github.com/awumeter/awumeter/pipeline/price"
)

func init() { register(newCostCmd) }

// costFlags are the flags of awumeter cost.
type costFlags struct {
	model         string
	usage         price.Usage
	attempts      int64
	actions       int64
	voiceActions  int64
	promptAWUs    int64
	conversations int64
	tenant        string
	at            string
	pricebook     string
	format        string
}

func newCostCmd() *cobra.Command {
	var f costFlags
	cmd := &cobra.Command{
		Use:   "cost",
		Short: "Price one workcycle: token cost and list cost",
		Long: `Print the token cost of one workcycle of the given size, with the price in
force at --at, and the list cost of the given actions and conversations under
the tenant's plan. --attempts K repeats the token usage K times, the way
retries multiply spend. Amounts are exact; nothing is rounded.`,
		Example: `  awumeter cost --model claude-sonnet-4.6 --input-tokens 4000 --output-tokens 800 --actions 1
  awumeter cost --model vertex_ai/gemini-3-pro --input-tokens 250000 --output-tokens 2000 --attempts 3 --format json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runCost(cmd.OutOrStdout(), &f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.model, "model", "", "model name as it appears in telemetry (required when there are tokens)")
	fl.Int64Var(&f.usage.InputTokens, "input-tokens", 0, "input tokens per attempt, cache tokens included")
	fl.Int64Var(&f.usage.OutputTokens, "output-tokens", 0, "output tokens per attempt, reasoning tokens included")
	fl.Int64Var(&f.usage.CacheReadInputTokens, "cache-read-input-tokens", 0, "input tokens read from the prompt cache, per attempt")
	fl.Int64Var(&f.usage.CacheCreationInputTokens, "cache-creation-input-tokens", 0, "input tokens written to the prompt cache, per attempt")
	fl.Int64Var(&f.usage.ReasoningTokens, "reasoning-tokens", 0, "output tokens spent on reasoning, per attempt")
	fl.Int64Var(&f.attempts, "attempts", 1, "number of attempts; each one spends the token usage again")
	fl.Int64Var(&f.actions, "actions", 0, "billable text actions")
	fl.Int64Var(&f.voiceActions, "voice-actions", 0, "billable voice actions")
	fl.Int64Var(&f.promptAWUs, "prompt-awus", 0, "prompt AWUs")
	fl.Int64Var(&f.conversations, "conversations", 0, "distinct conversations")
	fl.StringVar(&f.tenant, "tenant", "", "tenant whose plan prices the list cost (default: the default plan)")
	fl.StringVar(&f.at, "at", "", "time whose prices apply, a date (2026-10-01) or RFC 3339 time (default now)")
	fl.StringVar(&f.pricebook, "pricebook", "", "price book YAML file (default: the price book shipped in the binary)")
	fl.StringVar(&f.format, "format", "text", "output format: text or json")
	return cmd
}

// costResult is the JSON output of awumeter cost. Money and credits are
// decimal strings.
type costResult struct {
	Model            string          `json:"model,omitempty"`
	ModelID          string          `json:"model_id,omitempty"`
	At               time.Time       `json:"at"`
	LongContext      bool            `json:"long_context"`
	Prices           *price.Prices   `json:"prices_per_million_tokens,omitempty"`
	UsagePerAttempt  price.Usage     `json:"usage_per_attempt"`
	Attempts         int64           `json:"attempts"`
	TokenCost        decimal.Decimal `json:"token_cost"`
	Plan             string          `json:"plan"`
	Actions          int64           `json:"actions"`
	VoiceActions     int64           `json:"voice_actions"`
	PromptAWUs       int64           `json:"prompt_awus"`
	Credits          decimal.Decimal `json:"credits"`
	CreditsCost      decimal.Decimal `json:"credits_cost"`
	Conversations    int64           `json:"conversations"`
	ConversationCost decimal.Decimal `json:"conversation_cost"`
	ListCost         decimal.Decimal `json:"list_cost"`
}

func runCost(w io.Writer, f *costFlags) error {
	if f.format != "text" && f.format != "json" {
		return fmt.Errorf("--format must be text or json, not %q", f.format)
	}
	if f.attempts < 1 {
		return fmt.Errorf("--attempts must be at least 1, not %d", f.attempts)
	}
	for _, c := range []struct {
		flag string
		n    int64
	}{{"--actions", f.actions}, {"--voice-actions", f.voiceActions}, {"--prompt-awus", f.promptAWUs}, {"--conversations", f.conversations}} {
		if c.n < 0 {
			return fmt.Errorf("%s must be >= 0, not %d", c.flag, c.n)
		}
	}
	if err := f.usage.Validate(); err != nil {
		return fmt.Errorf("cannot price the token flags: %w", err)
	}
	at := time.Now().UTC()
	if f.at != "" {
		t, err := parseCostTime(f.at)
		if err != nil {
			return err
		}
		at = t
	}
	book, err := price.LoadOrDefault(f.pricebook)
	if err != nil {
		return err
	}

	res := costResult{Model: f.model, At: at, UsagePerAttempt: f.usage, Attempts: f.attempts}
	total, err := costScaleUsage(f.usage, f.attempts)
	if err != nil {
		return err
	}
	switch {
	case f.model != "":
		// The tier is chosen per request, so by the input of one attempt.
		r, ok := book.Rate(f.model, at, f.usage.InputTokens)
		if !ok {
			if id, known := book.Match(f.model); known {
				return fmt.Errorf("model %q (%s) has no price in force at %s", f.model, id, at.Format(time.RFC3339))
			}
			return fmt.Errorf("unknown model %q: it matches no entry of the price book, so its tokens are unpriced", f.model)
		}
		p := r.Prices()
		res.ModelID, res.LongContext, res.Prices = r.ModelID(), r.LongContext(), &p
		res.TokenCost = r.Cost(total)
	case total != (price.Usage{}):
		return errors.New("--model is required to price tokens")
	}

	plan := book.PlanFor(f.tenant)
	credits, err := plan.Credits(f.actions, f.voiceActions, f.promptAWUs)
	if err != nil {
		return fmt.Errorf("--actions %d, --voice-actions %d, --prompt-awus %d: %w", f.actions, f.voiceActions, f.promptAWUs, err)
	}
	res.Plan = plan.Name()
	res.Actions, res.VoiceActions, res.PromptAWUs = f.actions, f.voiceActions, f.promptAWUs
	res.Credits = decimal.NewFromInt(credits)
	res.CreditsCost = plan.CreditsCost(credits)
	res.Conversations = f.conversations
	res.ConversationCost = plan.ConversationCost(f.conversations)
	res.ListCost = plan.ListCost(credits, f.conversations)

	if f.format == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	return writeCostText(w, &res, plan)
}

// costScaleUsage multiplies every count of u by k, refusing overflow.
func costScaleUsage(u price.Usage, k int64) (price.Usage, error) {
	out := price.Usage{}
	for _, p := range []struct{ dst, src *int64 }{
		{&out.InputTokens, &u.InputTokens},
		{&out.OutputTokens, &u.OutputTokens},
		{&out.CacheReadInputTokens, &u.CacheReadInputTokens},
		{&out.CacheCreationInputTokens, &u.CacheCreationInputTokens},
		{&out.ReasoningTokens, &u.ReasoningTokens},
	} {
		v := *p.src * k
		if *p.src != 0 && v/k != *p.src {
			return price.Usage{}, fmt.Errorf("token counts times --attempts %d overflow", k)
		}
		*p.dst = v
	}
	return out, nil
}

func parseCostTime(s string) (time.Time, error) {
	for _, layout := range []string{"2006-01-02", time.RFC3339Nano} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("--at must be a date like 2026-10-01 or an RFC 3339 time, not %q", s)
}

func writeCostText(w io.Writer, r *costResult, plan *price.Plan) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(k, format string, args ...any) { fmt.Fprintf(tw, "%s\t%s\n", k, fmt.Sprintf(format, args...)) }
	if r.ModelID != "" {
		name := textsafe.Terminal(r.ModelID)
		if r.Model != r.ModelID {
			name += fmt.Sprintf(" (matched %q)", r.Model) // %q escapes controls
		}
		row("model", "%s", name)
		tier := "base tier"
		if r.LongContext {
			tier = "long-context tier"
		}
		p := r.Prices
		row("prices", "%s, in force at %s, USD per 1M tokens:", tier, r.At.Format(time.RFC3339))
		row("", "input %s, output %s, cache read %s, cache write %s, reasoning %s",
			costUSD(p.Input), costUSD(p.Output), costUSD(p.CacheRead), costUSD(p.CacheCreation), costUSD(p.Reasoning))
		u := r.UsagePerAttempt
		row("tokens", "%s input (%s cache read, %s cache write), %s output (%s reasoning) per attempt",
			costGroupDigits(u.InputTokens), costGroupDigits(u.CacheReadInputTokens), costGroupDigits(u.CacheCreationInputTokens),
			costGroupDigits(u.OutputTokens), costGroupDigits(u.ReasoningTokens))
		row("attempts", "%d", r.Attempts)
	}
	row("token cost", "%s", costUSD(r.TokenCost))
	row("plan", "%s", textsafe.Terminal(r.Plan))
	row("credits", "%s (text actions %d × %d + voice actions %d × %d + prompt AWUs %d × %d)",
		r.Credits, r.Actions, plan.ActionCredits(), r.VoiceActions, plan.VoiceActionCredits(), r.PromptAWUs, plan.PromptAWUCredits())
	row("credits cost", "%s (%s per credit)", costUSD(r.CreditsCost), costUSD(plan.CreditPrice()))
	row("conversations", "%d × %s = %s", r.Conversations, costUSD(plan.ConversationPrice()), costUSD(r.ConversationCost))
	row("list cost", "%s (billed by the %s plan)", costUSD(r.ListCost), textsafe.Terminal(r.Plan))
	return tw.Flush()
}

// costUSD formats an exact amount with at least two fractional digits and every
// digit it has beyond them: $0.10, $0.024, $500.00.
func costUSD(d decimal.Decimal) string {
	if d.Exponent() >= -2 || d.Equal(d.Round(2)) {
		return "$" + d.StringFixed(2)
	}
	return "$" + d.String()
}

// costGroupDigits writes n with thousands separators: 12,000.
func costGroupDigits(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}
