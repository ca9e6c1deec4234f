// Package truth computes the expected final rows of a set of events the
// simplest way there is, independently of the work-unit engine: keep the
// first copy of each (tenant_id, event_id), group, and count. Token cost is
// priced per event with the one cost formula and summed, which must equal
// the engine's pricing of aggregated usage exactly because the formula is
// linear.
//
// Tests compare the engine's last version of every row with these rows.
package truth

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/awumeter/awumeter/pipeline/engine"
	"github.com/awumeter/awumeter/pipeline/event"
	"github.com/awumeter/awumeter/pipeline/price"
	"github.com/shopspring/decimal"
)

// Rows returns the final workcycle and AWU rows of the events; see AllRows.
func Rows(events []event.Event, book *price.Book) ([]engine.WorkcycleRow, []engine.AWURow) {
	r := AllRows(events, book)
	return r.Workcycles, r.AWUs
}

// AllRows returns the final rows of the events, given in delivery order: the
// first copy of an event id stands. Workcycles are sorted by (tenant_id,
// workcycle_id), AWUs by (tenant_id, workcycle_id, awu_id) and AWU models by
// (tenant_id, workcycle_id, awu_id, model).
func AllRows(events []event.Event, book *price.Book) engine.Rows {
	type idKey struct{ tenant, id string }
	type wcKey struct{ tenant, wc string }
	seen := map[idKey]bool{}
	groups := map[wcKey][]event.Event{}
	for _, ev := range events {
		k := idKey{ev.TenantID, ev.EventID}
		if seen[k] {
			continue
		}
		seen[k] = true
		groups[wcKey{ev.TenantID, ev.WorkcycleID}] = append(groups[wcKey{ev.TenantID, ev.WorkcycleID}], ev)
	}
	var wcs []engine.WorkcycleRow
	var awus []engine.AWURow
	var models []engine.AWUModelRow
	for k, evs := range groups {
		w, as, ms := workcycle(k.tenant, k.wc, evs, book)
		wcs = append(wcs, w)
		awus = append(awus, as...)
		models = append(models, ms...)
	}
	slices.SortFunc(wcs, func(a, b engine.WorkcycleRow) int {
		return cmp.Or(cmp.Compare(a.TenantID, b.TenantID), cmp.Compare(a.WorkcycleID, b.WorkcycleID))
	})
	slices.SortFunc(awus, func(a, b engine.AWURow) int {
		return cmp.Or(cmp.Compare(a.TenantID, b.TenantID), cmp.Compare(a.WorkcycleID, b.WorkcycleID), cmp.Compare(a.AWUID, b.AWUID))
	})
	slices.SortFunc(models, func(a, b engine.AWUModelRow) int {
		return cmp.Or(cmp.Compare(a.TenantID, b.TenantID), cmp.Compare(a.WorkcycleID, b.WorkcycleID),
			cmp.Compare(a.AWUID, b.AWUID), cmp.Compare(a.Model, b.Model))
	})
	return engine.Rows{Workcycles: wcs, AWUs: awus, AWUModels: models}
}

// firstValue is the value of the earliest event that has one; ties go to
// the smaller value.
func firstValue(evs []event.Event, get func(*event.Event) string) string {
	best, bestAt := "", time.Time{}
	for i := range evs {
		v := get(&evs[i])
		if v == "" {
			continue
		}
		t := evs[i].Time
		if best == "" || t.Before(bestAt) || t.Equal(bestAt) && v < best {
			best, bestAt = v, t
		}
	}
	return best
}

