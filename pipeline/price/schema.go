package price

import (
	"fmt"
	"time"

	"go.yaml.in/yaml/v3"
)

// The types in this file mirror the YAML text of a price book. They are
// decoded strictly (an unknown key is an error) and then validated and
// compiled into a Book. Money and timestamps are kept as the scalar text so
// that they are parsed exactly and errors can name the key that holds them.

// fileConfig is the whole price book file.
type fileConfig struct {
	// Currency of every price. Only "USD" is accepted; empty means USD.
	Currency string `yaml:"currency"`
	// Models are the token prices, matched in file order for patterns.
	Models []modelConfig `yaml:"models"`
	// Plans are the list prices; omitted plans take the built-in defaults.
	Plans plansConfig `yaml:"plans"`
	// Tenants assign plans and per-tenant overrides.
	Tenants []tenantConfig `yaml:"tenants"`
}

// modelConfig is one priced model.
type modelConfig struct {
	// ID is the canonical model id written on rows. It is also an exact name.
	ID string `yaml:"id"`
	// Match lists the other names and patterns that resolve to this model.
	Match matchConfig `yaml:"match"`
	// Prices are the effective-dated prices; their periods must not overlap.
	Prices []priceConfig `yaml:"prices"`
}

// matchConfig holds the match rules of a model. Names are compared after
// lowercasing, so both aliases and patterns are written in lowercase.
type matchConfig struct {
	// Aliases are exact names, e.g. "anthropic/claude-sonnet-4.6".
	Aliases []string `yaml:"aliases"`
	// Patterns are RE2 regular expressions, tried when no exact name matches.
	Patterns []string `yaml:"patterns"`
}

// priceConfig is the price of a model during one period, in USD per one
// million tokens.
type priceConfig struct {
	// EffectiveFrom is the first instant the price applies (inclusive).
	EffectiveFrom scalar `yaml:"effective_from"`
	// EffectiveTo is the instant the price stops applying (exclusive);
	// empty means open-ended.
	EffectiveTo scalar `yaml:"effective_to"`
	tokenPrices `yaml:",inline"`
	// LongContext optionally reprices the whole request when its input
	// tokens exceed a threshold: one tier (a mapping) or several (a list in
	// ascending order of threshold).
	LongContext longContextConfig `yaml:"long_context"`
}

// tokenPrices are the five prices of a tier. CacheRead and CacheCreation
// default to Input; Reasoning defaults to Output.
type tokenPrices struct {
	Input         scalar `yaml:"input"`
	Output        scalar `yaml:"output"`
	CacheRead     scalar `yaml:"cache_read"`
	CacheCreation scalar `yaml:"cache_creation"`
	Reasoning     scalar `yaml:"reasoning"`
}

// tierConfig is one long-context tier of a price.
type tierConfig struct {
	// AboveInputTokens is the threshold, in input tokens: the tier applies
	// when the request's input tokens are strictly greater than it (and no
	// tier with a higher threshold applies).
	AboveInputTokens scalar `yaml:"above_input_tokens"`
	tokenPrices      `yaml:",inline"`
}

// longContextConfig is the value of a long_context key: either one tier
// written as a mapping (the original form, kept for compatibility) or a list
// of tiers.
type longContextConfig struct {
	// Tiers are the tiers in file order.
	Tiers []tierConfig
	// List is true when the tiers were written as a list, so that errors
	// name them long_context[i] rather than long_context.
	List bool
}

