package guard

import (
	"math/big"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/awumeter/awumeter/pipeline/engine"
)

// WindowSum is one tenant's sums over one UTC hour or day, computed by the
// caller (in ClickHouse) and checked by Evaluator.Windows.
type WindowSum struct {
	// TenantID is the tenant summed.
	TenantID string
	// On is OnTenantHour or OnTenantDay; sums of any other On are ignored.
	On string
	// Start is the start of the window. It is truncated to the UTC hour or
	// day, so any instant in the window names it.
	Start time.Time
	// TokenCost and ListCost are the window's costs in USD.
	TokenCost, ListCost decimal.Decimal
}

// Evaluator checks rows and window sums against the rules and returns each
// alert once while it remembers its id. It holds no clock and does no I/O.
// It is not safe for concurrent use: use one per Kafka partition.
type Evaluator struct {
	workcycle, awu, window []rule

	// seen holds the ids returned last, at most remember of them; ring
	// holds the same ids in the order they were added, next the slot to
	// overwrite once ring is full.
	seen     map[uuid.UUID]struct{}
	ring     []uuid.UUID
	next     int
	remember int

	buf []byte // idOf's scratch
}

// rule is a Rule compiled for the hot path.
type rule struct {
	name, on, metric string
	tenant, agent    string
	above            decimal.Decimal
	intAbove         int64 // above for integer metrics
	dec              *threshold
	m                metric
}

// metric is a rule's metric as a number, for the hot path's switches.
type metric uint8

const (
	mAWUs metric = iota
	mAttempts
	mRetries
	mCredits
	mTokenCost
	mListCost
)

var metricNumbers = map[string]metric{
	MetricAWUs: mAWUs, MetricAttempts: mAttempts, MetricRetries: mRetries,
	MetricCredits: mCredits, MetricTokenCost: mTokenCost, MetricListCost: mListCost,
}

// New returns an Evaluator of cfg's rules, or cfg's problems.
func New(cfg Config) (*Evaluator, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	e := &Evaluator{remember: cfg.Remember}
	for _, r := range cfg.Rules {
		c := rule{name: r.Name, on: r.On, metric: r.Metric, tenant: r.Tenant, agent: r.Agent, above: r.Above, m: metricNumbers[r.Metric]}
		if integerMetric(r.Metric) {
			c.intAbove = intAbove(r.Above)
		} else {
			c.dec = &threshold{above: r.Above}
		}
		switch r.On {
		case OnWorkcycle:
			e.workcycle = append(e.workcycle, c)
		case OnAWU:
			e.awu = append(e.awu, c)
		default:
			e.window = append(e.window, c)
		}
	}
	return e, nil
}

// Rows checks the workcycle and awu rules against emitted rows and returns
// the alerts of the rules crossed (value > above), each at most once while
// its id is remembered, sorted by ID. Rows may be provisional or final and
// may repeat: a rule crossed by a workcycle (or an AWU) alerts once, with
// the value of the first row seen above the threshold. Delivery is at least
// once: an id forgotten (see Config.Remember), or lost with the Evaluator
// in a restart or a rebalance, is returned again, and consumers
// deduplicate by ID.
//
// When no rule is crossed for the first time it returns nil and allocates
// nothing, except once per rule for each new decimal exponent of its
// metric's values (at most 8 are cached per rule).
func (e *Evaluator) Rows(workcycles []engine.WorkcycleRow, awus []engine.AWURow) []Alert {
	var out []Alert
	if len(e.workcycle) > 0 {
		for i := range workcycles {
			w := &workcycles[i]
			for j := range e.workcycle {
				r := &e.workcycle[j]
				if !r.matches(w.TenantID, w.AgentID) {
					continue
				}
				var crossed bool
				switch r.m {
				case mAWUs:
					crossed = w.AWUs > r.intAbove
				case mAttempts:
					crossed = w.Attempts > r.intAbove
				case mRetries:
					crossed = w.Retries > r.intAbove
				case mCredits:
					crossed = w.Credits > r.intAbove
				case mTokenCost:
					crossed = r.dec.exceeded(w.TokenCost)
				case mListCost:
					crossed = r.dec.exceeded(w.ListCost)
				}
				if !crossed {
					continue
				}
				if id, ok := e.first(r, w.TenantID, w.WorkcycleID, "", 0); ok {
					out = append(out, alert(r, id, workcycleValue(r.m, w), w.TenantID, w.AgentID, w.WorkcycleID, "", time.Time{}, w.EndedAt))
				}
			}
		}
	}
	if len(e.awu) > 0 {
		for i := range awus {
			a := &awus[i]
			for j := range e.awu {
				r := &e.awu[j]
				if !r.matches(a.TenantID, a.AgentID) {
					continue
				}
				var crossed bool
				switch r.m {
				case mAttempts:
					crossed = a.Attempts > r.intAbove
				case mRetries:
					crossed = a.Attempts-1 > r.intAbove
				case mTokenCost:
					crossed = r.dec.exceeded(a.TokenCost)
				}
				if !crossed {
					continue
				}
				if id, ok := e.first(r, a.TenantID, a.WorkcycleID, a.AWUID, 0); ok {
					out = append(out, alert(r, id, awuValue(r.m, a), a.TenantID, a.AgentID, a.WorkcycleID, a.AWUID, time.Time{}, a.LastSeen))
				}
			}
		}
	}
	return sorted(out)
}

