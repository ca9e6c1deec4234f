package engine

// Holds reports whether the workcycle is held in memory. Apply consults
// History only for a workcycle it does not hold, so a caller can read the
// ledger for every workcycle a batch of events will need before applying
// them, and answer the engine's History calls from that. It changes
// nothing.
func (e *Engine) Holds(tenantID, workcycleID string) bool {
	_, ok := e.workcycles[wcKey{tenant: tenantID, id: workcycleID}]
	return ok
}
