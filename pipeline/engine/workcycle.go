package engine

import (
	"math"
	"math/bits"
	"slices"

	"github.com/shopspring/decimal"

	"github.com/awumeter/awumeter/pipeline/event"
	"github.com/awumeter/awumeter/pipeline/price"
)

// wcKey identifies a workcycle.
type wcKey struct{ tenant, id string }

// never is a deadline that does not come.
const never = math.MaxInt64

// workcycle is the state of one (tenant_id, workcycle_id). Every field is a
// function of the set of distinct events folded in, except the bookkeeping
// at the end, which only decides when rows are emitted.
type workcycle struct {
	key wcKey

	agent, conversation     string
	agentAt, conversationAt int64 // time of the event that set the value
	outcome, outcomeType    string
	outcomeAt               int64
	// The outcome fields of the completed event that states the outcome.
	humanMillis    int64
	csat           uint8
	resolvedBy     event.Actor
	completedAt    int64 // earliest completed event; never if none
	started, ended int64 // unix nanoseconds
	events         uint64
	// tokens is the summed usage of the workcycle's token_usage events and
	// unpriced the summed input + output tokens of those no rate priced.
	// Apply refuses an event that would take tokens.Total() past int64, and
	// every token count and unpriced_tokens of the workcycle's rows is a
	// part of that total, so none of them can wrap.
	tokens   price.Usage
	unpriced int64
	awus     []awu
	awuIndex map[string]int32 // built once awus outgrows a scan

	// ids are the fingerprints this workcycle put in the engine's id set,
	// removed again when it is evicted.
	ids []idKey
	// mem is its share of the memory accounting (memory.go).
	mem wcMem

	// Bookkeeping: when to emit and what to commit.
	closed  bool // emitted by a closing rule; later events re-emit it
	dirty   bool // has changes not yet emitted
	queued  bool // in the re-emit queue
	emitted bool // emitted before, or rebuilt from History
	evicted bool // no longer held; stale schedule entries skip it
	// fresh: a distinct event was folded in since the workcycle was last
	// emitted or rebuilt. Only such an open workcycle gets a provisional
	// row (EmitOpen): a rebuilt one whose replayed events were all
	// duplicates may already have a closed row of the same version.
	fresh bool
	// openState: a state row saying open was written for it, by this
	// engine or, for a restored workcycle, an earlier one. maybeOpen: it
	// was rebuilt from History, so an earlier engine may have written one.
	// Either way its closing writes a state row saying closed.
	openState, maybeOpen bool
	// listed: in the workcycles an Emit is emitting (emitWithinBudget).
	listed    bool
	closedAt  int64 // watermark when last emitted after closing
	next      int64 // earliest live schedule entry; never if none
	pendingAt int64 // offset of the first unemitted event; -1 when clean
}

// awu is the state of one (tenant_id, workcycle_id, awu_id).
type awu struct {
	id          string
	agent, tool string
	agentAt     int64
	toolAt      int64
	first, last int64
	attempts    uint64 // bit n-1 set for attempt n <= 64
	// usage is the summed usage at the first rate seen (if hasUsage); most
	// AWUs use one model at one rate, so it is held inline.
	usage rateUsage
	more  *awuMore // rare overflow: further rates, attempts above 64
	// cost is the token cost of the AWU's row when it was last emitted,
	// which the workcycle row sums without pricing unchanged AWUs again.
	cost decimal.Decimal
	// events is the number of distinct events folded in: the AWU's rows'
	// version is awuVersionBase + events.
	events     uint64
	changed    bool // has events not yet in an emitted row
	hasUsage   bool
	isTool     bool
	voice      bool
	succeeded  bool
	validated  bool
	rolledBack bool
	overridden bool // rolled back by a human
}