// Windows checks the tenant_hour and tenant_day rules against window sums
// and returns the alerts of the rules crossed, each at most once while its
// id is remembered, sorted by ID. The sums of a window grow as its data
// arrives; the window alerts once, with the first sum seen above.
func (e *Evaluator) Windows(sums []WindowSum) []Alert {
	var out []Alert
	if len(e.window) == 0 {
		return nil
	}
	for i := range sums {
		s := &sums[i]
		var start time.Time
		switch s.On {
		case OnTenantHour:
			start = s.Start.UTC().Truncate(time.Hour)
		case OnTenantDay:
			// Truncate counts from the zero time, a UTC midnight, and Go
			// days have no leap seconds: this is the UTC day's start.
			start = s.Start.UTC().Truncate(24 * time.Hour)
		default:
			continue
		}
		for j := range e.window {
			r := &e.window[j]
			if r.on != s.On || !r.matches(s.TenantID, "") {
				continue
			}
			value := s.TokenCost
			if r.m == mListCost {
				value = s.ListCost
			}
			if !r.dec.exceeded(value) {
				continue
			}
			if id, ok := e.first(r, s.TenantID, "", "", start.Unix()); ok {
				out = append(out, alert(r, id, value, s.TenantID, "", "", "", start, start))
			}
		}
	}
	return sorted(out)
}

// matches applies the rule's tenant and agent filters.
func (r *rule) matches(tenantID, agentID string) bool {
	return (r.tenant == "" || r.tenant == tenantID) && (r.agent == "" || r.agent == agentID)
}

// first returns the id of the alert of r on this subject and whether it
// is new: not remembered. It remembers it.
func (e *Evaluator) first(r *rule, tenantID, workcycleID, awuID string, windowSec int64) (uuid.UUID, bool) {
	var id uuid.UUID
	id, e.buf = idOf(e.buf, r.name, r.on, tenantID, workcycleID, awuID, windowSec)
	if _, ok := e.seen[id]; ok {
		return id, false
	}
	e.add(id)
	return id, true
}

// add remembers id, forgetting the oldest id once remember are held.
func (e *Evaluator) add(id uuid.UUID) {
	if e.seen == nil {
		e.seen = make(map[uuid.UUID]struct{})
	}
	if len(e.ring) < e.remember {
		e.ring = append(e.ring, id)
	} else {
		delete(e.seen, e.ring[e.next])
		e.ring[e.next] = id
		e.next = (e.next + 1) % e.remember
	}
	e.seen[id] = struct{}{}
}

func alert(r *rule, id uuid.UUID, value decimal.Decimal, tenantID, agentID, workcycleID, awuID string, windowStart, eventTime time.Time) Alert {
	return Alert{
		ID:          id.String(),
		Rule:        r.name,
		On:          r.on,
		Metric:      r.metric,
		Threshold:   r.above,
		Value:       value,
		TenantID:    tenantID,
		AgentID:     agentID,
		WorkcycleID: workcycleID,
		AWUID:       awuID,
		WindowStart: windowStart,
		EventTime:   eventTime,
	}
}

