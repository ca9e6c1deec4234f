// Package service wires the stages of `awumeter run` into one runnable
// service: the price book, the ClickHouse writer and its bounded buffer, the
// events-ledger history, the Kafka source, and the HTTP endpoint with
// /metrics, /healthz, /readyz and optional pprof.
//
// Lifecycle: New validates and loads; Start connects (refusing an unmigrated
// or newer schema), binds the HTTP address and starts consuming; Done is
// closed when consumption stops by itself (a fatal error, see Err); Shutdown
// stops fetching, flushes, commits, leaves the group and closes everything,
// within its context's deadline. Call Shutdown exactly once after Start.
package service
