// Package guard flags runaway agents: rules from the service config
// (guards.rules) are checked against the rows the engine emits and against
// tenants' hourly and daily sums, and a rule crossed for the first time
// produces an Alert, which the caller writes to a Kafka topic
// (guards.topic, keyed by the alert id) and a ClickHouse table.
//
// The package is pure: no I/O, no clock, no Kafka or ClickHouse code.
//
// # Rules
//
// A rule names what it is checked on (workcycle rows, AWU rows, a tenant's
// UTC hour or day), a metric of it (awus, attempts, retries, token_cost,
// list_cost, credits, as Metrics lists for each), a threshold (above) and
// optionally a tenant and an agent it is limited to. It is crossed when
// the value is strictly greater than above: a value equal to it does not
// alert.
//
// # First crossing
//
// The engine re-emits a workcycle often: provisional rows every few
// seconds while it is open, then a final row, and again when late events
// arrive. Each row that is above a threshold crosses the rule again, but
// the rule and its subject (the workcycle, the AWU, or the tenant window)
// make one alert: Evaluator.Rows and Evaluator.Windows return it the first
// time, with the value that crossed, and then remember its id. The
// Evaluator remembers the last guards.remember ids (default 65536), first
// in first out, per partition.
//
// # Ids and delivery
//
// An alert's id is a version 5 UUID of the rule's name and on and the
// subject's tenant, workcycle, AWU and window start (see AlertID): the same
// crossing always has the same id, on any machine, in any replay, whatever
// the order rows arrive in. Delivery is at least once: after a restart, a
// rebalance or a replay, or once its id has been forgotten, an alert is
// sent again with the same id. Consumers deduplicate by id; the Kafka
// record key is the id, so a compacted topic keeps one record per alert,
// and a ReplacingMergeTree keyed by id keeps one row.
//
// # Tenant windows
//
// tenant_hour and tenant_day rules need a tenant's costs summed over every
// workcycle of an hour or a day, across partitions. This package does not
// sum them: the caller queries them (from ClickHouse's rollups) and passes
// them to Evaluator.Windows as WindowSum values, which are checked here like
// rows. Config.HasWindowRules tells whether that query is needed at all.
//
// Files: config.go (Config, Rule, defaults, Validate), alert.go (Alert,
// AlertID, Key, Encode), evaluator.go (Evaluator, Rows, Windows, the
// remembered ids and the allocation-free decimal comparison).
package guard