func workcycleValue(m metric, w *engine.WorkcycleRow) decimal.Decimal {
	switch m {
	case mAWUs:
		return decimal.NewFromInt(w.AWUs)
	case mAttempts:
		return decimal.NewFromInt(w.Attempts)
	case mRetries:
		return decimal.NewFromInt(w.Retries)
	case mCredits:
		return decimal.NewFromInt(w.Credits)
	case mListCost:
		return w.ListCost
	}
	return w.TokenCost
}

func awuValue(m metric, a *engine.AWURow) decimal.Decimal {
	switch m {
	case mAttempts:
		return decimal.NewFromInt(a.Attempts)
	case mRetries:
		return decimal.NewFromInt(a.Attempts - 1)
	}
	return a.TokenCost
}

// sorted sorts alerts by ID and drops repeats, which a batch can hold when
// it crosses more new ids than Remember.
func sorted(out []Alert) []Alert {
	if len(out) < 2 {
		return out
	}
	slices.SortFunc(out, func(a, b Alert) int { return strings.Compare(a.ID, b.ID) })
	return slices.CompactFunc(out, func(a, b Alert) bool { return a.ID == b.ID })
}

// threshold compares decimals with a threshold without allocating in the
// usual case. decimal.Cmp allocates when the exponents differ, so the
// threshold is kept rescaled to the few exponents the values use: a value
// v with exponent e is above `above` exactly when its coefficient is above
// floor(above / 10^e), the coefficient of at(e).
type threshold struct {
	above decimal.Decimal
	exps  [8]int32
	at    [8]decimal.Decimal
	n     int // entries filled
	evict int // next entry to replace once full
}

// maxRescale bounds the exponent gap a rescaled threshold bridges, so that
// a pathological value cannot make it huge; beyond it Cmp is used.
const maxRescale = 64

// exceeded reports whether v > above.
func (t *threshold) exceeded(v decimal.Decimal) bool {
	if v.Sign() <= 0 {
		return false // above >= 0
	}
	e := v.Exponent()
	for i := 0; i < t.n; i++ {
		if t.exps[i] == e {
			return v.Cmp(t.at[i]) > 0
		}
	}
	gap := int64(e) - int64(t.above.Exponent())
	if gap > maxRescale || gap < -maxRescale {
		return v.Cmp(t.above) > 0
	}
	at := rescaleFloor(t.above, e)
	i := t.n
	if i == len(t.exps) {
		i = t.evict
		t.evict = (t.evict + 1) % len(t.exps)
	} else {
		t.n++
	}
	t.exps[i], t.at[i] = e, at
	return v.Cmp(at) > 0
}

// rescaleFloor returns floor(d / 10^exp) * 10^exp with exponent exp, for
// d >= 0: d itself when exp <= d's exponent.
func rescaleFloor(d decimal.Decimal, exp int32) decimal.Decimal {
	coef := d.Coefficient()
	gap := int64(d.Exponent()) - int64(exp)
	pow := new(big.Int).Exp(big.NewInt(10), big.NewInt(abs(gap)), nil)
	if gap >= 0 {
		coef.Mul(coef, pow)
	} else {
		coef.Quo(coef, pow) // d >= 0: truncation is floor
	}
	return decimal.NewFromBigInt(coef, exp)
}

func abs(n int64) int64 {
	if n < 0 {
		return -n
	}
	return n
}

// Forget drops the ids of alerts that could not be delivered, so that the
// next Rows or Windows call that finds their rules crossed returns them
// again.
func (e *Evaluator) Forget(alerts []Alert) {
	for i := range alerts {
		if id, err := uuid.Parse(alerts[i].ID); err == nil {
			delete(e.seen, id)
		}
	}
}

// Remember adds alert ids (as Alert.ID) that were delivered before, so
// that Rows and Windows do not return their alerts again while they are
// remembered; ids that do not parse are skipped. The service seeds it
// with the tenant-window alerts in the alerts table when it starts.
func (e *Evaluator) Remember(ids []string) {
	for _, s := range ids {
		id, err := uuid.Parse(s)
		if err != nil {
			continue
		}
		if _, ok := e.seen[id]; !ok {
			e.add(id)
		}
	}
}
