package price

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"math"
	"math/big"
	"os"
	"regexp"
	"sync"
	"time"

	"github.com/awumeter/awumeter/internal/strictyaml"
)

//go:embed default_pricebook.yaml
var defaultPricebookYAML []byte

// DefaultYAML returns the text of the price book shipped in the binary.
func DefaultYAML() []byte { return bytes.Clone(defaultPricebookYAML) }

var (
	defaultOnce sync.Once
	defaultBook *Book
	defaultErr  error
)

// Default returns the price book shipped in the binary. The embedded file is
// validated by the package tests, so Default never fails at run time; if it
// did, it would return an empty book that prices nothing rather than panic.
func Default() *Book {
	defaultOnce.Do(func() {
		defaultBook, defaultErr = Parse(defaultPricebookYAML)
		if defaultErr != nil {
			defaultBook = &Book{plans: map[string]*Plan{}, defaultPlan: ptr(defaultPlan())}
			defaultBook.init()
		}
	})
	return defaultBook
}

// Load reads and validates a price book YAML file.
func Load(path string) (*Book, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read price book: %w", err)
	}
	b, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("invalid price book %s:\n%w", path, err)
	}
	return b, nil
}

// LoadOrDefault loads the price book at path, or returns Default when path
// is empty.
func LoadOrDefault(path string) (*Book, error) {
	if path == "" {
		return Default(), nil
	}
	return Load(path)
}

// Parse decodes and validates a price book from YAML text. Decoding is
// strict: an unknown key is an error. Every problem found is reported, joined
// with errors.Join, and each names the entry and key, e.g.
// `models[2] (id "gemini-3-pro").prices[0].input: must be >= 0`.
func Parse(data []byte) (*Book, error) {
	var cfg fileConfig
	if err := strictyaml.Decode(data, &cfg); err != nil {
		if errors.Is(err, strictyaml.ErrEmpty) {
			return nil, errors.New("the price book is empty")
		}
		return nil, err
	}
	return compile(&cfg)
}

// Book is a loaded price book: token prices by model and list-price plans by
// tenant. It is immutable after load and safe for concurrent use.
type Book struct {
	models []*model
	// byName maps every exact name (ids and aliases, as written and
	// lowercased) to its model.
	byName map[string]*model
	// patterns are tried in file order when no exact name matches.
	patterns []pattern
	// resolved caches the result of pattern matching per model name.
	resolved resolveCache

	plans       map[string]*Plan // by tenant id
	defaultPlan *Plan
	// maxAWUs is MaxAWUsPerWorkcycle, derived from the plans by init.
	maxAWUs int64
}

// model is one compiled model entry.
type model struct {
	id      string
	periods []period // sorted by from, not overlapping
}

// period is the price of a model in force over [from, to).
type period struct {
	from, to time.Time // to is zero when open-ended
	base     *Rate
	// tiers are the long-context tiers in ascending order of threshold,
	// none when the price has no long_context.
	tiers []tier
}

// tier is one long-context tier of a period.
type tier struct {
	above int64 // the tier applies when input tokens > above
	rate  *Rate
}

// rate returns the rate of the period for a request of inputTokens input
// tokens: the tier with the highest threshold strictly below inputTokens,
// else the base rate.
func (p *period) rate(inputTokens int64) *Rate {
	for i := len(p.tiers) - 1; i >= 0; i-- {
		if inputTokens > p.tiers[i].above {
			return p.tiers[i].rate
		}
	}
	return p.base
}

type pattern struct {
	re    *regexp.Regexp
	model *model
}

func (b *Book) init() {
	if b.byName == nil {
		b.byName = map[string]*model{}
	}
	b.resolved.limit = resolveCacheLimit
	most := b.defaultPlan.maxAWUCredits()
	for _, p := range b.plans {
		most = max(most, p.maxAWUCredits())
	}
	b.maxAWUs = math.MaxInt64
	if most > 0 {
		b.maxAWUs = math.MaxInt64 / most
	}
}

// MaxAWUsPerWorkcycle is the number of AWUs up to which a workcycle's credits
// (at most AWUs × the largest credits per AWU of any plan of the book) are
// sure to fit int64: 9,223,372,036,854,775,807 ÷ that largest amount, or
// math.MaxInt64 when no plan charges credits. With the default plan (30
// credits per voice action) it is 307,445,734,561,825,860. The engine
// refuses an event that would add an AWU beyond it.
func (b *Book) MaxAWUsPerWorkcycle() int64 { return b.maxAWUs }

// Models returns the canonical ids of the priced models, in file order.
func (b *Book) Models() []string {
	ids := make([]string, len(b.models))
	for i, m := range b.models {
		ids[i] = m.id
	}
	return ids
}

// Rate resolves a model name and returns the price in force at time at,
// including the long-context tier chosen by this request's input tokens:
// of the tiers whose threshold (above_input_tokens) inputTokens is strictly
// greater than, the one with the highest threshold; the base tier when
// there is none.
//
// Names resolve by exact id or alias, then case-insensitively, then by the
// first pattern, in file order, that matches the lowercased name. ok is false
// when the model is unknown or no price of it is in force at at; the caller
// then counts the tokens as unpriced. The returned *Rate is the same pointer
// for the same model entry, price period and tier.
func (b *Book) Rate(modelName string, at time.Time, inputTokens int64) (r *Rate, ok bool) {
	m := b.match(modelName)
	if m == nil {
		return nil, false
	}
	for i := len(m.periods) - 1; i >= 0; i-- {
		p := &m.periods[i]
		if at.Before(p.from) {
			continue
		}
		if !p.to.IsZero() && !at.Before(p.to) {
			return nil, false
		}
		return p.rate(inputTokens), true
	}
	return nil, false
}

// Match returns the canonical id a model name resolves to, whether or not a
// price is in force.
func (b *Book) Match(modelName string) (id string, ok bool) {
	if m := b.match(modelName); m != nil {
		return m.id, true
	}
	return "", false
}

// PlanFor returns the plan of a tenant with its overrides applied. Tenants
// without an entry get the default plan (flex_credits unless the book says
// otherwise).
func (b *Book) PlanFor(tenantID string) *Plan {
	if p, ok := b.plans[tenantID]; ok {
		return p
	}
	return b.defaultPlan
}

func ptr[T any](v T) *T { return &v }

var ten = big.NewInt(10)