// awuVersionBase is added to an AWU's count of distinct events to make the
// version of its rows. Releases before AWU rows were emitted only when they
// changed gave every AWU row its workcycle's version, a count of events far
// below 2^32; the base keeps every version written now above those, so the
// first re-emission after an upgrade replaces the old rows.
const awuVersionBase = 1 << 32

// awuMore holds what few AWUs need.
type awuMore struct {
	attempts []int32     // attempts above 64, sorted
	usage    []rateUsage // usage at rates other than awu.usage's
	// days are the UTC days of the AWU's events, sorted, once they are
	// more than one; nil while every event is on the day of awu.first.
	days []int32
}

// dayBytes is what one more day adds to the memory estimate.
const dayBytes = 4

// dayOf is the UTC day, counted from 1970-01-01, of unix nanoseconds t.
func dayOf(t int64) int32 {
	const day = 24 * 60 * 60 * 1e9
	d := t / day
	if t%day < 0 {
		d--
	}
	return int32(d)
}

// addDay records the day of an event at t, for an AWU that already has
// events, and returns the bytes it added to the AWU's state.
func (a *awu) addDay(t int64) int64 {
	d := dayOf(t)
	if a.more == nil || a.more.days == nil {
		d0 := dayOf(a.first) // the day of every event so far
		if d == d0 {
			return 0
		}
		a.overflow().days = []int32{min(d, d0), max(d, d0)}
		return 2 * dayBytes
	}
	i, found := slices.BinarySearch(a.more.days, d)
	if found {
		return 0
	}
	a.more.days = slices.Insert(a.more.days, i, d)
	return dayBytes
}

// eventDays returns the days of the AWU's events when they are more than
// one, else nil.
func (a *awu) eventDays() []int32 {
	if a.more == nil {
		return nil
	}
	return a.more.days
}

// rateUsage is the summed usage of an AWU's token events at one rate; a nil
// rate holds the unpriced usage of one model. Its key names the rate (or
// model) and the provider of the earliest of these events that has one
// (ties: the smaller), seen at providerAt.
type rateUsage struct {
	key        *usageKey
	providerAt int64
	usage      price.Usage
}

// usageKey is what a rateUsage is of. Keys are shared through the engine's
// string pool (Engine.usageKey, intern.go), so a rateUsage stays small.
type usageKey struct {
	rate     *price.Rate
	model    string // the model name as sent, kept only when rate is nil
	provider string
}

// is reports whether the key is of rate r (for a nil r, of the named model).
func (k *usageKey) is(r *price.Rate, model string) bool {
	return k.rate == r && (r != nil || k.model == model)
}

// modelID is the model the usage is reported under in awu_models: the price
// book's model id when priced, else the name as sent.
func (k *usageKey) modelID() string {
	if k.rate != nil {
		return k.rate.ModelID()
	}
	return k.model
}

// awuScanLimit is the number of AWUs a workcycle finds by linear scan before
// it builds an index.
const awuScanLimit = 8

func newWorkcycle(k wcKey) *workcycle {
	return &workcycle{key: k, started: math.MaxInt64, ended: math.MinInt64, completedAt: never, next: never, pendingAt: -1}
}

// earlier reports whether (t, v) comes before (at, cur): the rule that picks
// one value from many events independently of their order.
func earlier(t int64, v string, at int64, cur string) bool {
	return cur == "" || t < at || (t == at && v < cur)
}

// usageOf is the token usage of a token_usage event.
func usageOf(ev *event.Event) price.Usage {
	return price.Usage{
		InputTokens:              ev.InputTokens,
		OutputTokens:             ev.OutputTokens,
		CacheReadInputTokens:     ev.CacheReadInputTokens,
		CacheCreationInputTokens: ev.CacheCreationInputTokens,
		ReasoningTokens:          ev.ReasoningTokens,
	}
}