// UnmarshalYAML implements yaml.Unmarshaler. Each tier is decoded as
// strictly as the rest of the file: an unknown key is an error. Problems are
// returned as a *yaml.TypeError, so that the decoder goes on and reports the
// problems of the rest of the file too.
func (lc *longContextConfig) UnmarshalYAML(n *yaml.Node) error {
	*lc = longContextConfig{}
	var errs []string
	switch n.Kind {
	case yaml.MappingNode:
		var t tierConfig
		errs = decodeTier(n, &t)
		lc.Tiers = []tierConfig{t}
	case yaml.SequenceNode:
		lc.List = true
		for i, item := range n.Content {
			if item.Kind != yaml.MappingNode {
				errs = append(errs, fmt.Sprintf("line %d: long_context[%d] must be a tier (above_input_tokens, input, output, ...), not a single value or a list", item.Line, i))
				continue
			}
			var t tierConfig
			errs = append(errs, decodeTier(item, &t)...)
			lc.Tiers = append(lc.Tiers, t)
		}
	default:
		errs = append(errs, fmt.Sprintf("line %d: long_context must be a tier (a mapping) or a list of tiers", n.Line))
	}
	if len(errs) > 0 {
		return &yaml.TypeError{Errors: errs}
	}
	return nil
}

// tierKeys are the keys of a tier, the yaml tags of tierConfig.
var tierKeys = map[string]bool{
	"above_input_tokens": true, "input": true, "output": true,
	"cache_read": true, "cache_creation": true, "reasoning": true,
}

// decodeTier decodes one tier mapping. yaml.Node.Decode cannot refuse
// unknown keys, so they are checked here first, with the lines of the file,
// in the words of strictyaml.
func decodeTier(n *yaml.Node, t *tierConfig) []string {
	var errs []string
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := n.Content[i]; !tierKeys[k.Value] {
			errs = append(errs, fmt.Sprintf("line %d: unknown key %q", k.Line, k.Value))
		}
	}
	if err := n.Decode(t); err != nil {
		if te, ok := err.(*yaml.TypeError); ok {
			errs = append(errs, te.Errors...)
		} else {
			errs = append(errs, err.Error())
		}
	}
	return errs
}

// plansConfig holds the two list-price plans and the default assignment.
type plansConfig struct {
	// Default is the plan of tenants without an entry; default flex_credits.
	Default         string                `yaml:"default"`
	FlexCredits     flexCreditsConfig     `yaml:"flex_credits"`
	PerConversation perConversationConfig `yaml:"per_conversation"`
}

// flexCreditsConfig prices actions in credits, and credits in blocks.
type flexCreditsConfig struct {
	// BlockPrice is the USD price of one block of credits; default 500.
	BlockPrice scalar `yaml:"block_price"`
	// BlockCredits is the number of credits in a block; default 100000.
	BlockCredits scalar `yaml:"block_credits"`
	// ActionCredits per billable text action; default 20.
	ActionCredits scalar `yaml:"action_credits"`
	// VoiceActionCredits per billable voice action; default 30.
	VoiceActionCredits scalar `yaml:"voice_action_credits"`
	// PromptAWUCredits per prompt AWU; default 0.
	PromptAWUCredits scalar `yaml:"prompt_awu_credits"`
}

// perConversationConfig prices distinct conversations.
type perConversationConfig struct {
	// ConversationPrice is the USD price of one conversation; default 2.
	ConversationPrice scalar `yaml:"conversation_price"`
}

// tenantConfig assigns a plan to a tenant and overrides any plan value.
type tenantConfig struct {
	TenantID              string `yaml:"tenant_id"`
	Plan                  string `yaml:"plan"`
	flexCreditsConfig     `yaml:",inline"`
	perConversationConfig `yaml:",inline"`
}

// scalar is the raw text of a YAML scalar. Keeping the text, rather than
// letting the decoder produce a float64 or a time.Time, keeps money exact and
// lets the validator name the key in its errors.
type scalar struct {
	text string
	line int
	set  bool
}

// UnmarshalYAML implements yaml.Unmarshaler.
func (s *scalar) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: expected a single value, not a list or mapping", n.Line)
	}
	if n.Tag == "!!null" {
		return nil
	}
	*s = scalar{text: n.Value, line: n.Line, set: true}
	return nil
}

// timeLayouts are the accepted forms of effective_from and effective_to. A
// bare date is midnight UTC.
var timeLayouts = []string{"2006-01-02", time.RFC3339Nano}
