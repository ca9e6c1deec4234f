package engine

import (
	"cmp"
	"slices"
	"time"

	"github.com/shopspring/decimal"

	"github.com/awumeter/awumeter/pipeline/price"
)

// Rows are the rows of one Emit or Flush, sorted by key: workcycles by
// (tenant_id, workcycle_id), AWUs by (tenant_id, workcycle_id, awu_id) and
// AWU models by (tenant_id, workcycle_id, awu_id, model).
type Rows struct {
	Workcycles []WorkcycleRow
	AWUs       []AWURow
	AWUModels  []AWUModelRow
}

// Len is the number of rows.
func (r Rows) Len() int { return len(r.Workcycles) + len(r.AWUs) + len(r.AWUModels) }

// Emit applies the closing rules at the current watermark and returns the
// rows of every workcycle that closed, plus those of closed workcycles that
// changed since they were emitted. It also evicts workcycles whose
// engine.closed_retention has passed. Call it after each batch of events.
func (e *Engine) Emit() Rows {
	return e.emit(e.due())
}

// Flush returns the rows of every workcycle with changes not yet emitted,
// open or not, as at the end of the input. Offline processing calls it once
// at the end; the service never does (an open workcycle is rebuilt by the
// next owner of the partition from the committed low watermark instead).
func (e *Engine) Flush() Rows {
	out := e.due()
	for _, wc := range e.workcycles {
		if wc.dirty && !wc.closed {
			wc.closed = true
			out = append(out, wc)
		}
	}
	return e.emit(out)
}

// due pops the schedule up to the watermark: it closes the workcycles whose
// closing rule holds, evicts those whose retention has passed, and returns
// the workcycles to emit.
func (e *Engine) due() []*workcycle {
	wm, ok := e.watermark()
	if !ok {
		return nil
	}
	var out []*workcycle
	for {
		it, ok := e.schedule.popDue(wm)
		if !ok {
			break
		}
		wc := it.wc
		if wc.evicted || it.at != wc.next {
			continue // superseded entry
		}
		wc.next = never
		switch {
		case !wc.closed:
			if d := e.closeDeadline(wc); d > wm {
				e.schedule.at(wc, d)
				continue
			}
			wc.closed = true
			out = append(out, wc)
		case wc.dirty:
			// In the re-emit queue.
		case satAdd(wc.closedAt, e.cfg.retention) <= wm:
			e.evict(wc)
		default:
			e.schedule.at(wc, satAdd(wc.closedAt, e.cfg.retention))
		}
	}
	for _, wc := range e.reemit {
		wc.queued = false
		if !wc.evicted && wc.dirty {
			out = append(out, wc)
		}
	}
	clear(e.reemit)
	e.reemit = e.reemit[:0]
	return out
}

// emit builds the rows of out and schedules each workcycle's eviction.
func (e *Engine) emit(out []*workcycle) Rows {
	if wm, ok := e.watermark(); ok {
		for _, wc := range out {
			wc.closedAt = wm
			e.schedule.at(wc, satAdd(wm, e.cfg.retention))
		}
	}
	rows := e.rows(out)
	e.pending.compact()
	return rows
}

// evict forgets a closed workcycle and its event ids. A later event of it
// rebuilds it from History.
func (e *Engine) evict(wc *workcycle) {
	for _, id := range wc.ids {
		e.ids.del(id)
	}
	delete(e.workcycles, wc.key)
	wc.evicted = true
	e.idArrays.put(wc.ids)
	e.awuArrays.put(wc.awus)
	wc.ids, wc.awus, wc.awuIndex = nil, nil, nil
}

// rows builds the rows of the given workcycles and marks them clean.
func (e *Engine) rows(wcs []*workcycle) Rows {
	if len(wcs) == 0 {
		return Rows{}
	}
	slices.SortFunc(wcs, func(a, b *workcycle) int {
		return cmp.Or(cmp.Compare(a.key.tenant, b.key.tenant), cmp.Compare(a.key.id, b.key.id))
	})
	n, m := 0, 0
	for _, wc := range wcs {
		n += len(wc.awus)
		for i := range wc.awus {
			m += wc.awus[i].usageCount() // at least the number of model rows
		}
	}
	r := Rows{
		Workcycles: make([]WorkcycleRow, 0, len(wcs)),
		AWUs:       make([]AWURow, 0, n),
		AWUModels:  make([]AWUModelRow, 0, m),
	}
	for _, wc := range wcs {
		e.appendRows(&r, wc)
		wc.dirty = false
		wc.emitted = true
		e.pending.done(wc)
	}
	return r
}

