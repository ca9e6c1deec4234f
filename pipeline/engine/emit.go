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
	// States are the workcycles' state changes worth storing for the
	// partition's next owner, in the order of Workcycles (see StateRow).
	States []StateRow
}

// Len is the number of rows.
func (r Rows) Len() int {
	return len(r.Workcycles) + len(r.AWUs) + len(r.AWUModels) + len(r.States)
}

// Emit applies the closing rules at the current watermark and returns the
// rows of every workcycle that closed, plus those of closed workcycles that
// changed since they were emitted. It also evicts workcycles whose
// engine.closed_retention has passed. Call it after each batch of events.
func (e *Engine) Emit() Rows {
	return e.emitWithinBudget(e.due())
}

// EmitOpen is Emit plus a provisional row, with State StateOpen, of every
// open workcycle that has new events since it was last emitted, and the
// rows of its changed AWUs. Versions stay counts of distinct events, so a
// provisional row is an ordinary version: the closing row replaces it, and
// a replay repeats it. Emitting clears a workcycle's pending changes, so
// ResumeOffset moves past events that are in provisional rows; the service
// calls EmitOpen every engine.emit_interval, and restores open workcycles
// from their StateRows when a partition changes hands.
//
// An open workcycle rebuilt from History whose only events since were
// duplicates is not emitted provisionally (a closed row of that version may
// be stored); it waits for its closing rule.
func (e *Engine) EmitOpen() Rows {
	out := e.due()
	e.pending.each(func(wc *workcycle) bool {
		if !wc.closed && wc.fresh {
			out = append(out, wc)
		}
		return true
	})
	return e.emitWithinBudget(out)
}