// usageOutcome checks what the engine relies on in one event's token
// counts, before any state is touched: OutcomeInvalid for usage that breaks
// the contract (a negative count, cache tokens above input tokens,
// reasoning tokens above output tokens), OutcomeOverflow when its own
// input_tokens + output_tokens leave the int64 range, else 0. Decoders
// reject the first kind already; the engine refuses it rather than turn
// money negative.
func usageOutcome(ev *event.Event) Outcome {
	if ev.Type != event.TypeTokenUsage {
		return 0
	}
	in, out, cr, cc, rs := ev.InputTokens, ev.OutputTokens, ev.CacheReadInputTokens, ev.CacheCreationInputTokens, ev.ReasoningTokens
	if in < 0 || out < 0 || cr < 0 || cc < 0 || rs < 0 || cr > in-cc || rs > out {
		return OutcomeInvalid
	}
	if in > math.MaxInt64-out {
		return OutcomeOverflow
	}
	return 0
}

// fits reports whether folding ev into wc keeps every sum of wc's rows in
// the int64 range: the workcycle's summed input + output tokens, which
// bound every token count and unpriced_tokens of its rows, and its number of
// AWUs, which bounds its credits (price.Book.MaxAWUsPerWorkcycle). Every
// other count of a row (attempts, retries, actions, AWUs by status) is at
// most the number of events held, which memory bounds far below int64. It
// is called before Apply or a rebuild changes anything, so a refused event
// leaves the state as it was. Token usage must have passed usageOutcome.
// mayOverflow is fits' inlined screen for Apply's hot path: false when ev
// surely fits, that is, when it is not token usage that could take the
// workcycle's total past int64 and its workcycle is below the AWU bound.
func (e *Engine) mayOverflow(wc *workcycle, ev *event.Event) bool {
	return int64(len(wc.awus)) >= e.maxAWUs ||
		wc.tokens.InputTokens+wc.tokens.OutputTokens > math.MaxInt64-(ev.InputTokens+ev.OutputTokens)
}

func (e *Engine) fits(wc *workcycle, ev *event.Event) bool {
	switch ev.Type {
	case event.TypeTokenUsage:
		// Both totals are in range: the event's by usageOutcome, the
		// workcycle's by this check on every event before. As every count
		// is >= 0, a workcycle total in range keeps each of its parts in
		// range too.
		if wc.tokens.InputTokens+wc.tokens.OutputTokens > math.MaxInt64-(ev.InputTokens+ev.OutputTokens) {
			return false
		}
	case event.TypeToolInvocation:
	default:
		return true
	}
	if int64(len(wc.awus)) < e.maxAWUs {
		return true
	}
	return wc.findAWU(ev.AWUID) != nil // an existing AWU adds no credits
}

// refuse records that ev was refused with o (OutcomeInvalid or
// OutcomeOverflow) and returns o.
func (e *Engine) refuse(ev *event.Event, o Outcome) Outcome {
	e.lastOffset = ev.Source.Offset
	if o == OutcomeOverflow {
		e.stats.Overflows++
	} else {
		e.stats.Invalid++
	}
	return o
}