func workcycle(tenant, id string, evs []event.Event, book *price.Book) (engine.WorkcycleRow, []engine.AWURow, []engine.AWUModelRow) {
	plan := book.PlanFor(tenant)
	version := uint64(len(evs))
	w := engine.WorkcycleRow{
		TenantID:       tenant,
		WorkcycleID:    id,
		AgentID:        firstValue(evs, func(e *event.Event) string { return e.AgentID }),
		ConversationID: firstValue(evs, func(e *event.Event) string { return e.ConversationID }),
		StartedAt:      evs[0].Time,
		EndedAt:        evs[0].Time,
		TokenCost:      decimal.Zero,
		ListCost:       decimal.Zero,
		State:          engine.StateClosed, // every workcycle closes by the end of the input
		Version:        version,
	}
	var completed *event.Event
	byAWU := map[string][]event.Event{}
	var awuIDs []string
	for i := range evs {
		ev := &evs[i]
		if ev.Time.Before(w.StartedAt) {
			w.StartedAt = ev.Time
		}
		if ev.Time.After(w.EndedAt) {
			w.EndedAt = ev.Time
		}
		if ev.Type == event.TypeWorkcycle && ev.Phase == event.PhaseCompleted {
			// The latest completed event states the outcome and its
			// fields; of events at one time, the largest by (outcome,
			// outcome_type, human time, csat, resolved_by).
			if completed == nil || ev.Time.After(completed.Time) || ev.Time.Equal(completed.Time) && outcomeKey(ev) > outcomeKey(completed) {
				completed = ev
			}
		}
		if ev.Type == event.TypeTokenUsage || ev.Type == event.TypeToolInvocation {
			if _, ok := byAWU[ev.AWUID]; !ok {
				awuIDs = append(awuIDs, ev.AWUID)
			}
			byAWU[ev.AWUID] = append(byAWU[ev.AWUID], *ev)
		}
	}
	w.StartedAt, w.EndedAt = w.StartedAt.UTC(), w.EndedAt.UTC()
	if completed != nil {
		w.Outcome, w.OutcomeType = completed.Outcome, completed.OutcomeType
		w.HumanMillis, w.CSAT, w.ResolvedBy = completed.HumanMillis, completed.CSAT, completed.ResolvedBy.String()
	}

	var awus []engine.AWURow
	var models []engine.AWUModelRow
	for _, awuID := range awuIDs {
		a := awu(tenant, id, awuID, byAWU[awuID], book, plan)
		// An AWU's rows are versioned by its own events: 2^32 + their count
		// (docs/engine.md, "Versions").
		a.Version = 1<<32 + uint64(len(byAWU[awuID]))
		awus = append(awus, a)
		models = append(models, awuModels(&a, byAWU[awuID], book)...)

		w.AWUs++
		if a.Status == "succeeded" {
			w.AWUsSucceeded++
			if a.Kind == "tool" {
				w.Actions++
				if a.Channel == "voice" {
					w.VoiceActions++
				}
			}
		} else {
			w.AWUsFailed++
		}
		if a.Validated {
			w.AWUsValidated++
		}
		if a.RolledBack {
			w.AWUsRolledBack++
		}
		if a.Overridden {
			w.AWUsOverridden++
		}
		w.Attempts += a.Attempts
		w.Retries += a.Attempts - 1
		w.InputTokens += a.InputTokens
		w.OutputTokens += a.OutputTokens
		w.CacheReadInputTokens += a.CacheReadInputTokens
		w.CacheCreationInputTokens += a.CacheCreationInputTokens
		w.ReasoningTokens += a.ReasoningTokens
		w.UnpricedTokens += a.UnpricedTokens
		w.TokenCost = w.TokenCost.Add(a.TokenCost)
		w.Credits += a.Credits
		w.ListCost = w.ListCost.Add(a.ListCost)
	}
	return w, awus, models
}