func nanos(t int64) time.Time { return time.Unix(0, t).UTC() }

// appendRows appends the workcycle's row, one row per AWU and one per
// (AWU, model), all at the workcycle's version: the number of distinct
// events folded in.
func (e *Engine) appendRows(r *Rows, wc *workcycle) {
	plan := e.prices.PlanFor(wc.key.tenant)
	w := WorkcycleRow{
		TenantID:       wc.key.tenant,
		WorkcycleID:    wc.key.id,
		AgentID:        wc.agent,
		ConversationID: wc.conversation,
		Outcome:        wc.outcome,
		OutcomeType:    wc.outcomeType,
		StartedAt:      nanos(wc.started),
		EndedAt:        nanos(wc.ended),
		Version:        wc.events,
	}
	var prompts, textActions int64
	var cost costSum
	// Rows are written in awu_id order; the sums run in the AWUs' own order.
	byID, rank := e.awuRanks(wc)
	first := len(r.AWUs)
	r.AWUs = slices.Grow(r.AWUs, len(wc.awus))[:first+len(wc.awus)]
	// Model rows are built in the AWUs' order into e.models, AWU i's at
	// e.modelSpans[i]:e.modelSpans[i+1], then copied in awu_id order.
	e.models = e.models[:0]
	e.modelSpans = append(e.modelSpans[:0], 0)
	for i := range wc.awus {
		a := &wc.awus[i]
		row := AWURow{
			TenantID:    wc.key.tenant,
			WorkcycleID: wc.key.id,
			AWUID:       a.id,
			AgentID:     a.agent,
			Kind:        "prompt",
			Tool:        a.tool,
			Channel:     "text",
			Status:      "failed",
			Validated:   a.validated,
			RolledBack:  a.rolledBack,
			Attempts:    a.attemptCount(),
			FirstSeen:   nanos(a.first),
			LastSeen:    nanos(a.last),
			Version:     wc.events,
		}
		if a.isTool {
			row.Kind = "tool"
		}
		if a.voice {
			row.Channel = "voice"
		}
		ok := a.status()
		if ok {
			row.Status = "succeeded"
		}
		e.appendModelRows(&row, a)
		switch {
		case !a.isTool:
			prompts++
			row.Credits = plan.Credits(0, 0, 1)
		case ok && a.voice:
			w.VoiceActions++
			row.Credits = plan.Credits(0, 1, 0)
		case ok:
			textActions++
			row.Credits = plan.Credits(1, 0, 0)
		}
		row.ListCost = e.creditsCost(plan, row.Credits)

		w.AWUs++
		if ok {
			w.AWUsSucceeded++
		} else {
			w.AWUsFailed++
		}
		if a.validated {
			w.AWUsValidated++
		}
		if a.rolledBack {
			w.AWUsRolledBack++
		}
		w.Attempts += row.Attempts
		w.InputTokens += row.InputTokens
		w.OutputTokens += row.OutputTokens
		w.CacheReadInputTokens += row.CacheReadInputTokens
		w.CacheCreationInputTokens += row.CacheCreationInputTokens
		w.ReasoningTokens += row.ReasoningTokens
		w.UnpricedTokens += row.UnpricedTokens
		cost.add(row.TokenCost)
		r.AWUs[first+int(rank[i])] = row
		e.modelSpans = append(e.modelSpans, int32(len(e.models)))
	}
	for _, i := range byID {
		r.AWUModels = append(r.AWUModels, e.models[e.modelSpans[i]:e.modelSpans[i+1]]...)
	}
	clear(e.models) // holds no strings or costs alive
	w.TokenCost = cost.value()
	w.Actions = textActions + w.VoiceActions
	w.Retries = w.Attempts - w.AWUs
	w.Credits = plan.Credits(textActions, w.VoiceActions, prompts)
	w.ListCost = e.creditsCost(plan, w.Credits)
	r.Workcycles = append(r.Workcycles, w)
}