// fold adds one distinct event. It is commutative: folding a set of events
// in any order gives the same state.
func (e *Engine) fold(wc *workcycle, ev *event.Event, t int64) {
	wc.events++
	wc.started = min(wc.started, t)
	wc.ended = max(wc.ended, t)
	if ev.AgentID != "" && earlier(t, ev.AgentID, wc.agentAt, wc.agent) {
		wc.agent, wc.agentAt = e.strings.intern(ev.AgentID), t
	}
	if ev.ConversationID != "" && earlier(t, ev.ConversationID, wc.conversationAt, wc.conversation) {
		wc.conversation, wc.conversationAt = e.strings.clone(ev.ConversationID), t
	}

	switch ev.Type {
	case event.TypeWorkcycle:
		if ev.Phase == event.PhaseCompleted {
			first := wc.completedAt == never
			wc.completedAt = min(wc.completedAt, t)
			// The latest completed event states the outcome and its
			// fields; ties go to the larger (outcome, outcome_type,
			// human time, csat, resolved_by) so the choice is total.
			if first || t > wc.outcomeAt || t == wc.outcomeAt && laterOutcome(ev, wc) {
				wc.outcome, wc.outcomeType, wc.outcomeAt = e.strings.intern(ev.Outcome), e.strings.intern(ev.OutcomeType), t
				wc.humanMillis, wc.csat, wc.resolvedBy = ev.HumanMillis, ev.CSAT, ev.ResolvedBy
			}
		}
		return
	case event.TypeTokenUsage, event.TypeToolInvocation:
	default:
		return
	}

	a := wc.awu(e, ev.AWUID)
	if a.events > 0 {
		wc.mem.extra += a.addDay(t)
	}
	a.events++
	a.changed = true
	a.first = min(a.first, t)
	a.last = max(a.last, t)
	a.addAttempt(ev.Attempt)
	if ev.AgentID != "" && earlier(t, ev.AgentID, a.agentAt, a.agent) {
		agent := wc.agent // usually the same, and already interned
		if agent != ev.AgentID {
			agent = e.strings.intern(ev.AgentID)
		}
		a.agent, a.agentAt = agent, t
	}
	if ev.Type == event.TypeTokenUsage {
		u := usageOf(ev)
		// The sums cannot fail: fits admitted the event only if the
		// workcycle's total tokens, of which all are parts, stay in range.
		wc.tokens = plus(wc.tokens, u)
		r, ok := e.prices.Rate(ev.Model, ev.Time, ev.InputTokens)
		model := ""
		if !ok {
			// Unpriced usage is kept per model name, so that it stays
			// attributable in awu_models.
			r, model = nil, ev.Model
			total, _ := u.Total() // in range: usageOutcome checked it
			wc.unpriced += total  // a part of the workcycle's total tokens
		}
		a.addUsage(e, r, model, ev.Provider, t, u)
		return
	}
	a.isTool = true
	if earlier(t, ev.Tool, a.toolAt, a.tool) {
		a.tool, a.toolAt = e.strings.intern(ev.Tool), t
	}
	if ev.Channel == event.ChannelVoice {
		a.voice = true
	}
	switch ev.Status {
	case event.StatusSucceeded:
		a.succeeded = true
	case event.StatusValidated:
		a.validated = true
	case event.StatusRolledBack:
		a.rolledBack = true
		if ev.By == event.ActorHuman {
			a.overridden = true
		}
	}
}

// findAWU returns the AWU with the given id, or nil.
func (wc *workcycle) findAWU(id string) *awu {
	if wc.awuIndex != nil {
		if i, ok := wc.awuIndex[id]; ok {
			return &wc.awus[i]
		}
		return nil
	}
	for i := range wc.awus {
		if wc.awus[i].id == id {
			return &wc.awus[i]
		}
	}
	return nil
}

// awu returns the AWU with the given id, adding it if new.
func (wc *workcycle) awu(e *Engine, id string) *awu {
	if a := wc.findAWU(id); a != nil {
		return a
	}
	id = e.strings.clone(id)
	wc.awus = e.awuArrays.appendTo(wc.awus, awu{id: id, first: math.MaxInt64, last: math.MinInt64})
	n := len(wc.awus)
	switch {
	case wc.awuIndex != nil:
		wc.awuIndex[id] = int32(n - 1)
	case n > awuScanLimit:
		wc.awuIndex = make(map[string]int32, n)
		for i := range wc.awus {
			wc.awuIndex[wc.awus[i].id] = int32(i)
		}
	}
	return &wc.awus[n-1]
}

func (a *awu) addAttempt(n int32) {
	if n >= 1 && n <= 64 {
		a.attempts |= 1 << (n - 1)
		return
	}
	m := a.overflow()
	if i, found := slices.BinarySearch(m.attempts, n); !found {
		m.attempts = slices.Insert(m.attempts, i, n)
	}
}