func awu(tenant, wc, id string, evs []event.Event, book *price.Book, plan *price.Plan) engine.AWURow {
	a := engine.AWURow{
		TenantID:    tenant,
		WorkcycleID: wc,
		AWUID:       id,
		AgentID:     firstValue(evs, func(e *event.Event) string { return e.AgentID }),
		Kind:        "prompt",
		Channel:     "text",
		FirstSeen:   evs[0].Time,
		LastSeen:    evs[0].Time,
		TokenCost:   decimal.Zero,
	}
	attempts := map[int32]bool{}
	succeeded := false
	for i := range evs {
		ev := &evs[i]
		attempts[ev.Attempt] = true
		if ev.Time.Before(a.FirstSeen) {
			a.FirstSeen = ev.Time
		}
		if ev.Time.After(a.LastSeen) {
			a.LastSeen = ev.Time
		}
		switch ev.Type {
		case event.TypeToolInvocation:
			a.Kind = "tool"
			if ev.Channel == event.ChannelVoice {
				a.Channel = "voice"
			}
			switch ev.Status {
			case event.StatusSucceeded:
				succeeded = true
			case event.StatusValidated:
				a.Validated = true
			case event.StatusRolledBack:
				a.RolledBack = true
				a.Overridden = a.Overridden || ev.By == event.ActorHuman
			}
		case event.TypeTokenUsage:
			a.InputTokens += ev.InputTokens
			a.OutputTokens += ev.OutputTokens
			a.CacheReadInputTokens += ev.CacheReadInputTokens
			a.CacheCreationInputTokens += ev.CacheCreationInputTokens
			a.ReasoningTokens += ev.ReasoningTokens
			u := price.Usage{
				InputTokens:              ev.InputTokens,
				OutputTokens:             ev.OutputTokens,
				CacheReadInputTokens:     ev.CacheReadInputTokens,
				CacheCreationInputTokens: ev.CacheCreationInputTokens,
				ReasoningTokens:          ev.ReasoningTokens,
			}
			if r, ok := book.Rate(ev.Model, ev.Time, ev.InputTokens); ok {
				a.TokenCost = a.TokenCost.Add(r.Cost(u))
			} else {
				a.UnpricedTokens += ev.InputTokens + ev.OutputTokens
			}
		}
	}
	a.FirstSeen, a.LastSeen = a.FirstSeen.UTC(), a.LastSeen.UTC()
	a.Attempts = int64(len(attempts))
	toolEvents := make([]event.Event, 0, len(evs))
	for _, ev := range evs {
		if ev.Type == event.TypeToolInvocation {
			toolEvents = append(toolEvents, ev)
		}
	}
	a.Tool = firstValue(toolEvents, func(e *event.Event) string { return e.Tool })

	a.Status = "failed"
	switch {
	case a.Kind == "prompt":
		a.Status = "succeeded"
		a.Credits = plan.PromptAWUCredits()
	case succeeded || a.Validated || a.RolledBack:
		a.Status = "succeeded"
		a.Credits = plan.ActionCredits()
		if a.Channel == "voice" {
			a.Credits = plan.VoiceActionCredits()
		}
	}
	a.ListCost = plan.CreditPrice().Mul(decimal.NewFromInt(a.Credits))
	return a
}

// awuModels groups the AWU's token events by model (the price book's model
// id when priced at the event's time and size, else the name as sent) and
// sums each group on its own, pricing every event separately.
func awuModels(a *engine.AWURow, evs []event.Event, book *price.Book) []engine.AWUModelRow {
	byModel := map[string][]event.Event{}
	for _, ev := range evs {
		if ev.Type != event.TypeTokenUsage {
			continue
		}
		model := ev.Model
		if r, ok := book.Rate(ev.Model, ev.Time, ev.InputTokens); ok {
			model = r.ModelID()
		}
		byModel[model] = append(byModel[model], ev)
	}
	var out []engine.AWUModelRow
	for model, mevs := range byModel {
		m := engine.AWUModelRow{
			TenantID:    a.TenantID,
			WorkcycleID: a.WorkcycleID,
			AWUID:       a.AWUID,
			Model:       model,
			Provider:    firstValue(mevs, func(e *event.Event) string { return e.Provider }),
			AgentID:     a.AgentID,
			Kind:        a.Kind,
			Tool:        a.Tool,
			FirstSeen:   a.FirstSeen,
			TokenCost:   decimal.Zero,
			Version:     a.Version,
		}
		for i := range mevs {
			ev := &mevs[i]
			m.InputTokens += ev.InputTokens
			m.OutputTokens += ev.OutputTokens
			m.CacheReadInputTokens += ev.CacheReadInputTokens
			m.CacheCreationInputTokens += ev.CacheCreationInputTokens
			m.ReasoningTokens += ev.ReasoningTokens
			if r, ok := book.Rate(ev.Model, ev.Time, ev.InputTokens); ok {
				m.TokenCost = m.TokenCost.Add(r.Cost(price.Usage{
					InputTokens:              ev.InputTokens,
					OutputTokens:             ev.OutputTokens,
					CacheReadInputTokens:     ev.CacheReadInputTokens,
					CacheCreationInputTokens: ev.CacheCreationInputTokens,
					ReasoningTokens:          ev.ReasoningTokens,
				}))
			} else {
				m.UnpricedTokens += ev.InputTokens + ev.OutputTokens
			}
		}
		out = append(out, m)
	}
	return out
}

// outcomeKey orders completed events of one time: a string whose order is
// that of (outcome, outcome_type, human time, csat, resolved_by). The
// strings are NUL-separated; labels hold no NUL in this comparison's use.
func outcomeKey(ev *event.Event) string {
	return fmt.Sprintf("%s\x00%s\x00%020d\x00%03d\x00%d", ev.Outcome, ev.OutcomeType, ev.HumanMillis, ev.CSAT, ev.ResolvedBy)
}