// Flush closes every open workcycle and returns the rows of those with
// changes not yet emitted or with a provisional row, as at the end of the
// input. Offline processing calls it once at the end; the service never
// does (an open workcycle is rebuilt by the next owner of the partition,
// from the committed resume offset or by Restore, instead).
func (e *Engine) Flush() Rows {
	out := e.due()
	for _, wc := range e.workcycles {
		if !wc.closed && (wc.dirty || wc.openState) {
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

// emit builds the rows of out and schedules the eviction of each closed
// one; open ones (EmitOpen's) stay scheduled for their closing rule.
func (e *Engine) emit(out []*workcycle) Rows {
	if wm, ok := e.watermark(); ok {
		for _, wc := range out {
			if wc.closed {
				wc.closedAt = wm
				e.schedule.at(wc, satAdd(wm, e.cfg.retention))
			}
		}
	}
	rows := e.rows(out)
	e.retain(out)
	e.pending.compact()
	return rows
}

// evict forgets a closed workcycle and its event ids. A later event of it
// rebuilds it from History.
func (e *Engine) evict(wc *workcycle) {
	e.release(wc)
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
		for i := range wc.awus {
			if a := &wc.awus[i]; a.changed {
				n++
				m += a.usageCount() // at least the number of model rows
			}
		}
	}
	r := Rows{
		Workcycles: make([]WorkcycleRow, 0, len(wcs)),
		AWUs:       make([]AWURow, 0, n),
		AWUModels:  make([]AWUModelRow, 0, m),
	}
	for _, wc := range wcs {
		if !wc.closed {
			e.stats.Provisional++
		}
		e.appendRows(&r, wc)
		wc.dirty, wc.fresh = false, false
		wc.emitted = true
		e.pending.done(wc)
		switch {
		case !wc.closed && !wc.openState:
			wc.openState = true
			r.States = append(r.States, StateRow{TenantID: wc.key.tenant, WorkcycleID: wc.key.id, Open: true, Version: wc.events})
		case wc.closed && (wc.openState || wc.maybeOpen):
			wc.openState, wc.maybeOpen = false, false
			r.States = append(r.States, StateRow{TenantID: wc.key.tenant, WorkcycleID: wc.key.id, Version: wc.events})
		}
	}
	return r
}

func nanos(t int64) time.Time { return time.Unix(0, t).UTC() }

// appendRows appends the workcycle's row, at the workcycle's version (the
// number of distinct events folded in), and the rows of its changed AWUs:
// one per AWU and one per (AWU, model), at the AWU's version. An AWU row
// holds nothing but values of the AWU's own events and its tenant's plan,
// so the rows of an unchanged AWU, emitted before, are still its rows.
func (e *Engine) appendRows(r *Rows, wc *workcycle) {
	plan := e.prices.PlanFor(wc.key.tenant)
	w := WorkcycleRow{
		TenantID:       wc.key.tenant,
		WorkcycleID:    wc.key.id,
		AgentID:        wc.agent,
		ConversationID: wc.conversation,
		Outcome:        wc.outcome,
		OutcomeType:    wc.outcomeType,
		HumanMillis:    wc.humanMillis,
		CSAT:           wc.csat,
		ResolvedBy:     wc.resolvedBy.String(),
		StartedAt:      nanos(wc.started),
		EndedAt:        nanos(wc.ended),
		TokenCounts:    tokenCounts(wc.tokens),
		UnpricedTokens: wc.unpriced,
		State:          StateClosed,
		Version:        wc.events,
	}
	if !wc.closed {
		w.State = StateOpen
	}
	// The rows of the changed AWUs, in awu_id order; each prices its AWU and
	// keeps the cost for the sums below.
	for _, i := range e.changedAWUs(wc) {
		a := &wc.awus[i]
		r.AWUs = append(r.AWUs, e.awuRow(wc, a, plan, &r.AWUModels))
		a.cost = r.AWUs[len(r.AWUs)-1].TokenCost
		a.changed = false
	}
	// The workcycle's sums run over every AWU, in the AWUs' own order. The
	// counts are at most the number of events held and the credits at most
	// AWUs × the largest credits per AWU, which Apply keeps in range.
	var prompts, textActions int64
	var cost costSum
	var c AWURow // the billing fields of each AWU in turn
	for i := range wc.awus {
		a := &wc.awus[i]
		a.classify(&c)
		switch {
		case c.Kind == KindPrompt:
			prompts++
		case c.VoiceAction():
			w.VoiceActions++
		case c.BillableAction():
			textActions++
		}
		w.AWUs++
		if c.Status == StatusSucceeded {
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
		if a.overridden {
			w.AWUsOverridden++
		}
		w.Attempts += a.attemptCount()
		cost.add(a.cost)
	}
	w.TokenCost = cost.value()
	w.Actions = textActions + w.VoiceActions
	w.Retries = w.Attempts - w.AWUs
	// Cannot fail: Apply keeps a workcycle's AWUs within
	// price.Book.MaxAWUsPerWorkcycle, the count whose credits fit int64.
	w.Credits, _ = plan.Credits(textActions, w.VoiceActions, prompts)
	w.ListCost = e.creditsCost(plan, w.Credits)
	r.Workcycles = append(r.Workcycles, w)
}

// changedAWUs returns the indices of wc's changed AWUs in awu_id order, in
// a buffer reused by the next call.
func (e *Engine) changedAWUs(wc *workcycle) []int32 {
	idx := e.scratch[:0]
	for i := range wc.awus {
		if wc.awus[i].changed {
			idx = append(idx, int32(i))
		}
	}
	e.scratch = idx
	if len(idx) > 1 {
		slices.SortFunc(idx, func(i, j int32) int { return cmp.Compare(wc.awus[i].id, wc.awus[j].id) })
	}
	return idx
}

// awuRow builds the row of AWU a and appends its model rows to models.
func (e *Engine) awuRow(wc *workcycle, a *awu, plan *price.Plan, models *[]AWUModelRow) AWURow {
	row := AWURow{
		TenantID:    wc.key.tenant,
		WorkcycleID: wc.key.id,
		AWUID:       a.id,
		AgentID:     a.agent,
		Tool:        a.tool,
		Validated:   a.validated,
		RolledBack:  a.rolledBack,
		Overridden:  a.overridden,
		Attempts:    a.attemptCount(),
		FirstSeen:   nanos(a.first),
		LastSeen:    nanos(a.last),
		EventDays:   slices.Clone(a.eventDays()),
		Version:     awuVersionBase + a.events,
	}
	a.classify(&row)
	e.appendModelRows(&row, a, models)
	switch {
	case row.Kind == KindPrompt:
		row.Credits = plan.PromptAWUCredits()
	case row.VoiceAction():
		row.Credits = plan.VoiceActionCredits()
	case row.BillableAction():
		row.Credits = plan.ActionCredits()
	}
	row.ListCost = e.creditsCost(plan, row.Credits)
	return row
}

// classify sets the fields of row that the billing rule reads.
func (a *awu) classify(row *AWURow) {
	row.Classify(a.isTool, a.voice, a.status())
}

// appendModelRows sums a's usage into its row (token counts, token_cost,
// unpriced_tokens) and appends a's model rows to models, sorted by model.
// Each model's row sums the model's usage at every rate it was priced at.
// No sum can wrap: each is a part of the workcycle's total tokens, which
// Apply keeps in range.
func (e *Engine) appendModelRows(row *AWURow, a *awu, models *[]AWUModelRow) {
	first := len(*models)
	a.usages(func(u *rateUsage) {
		var cost decimal.Decimal
		var unpriced int64
		rate := u.key.rate
		if rate == nil {
			unpriced, _ = u.usage.Total()
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
		ms := *models
		for j := first; j < len(ms); j++ {
			if m := &ms[j]; m.Model == model {
				m.addUsage(u.usage, cost, unpriced)
				if provider != "" && earlier(u.providerAt, provider, e.modelProviderAt[j-first], m.Provider) {
					m.Provider, e.modelProviderAt[j-first] = provider, u.providerAt
				}
				return
			}
		}
		*models = append(ms, AWUModelRow{
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
		e.modelProviderAt = append(e.modelProviderAt[:len(*models)-1-first], u.providerAt)
	})
	if ms := (*models)[first:]; len(ms) > 1 {
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