func (a *awu) overflow() *awuMore {
	if a.more == nil {
		a.more = new(awuMore)
	}
	return a.more
}

func (a *awu) attemptCount() int64 {
	var n int64
	if a.more != nil {
		n = int64(len(a.more.attempts))
	}
	return n + int64(bits.OnesCount64(a.attempts))
}

// addUsage adds u at rate r, or, when r is nil, to the unpriced usage of
// the named model.
func (a *awu) addUsage(e *Engine, r *price.Rate, model, provider string, t int64, u price.Usage) {
	ru := a.findUsage(r, model)
	if ru == nil {
		n := rateUsage{key: e.usageKey(r, model, provider), providerAt: t, usage: u}
		if !a.hasUsage {
			a.usage, a.hasUsage = n, true
		} else {
			m := a.overflow()
			m.usage = append(m.usage, n)
		}
		return
	}
	// A part of its workcycle's total tokens, which fits kept in range.
	ru.usage = plus(ru.usage, u)
	if provider != "" && earlier(t, provider, ru.providerAt, ru.key.provider) {
		if ru.key.provider != provider {
			ru.key = e.usageKey(r, model, provider)
		}
		ru.providerAt = t
	}
}

// findUsage returns the usage at rate r (for a nil r, of the named model),
// or nil.
func (a *awu) findUsage(r *price.Rate, model string) *rateUsage {
	if !a.hasUsage {
		return nil
	}
	if a.usage.key.is(r, model) {
		return &a.usage
	}
	if a.more != nil {
		for i := range a.more.usage {
			if u := &a.more.usage[i]; u.key.is(r, model) {
				return u
			}
		}
	}
	return nil
}

// usages calls f for the summed usage at each rate, in the order the rates
// were first seen.
func (a *awu) usages(f func(*rateUsage)) {
	if a.hasUsage {
		f(&a.usage)
	}
	if a.more != nil {
		for i := range a.more.usage {
			f(&a.more.usage[i])
		}
	}
}

// usageCount is the number of rates (and unpriced models) the AWU used.
func (a *awu) usageCount() int {
	n := 0
	if a.hasUsage {
		n++
	}
	if a.more != nil {
		n += len(a.more.usage)
	}
	return n
}

// status applies the status rules: a prompt AWU is succeeded; a tool AWU is
// succeeded if any attempt succeeded or it was validated or rolled back.
func (a *awu) status() bool {
	return !a.isTool || a.succeeded || a.validated || a.rolledBack
}

// plus adds token usages that cannot overflow: in the fold every sum is a
// part of its workcycle's input + output total, which fits keeps within
// int64 before anything is added, and every count is >= 0 (usageOutcome).
// price.Usage.Add is the checked sum for callers without that guarantee.
func plus(u, v price.Usage) price.Usage {
	return price.Usage{
		InputTokens:              u.InputTokens + v.InputTokens,
		OutputTokens:             u.OutputTokens + v.OutputTokens,
		CacheReadInputTokens:     u.CacheReadInputTokens + v.CacheReadInputTokens,
		CacheCreationInputTokens: u.CacheCreationInputTokens + v.CacheCreationInputTokens,
		ReasoningTokens:          u.ReasoningTokens + v.ReasoningTokens,
	}
}

// laterOutcome orders two completed events of one time: whether ev's
// outcome fields come after those wc holds.
func laterOutcome(ev *event.Event, wc *workcycle) bool {
	if ev.Outcome != wc.outcome {
		return ev.Outcome > wc.outcome
	}
	if ev.OutcomeType != wc.outcomeType {
		return ev.OutcomeType > wc.outcomeType
	}
	if ev.HumanMillis != wc.humanMillis {
		return ev.HumanMillis > wc.humanMillis
	}
	if ev.CSAT != wc.csat {
		return ev.CSAT > wc.csat
	}
	return ev.ResolvedBy > wc.resolvedBy
}
