# awumeter: the two commands a newcomer needs are `make demo` and `make test`.
SHELL := /bin/bash
GO ?= go
STACK := deploy/local/stack.sh
GOTEST_FLAGS ?= -count=1 -timeout 15m

.PHONY: all build vet test test-unit test-cluster test-collector bench bench-e2e bench-rollups fuzz up down status demo clean collector

all: build

build:
	$(GO) build -o bin/awumeter ./cmd/awumeter

vet:
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1; }

## test: every test, against a real Kafka and ClickHouse that it starts if needed,
## chDB (a current ClickHouse engine) for the modern schema branch, and Debian's
## Chromium for the report. Test outputs (the report's pages and screenshots)
## are kept in test-output/.
test: vet
	deploy/local/install-chdb.sh
	deploy/local/install-chromium.sh
	AWUMETER_REQUIRE_STACK=1 AWUMETER_REQUIRE_CHROMIUM=1 AWUMETER_TEST_OUTPUT=$(CURDIR)/test-output \
	  $(STACK) run $(GO) test $(GOTEST_FLAGS) ./...

## test-unit: tests that need no servers (integration tests skip).
test-unit:
	$(GO) test $(GOTEST_FLAGS) -short ./...

## test-cluster: the ClickHouse cluster variant on a local two-node cluster with ZooKeeper.
test-cluster:
	deploy/local/cluster.sh run $(GO) test $(GOTEST_FLAGS) -tags cluster -run Cluster ./...

## bench: hot-path benchmarks (ns/event, allocs/event); numbers, not pass/fail.
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./pipeline/...

## bench-e2e: end-to-end speed on the local stack (gen -> Kafka -> awumeter run ->
## ClickHouse), against an empty and a pre-filled events ledger, then the
## latency phase: live telemetry at half the empty-ledger rate, p50/p99 from
## produce to visible in ClickHouse and to a guard alert, rows per event and
## the committed offsets' trail, for engine.emit_interval 5s, 1s and 0 (about
## 6 more minutes); numbers, not pass/fail; the tables go to docs/BENCHMARKS.md.
## Knobs: WORKCYCLES (90000, about 900k records), LEDGER_EVENTS (10000000),
## BASELINE=/path/to/awumeter to compare another binary in the same run,
## BENCH_E2E_FLAGS (e.g. -docs= to only print, -keep, -ledger-timeout 1h,
## -latency=false, -latency-only -latency-rate 18480; go run ./internal/bench/e2e -h).
WORKCYCLES ?= 90000
LEDGER_EVENTS ?= 10000000
BASELINE ?=
bench-e2e: build
	$(STACK) run $(GO) run ./internal/bench/e2e -awumeter bin/awumeter -workcycles $(WORKCYCLES) \
	  -ledger-events $(LEDGER_EVENTS) $(if $(BASELINE),-baseline $(BASELINE)) $(BENCH_E2E_FLAGS)

## bench-rollups: rollup query latency on the local ClickHouse, before (0008's
## views over FINAL) and after (0009's rollup tables), at each size of AWUS
## (comma-separated AWU rows; default 10000000, about 12 minutes; 100M takes
## well over an hour on the 2-core machine, see docs/BENCHMARKS.md), with
## 0009's backfill time and one incremental refresh; numbers, not pass/fail;
## the table goes to docs/BENCHMARKS.md. BENCH_ROLLUPS_FLAGS: e.g. -docs= to
## only print, -keep, -runs 5 (go run ./internal/bench/rollups -h).
AWUS ?= 10000000
bench-rollups:
	AWUMETER_STACK_SERVICES=clickhouse $(STACK) run $(GO) run ./internal/bench/rollups -awus $(AWUS) $(BENCH_ROLLUPS_FLAGS)

## fuzz: every fuzz target for FUZZTIME each (default 30s); findings land in testdata/fuzz.
FUZZTIME ?= 30s
fuzz:
	@set -e; for spec in $$(grep -rl --include='*_test.go' '^func Fuzz' pipeline cmd internal | sort); do \
	  dir=./$$(dirname $$spec); \
	  for name in $$(grep -o '^func Fuzz[A-Za-z0-9_]*' $$spec | cut -d' ' -f2); do \
	    echo "== $$dir $$name"; $(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) $$dir; \
	  done; \
	done

up:
	$(STACK) up

down:
	$(STACK) down

status:
	$(STACK) status

demo: build
	deploy/demo.sh

## collector: build the local OpenTelemetry Collector (OTLP receiver, batch,
## Kafka exporter) into .local/otelcol; a no-op when it is up to date. Tests
## that use testenv.Collector need it; run it with deploy/local/otelcol.sh start.
collector:
	deploy/local/otelcol.sh install

## test-collector: interop with a real OpenTelemetry Collector: spans sent with
## the Go SDK pass through it and Kafka to awumeter and ClickHouse. Builds the
## Collector first (about 5 minutes the first time). .ci/run runs it after test.
test-collector: collector
	AWUMETER_REQUIRE_STACK=1 AWUMETER_REQUIRE_COLLECTOR=1 $(STACK) run \
	  $(GO) test $(GOTEST_FLAGS) -run Collector ./internal/testenv/ ./internal/service/

clean:
	rm -rf bin test-output
