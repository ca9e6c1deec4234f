// Package metrics holds the Prometheus metrics of the service on a private
// registry, so that tests can build any number of services in one process
// and /metrics shows only what awumeter owns (plus the Go runtime and
// process collectors). docs/operations.md lists every series.
package metrics
