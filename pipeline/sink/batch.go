package sink

import (
	"github.com/awumeter/awumeter/pipeline/engine"
	"github.com/awumeter/awumeter/pipeline/event"
	"github.com/awumeter/awumeter/pipeline/guard"
)

// Batch is what one insert round writes. Any part may be empty.
type Batch struct {
	// Events are distinct valid events for the ledger, with their Source.
	Events     []event.Event
	Workcycles []engine.WorkcycleRow
	AWUs       []engine.AWURow
	AWUModels  []AWUModelRow
	// Keys are the workcycles a partition's owner met for the first time
	// since it loaded the partition's keys; they travel in the same
	// transaction as those workcycles' first events.
	Keys []KeyRow
	// States are the engines' state rows (engine.Rows.States), for the
	// partitions' next owners.
	States []StateRow
	// Alerts are the guards' alerts raised by the batch's rows.
	Alerts []guard.Alert
}

// Rows counts the rows of every table.
func (b *Batch) Rows() int {
	return len(b.Events) + len(b.Workcycles) + len(b.AWUs) + len(b.AWUModels) + len(b.Keys) + len(b.States) + len(b.Alerts)
}

// Merge appends o's rows to b.
func (b *Batch) Merge(o Batch) {
	b.Events = append(b.Events, o.Events...)
	b.Workcycles = append(b.Workcycles, o.Workcycles...)
	b.AWUs = append(b.AWUs, o.AWUs...)
	b.AWUModels = append(b.AWUModels, o.AWUModels...)
	b.Keys = append(b.Keys, o.Keys...)
	b.States = append(b.States, o.States...)
	b.Alerts = append(b.Alerts, o.Alerts...)
}

// Per-row memory estimates: the struct plus its strings. They drive
// batch.max_bytes, not exact accounting.
const (
	eventSize     = 280
	workcycleSize = 320
	awuSize       = 300
	awuModelSize  = 240
	keySize       = 32
	stateSize     = 96
	alertSize     = 400
)

// approxBytes estimates the batch's size in memory.
func (b *Batch) approxBytes() int {
	n := len(b.Workcycles)*workcycleSize + len(b.AWUs)*awuSize + len(b.AWUModels)*awuModelSize + len(b.Keys)*keySize +
		len(b.States)*stateSize + len(b.Alerts)*alertSize
	for i := range b.Events {
		e := &b.Events[i]
		n += eventSize + len(e.EventID) + len(e.TenantID) + len(e.WorkcycleID) + len(e.AgentID) +
			len(e.ConversationID) + len(e.AWUID) + len(e.Model) + len(e.Tool) + len(e.Outcome) + len(e.Source.Topic)
	}
	for i := range b.Workcycles {
		r := &b.Workcycles[i]
		n += len(r.TenantID) + len(r.WorkcycleID) + len(r.AgentID) + len(r.ConversationID) + len(r.Outcome)
	}
	for i := range b.AWUs {
		r := &b.AWUs[i]
		n += len(r.TenantID) + len(r.WorkcycleID) + len(r.AWUID) + len(r.AgentID) + len(r.Tool)
	}
	for i := range b.AWUModels {
		r := &b.AWUModels[i]
		n += len(r.TenantID) + len(r.WorkcycleID) + len(r.AWUID) + len(r.Model) + len(r.Provider) + len(r.AgentID) + len(r.Tool)
	}
	return n
}