// awuRanks returns wc's AWUs in awu_id order (byID) and the position of each
// in that order (rank), in a buffer reused by the next call.
func (e *Engine) awuRanks(wc *workcycle) (byID, rank []int32) {
	n := len(wc.awus)
	order := slices.Grow(e.scratch[:0], 2*n)[:2*n]
	e.scratch = order
	byID, rank = order[:n], order[n:]
	for i := range byID {
		byID[i] = int32(i)
	}
	slices.SortFunc(byID, func(i, j int32) int { return cmp.Compare(wc.awus[i].id, wc.awus[j].id) })
	for k, i := range byID {
		rank[i] = int32(k)
	}
	return byID, rank
}

// appendModelRows sums a's usage into its row (token counts, token_cost,
// unpriced_tokens) and appends a's model rows to e.models, sorted by model.
// Each model's row sums the model's usage at every rate it was priced at.
func (e *Engine) appendModelRows(row *AWURow, a *awu) {
	first := len(e.models)
	a.usages(func(u *rateUsage) {
		var cost decimal.Decimal
		var unpriced int64
		rate := u.key.rate
		if rate == nil {
			unpriced = u.usage.Total()
		} else {
			cost = rate.Cost(u.usage)
		}
		row.InputTokens += u.usage.InputTokens
		row.OutputTokens += u.usage.OutputTokens
		row.CacheReadInputTokens += u.usage.CacheReadInputTokens
		row.CacheCreationInputTokens += u.usage.CacheCreationInputTokens
		row.ReasoningTokens += u.usage.ReasoningTokens
		row.UnpricedTokens += unpriced
		if rate != nil {
			row.TokenCost = addCost(row.TokenCost, cost)
		}

		model, provider := u.key.modelID(), u.key.provider
		for j := first; j < len(e.models); j++ {
			if m := &e.models[j]; m.Model == model {
				m.addUsage(u.usage, cost, unpriced)
				if provider != "" && earlier(u.providerAt, provider, e.modelProviderAt[j-first], m.Provider) {
					m.Provider, e.modelProviderAt[j-first] = provider, u.providerAt
				}
				return
			}
		}
		e.models = append(e.models, AWUModelRow{
			TenantID:       row.TenantID,
			WorkcycleID:    row.WorkcycleID,
			AWUID:          row.AWUID,
			Model:          model,
			Provider:       provider,
			AgentID:        row.AgentID,
			Kind:           row.Kind,
			Tool:           row.Tool,
			FirstSeen:      row.FirstSeen,
			TokenCounts:    tokenCounts(u.usage),
			TokenCost:      cost,
			UnpricedTokens: unpriced,
			Version:        row.Version,
		})
		e.modelProviderAt = append(e.modelProviderAt[:len(e.models)-1-first], u.providerAt)
	})
	if ms := e.models[first:]; len(ms) > 1 {
		slices.SortFunc(ms, func(x, y AWUModelRow) int { return cmp.Compare(x.Model, y.Model) })
	}
}

func tokenCounts(u price.Usage) TokenCounts {
	return TokenCounts{
		InputTokens:              u.InputTokens,
		OutputTokens:             u.OutputTokens,
		CacheReadInputTokens:     u.CacheReadInputTokens,
		CacheCreationInputTokens: u.CacheCreationInputTokens,
		ReasoningTokens:          u.ReasoningTokens,
	}
}

func (m *AWUModelRow) addUsage(u price.Usage, cost decimal.Decimal, unpriced int64) {
	m.InputTokens += u.InputTokens
	m.OutputTokens += u.OutputTokens
	m.CacheReadInputTokens += u.CacheReadInputTokens
	m.CacheCreationInputTokens += u.CacheCreationInputTokens
	m.ReasoningTokens += u.ReasoningTokens
	m.UnpricedTokens += unpriced
	if !cost.IsZero() {
		m.TokenCost = addCost(m.TokenCost, cost)
	}
}

// addCost is sum + c, without allocating while sum is zero. A zero
// decimal.Decimal value is the number 0.
func addCost(sum, c decimal.Decimal) decimal.Decimal {
	if sum.IsZero() {
		return c
	}
	return sum.Add(c)
}

// creditsCost is plan.CreditsCost, memoised: rows repeat a few credit
// amounts (0, 20, 30 per AWU) and decimals are immutable values.
func (e *Engine) creditsCost(plan *price.Plan, credits int64) decimal.Decimal {
	k := creditsKey{plan, credits}
	if d, ok := e.creditsMemo[k]; ok {
		return d
	}
	d := plan.CreditsCost(credits)
	if len(e.creditsMemo) < 4096 {
		e.creditsMemo[k] = d
	}
	return d
}

type creditsKey struct {
	plan    *price.Plan
	credits int64
}
