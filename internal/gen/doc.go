// Package gen generates seeded synthetic agent telemetry as native v1 JSON
// lines: tenants, agents and workcycles of varied size, prompt and tool
// AWUs on several models (one of them unknown to the price book), retries,
// voice actions, validations, rollbacks and outcomes, delivered the way
// Kafka may deliver them: with duplicates, bounded reordering, late events,
// conflicting re-sends and malformed records. Every rate is configurable.
//
// The same Config and seed always give the same bytes. The expected final
// rows come from package truth, which never runs the engine.
package gen
