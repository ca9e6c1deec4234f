package metrics

import (
	"math"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/awumeter/awumeter/pipeline/decode"
)

const namespace = "awumeter"

// Metrics are the service's series. Build them with New; every method is
// safe for concurrent use.
type Metrics struct {
	reg *prometheus.Registry

	Records        *prometheus.CounterVec // topic
	Events         *prometheus.CounterVec // format, type
	Outcomes       *prometheus.CounterVec // outcome
	IgnoredSpans   *prometheus.CounterVec // kind
	DeadLetters    *prometheus.CounterVec // reason
	DeadLetterErrs prometheus.Counter
	// DeadLetterBytes is the size (key, value and headers, in bytes) of the
	// dead letters produced but not yet acknowledged.
	DeadLetterBytes prometheus.Gauge
	UnpricedTokens  prometheus.Counter

	OpenWorkcycles *prometheus.GaugeVec // topic, partition
	HeldWorkcycles *prometheus.GaugeVec // topic, partition
	// StateBytes is each engine's estimate of its held state in bytes,
	// kept within engine.max_state_bytes.
	StateBytes *prometheus.GaugeVec // topic, partition
	// WorkcycleKeys is the size of each partition's set of stored
	// workcycles (8 bytes each in memory).
	WorkcycleKeys *prometheus.GaugeVec // topic, partition
	// BudgetEvictions and EmittedEarly count workcycles evicted to keep an
	// engine within engine.max_state_bytes, and the open ones among them
	// emitted before a closing rule held.
	BudgetEvictions prometheus.Counter
	EmittedEarly    prometheus.Counter
	RowsEmitted     *prometheus.CounterVec
	// ProvisionalRows counts the open workcycle rows emitted every
	// engine.emit_interval; RestoredWorkcycles the open workcycles a new
	// owner of a partition rebuilt from its state rows.
	ProvisionalRows    prometheus.Counter
	RestoredWorkcycles prometheus.Counter
	// Alerts counts alerts raised by guards, by rule, once their record
	// is acknowledged by the alerts topic (or written to the alerts table
	// when no topic is set); AlertErrors failed produce attempts, each
	// retried.
	Alerts      *prometheus.CounterVec // rule
	AlertErrors prometheus.Counter
	// WorkcycleLookups counts the workcycles met that the engine did not
	// hold, by how the source learned their stored events: "local" (the
	// partition's key set says there are none) or "ledger" (a read).
	WorkcycleLookups *prometheus.CounterVec // via
	// SplitWorkcycles counts workcycles met on a second partition (of the
	// same topic or another) among those one instance owns: a topic wrongly
	// declared keyed by workcycle, or a workcycle spread over topics.
	SplitWorkcycles *prometheus.CounterVec // topic

	// RekeyedEvents counts events the re-key stage produced to the
	// repartition topic in committed transactions; RekeyTransactions its
	// transactions by result (committed, aborted).
	RekeyedEvents     prometheus.Counter
	RekeyTransactions *prometheus.CounterVec // result
	// RekeyLag is, per input partition the re-key stage owns, the records
	// between its last committed transaction and the high watermark.
	RekeyLag *prometheus.GaugeVec // topic, partition

	FlushDuration *prometheus.HistogramVec // table
	FlushErrors   *prometheus.CounterVec   // table
	FlushedRows   *prometheus.CounterVec   // table
	FetchPaused   prometheus.Gauge

	CommittedOffset *prometheus.GaugeVec // topic, partition
	Lag             *prometheus.GaugeVec // topic, partition
	Commits         prometheus.Counter
	CommitErrors    prometheus.Counter

	Rebalances         *prometheus.CounterVec // kind
	AssignedPartitions prometheus.Gauge
	Ready              prometheus.Gauge
}

// New registers every series on a new private registry.
func New(version string) *Metrics {
	reg := prometheus.NewRegistry()
	f := factory{reg}
	m := &Metrics{
		reg: reg,

		Records: f.counterVec("records_total",
			"Kafka records read, by topic.", "topic"),
		Events: f.counterVec("events_total",
			"Events decoded from records, by wire format and event type.", "format", "type"),
		Outcomes: f.counterVec("event_outcomes_total",
			"What the work-unit engine did with each event: accepted, reopened, duplicate, conflict, invalid or overflow.", "outcome"),
		IgnoredSpans: f.counterVec("ignored_spans_total",
			"OTLP spans deliberately not metered, by kind (not_genai, invoke_agent, other_operation, failed_model_call).", "kind"),
		DeadLetters: f.counterVec("dead_letters_total",
			"Records written to the dead-letter topic (or dropped when none is configured), by reason.", "reason"),
		DeadLetterErrs: f.counter("dead_letter_errors_total",
			"Failed attempts to produce a dead letter; each is retried."),
		DeadLetterBytes: f.gauge("dead_letter_buffered_bytes",
			"Bytes of dead letters produced but not yet acknowledged; polling waits while they reach kafka.dead_letter_max_buffered_bytes."),
		UnpricedTokens: f.tokenCounter("unpriced_tokens_total",
			"Tokens of accepted token_usage events whose model has no price in the price book."),

		OpenWorkcycles: f.gaugeVec("open_workcycles",
			"Workcycles with changes not yet emitted, per assigned partition; open workcycles whose provisional rows are current are not counted (held_workcycles counts them).", "topic", "partition"),
		HeldWorkcycles: f.gaugeVec("held_workcycles",
			"Workcycles held in memory (open or retained after emission), per assigned partition.", "topic", "partition"),
		StateBytes: f.gaugeVec("engine_state_bytes",
			"Estimated bytes of the engine's held state per assigned partition; kept within engine.max_state_bytes.", "topic", "partition"),
		WorkcycleKeys: f.gaugeVec("workcycle_keys",
			"Workcycles each assigned partition has stored, held in memory as 8-byte hashes so that new workcycles need no ledger read.", "topic", "partition"),
		BudgetEvictions: f.counter("engine_budget_evictions_total",
			"Workcycles evicted before their retention ended to keep an engine within engine.max_state_bytes; their next event rebuilds them from the ledger."),
		EmittedEarly: f.counter("engine_emitted_early_total",
			"Open workcycles closed early (their rows written with state closed) and evicted to keep an engine within engine.max_state_bytes."),
		WorkcycleLookups: f.counterVec("workcycle_lookups_total",
			"Workcycles met that the engine did not hold, by how their stored events were found: local (the partition's workcycle keys say there are none) or ledger (read from the events ledger).", "via"),
		SplitWorkcycles: f.counterVec("split_workcycles_total",
			"Workcycles met on a partition of this topic after another partition (of any topic read by the engines, among those this instance owns) stored them: a topic wrongly declared keyed_by_workcycle, or a workcycle spread over topics; its rows may be incomplete.", "topic"),
		RekeyedEvents: f.counter("rekeyed_events_total",
			"Events the re-key stage produced to the repartition topic in committed transactions."),
		RekeyTransactions: f.counterVec("rekey_transactions_total",
			"Transactions of the re-key stage by result: committed, or aborted (a rebalance or a failed produce; the records are read again).", "result"),
		RekeyLag: f.gaugeVec("rekey_lag",
			"Records of each input partition the re-key stage owns between its last committed transaction and the partition's high watermark, as last fetched.", "topic", "partition"),
		RowsEmitted: f.counterVec("rows_emitted_total",
			"Rows the engine emitted, by table (workcycles, awus, awu_models, events).", "table"),
		ProvisionalRows: f.counter("provisional_rows_total",
			"Workcycle rows emitted with state open, every engine.emit_interval while a workcycle that changed is still open."),
		RestoredWorkcycles: f.counter("restored_workcycles_total",
			"Open workcycles rebuilt from their state rows by a new owner of their partition."),
		Alerts: f.counterVec("alerts_total",
			"Alerts raised by guards, by rule: acknowledged by the alerts topic, or written to the alerts table when guards.topic is empty. A replay may raise an alert again, with the same id.", "rule"),
		AlertErrors: f.counter("alert_errors_total",
			"Failed attempts to produce an alert; each is retried."),

		FlushDuration: f.histogramVec("flush_duration_seconds",
			"Time to insert one batch into ClickHouse, retries excluded, by table.", "table"),
		FlushErrors: f.counterVec("flush_errors_total",
			"Failed ClickHouse inserts, by table; each is retried.", "table"),
		FlushedRows: f.counterVec("flushed_rows_total",
			"Rows ClickHouse acknowledged, by table.", "table"),
		FetchPaused: f.gauge("fetch_paused",
			"1 while fetching is paused because the sink queue is full, else 0."),

		CommittedOffset: f.gaugeVec("committed_offset",
			"Last offset committed to the consumer group, per partition.", "topic", "partition"),
		Lag: f.gaugeVec("consumer_lag",
			"Records between the committed offset and the partition's high watermark.", "topic", "partition"),
		Commits: f.counter("commits_total",
			"Successful offset commits."),
		CommitErrors: f.counter("commit_errors_total",
			"Failed offset commits; the next commit covers them."),

		Rebalances: f.counterVec("rebalances_total",
			"Consumer group rebalance callbacks, by kind (assigned, revoked, lost).", "kind"),
		AssignedPartitions: f.gauge("assigned_partitions",
			"Partitions currently assigned to this instance."),
		Ready: f.gauge("ready",
			"1 while /readyz reports ready, else 0."),
	}
	info := f.gaugeVec("build_info", "Always 1; the version label is the running build.", "version")
	info.WithLabelValues(version).Set(1)
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Registry is the private registry, for tests and extra collectors.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the registry in the Prometheus exposition format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// ObserveFlush records one insert attempt into table.
func (m *Metrics) ObserveFlush(table string, rows int, d time.Duration, err error) {
	if err != nil {
		m.FlushErrors.WithLabelValues(table).Inc()
		return
	}
	m.FlushDuration.WithLabelValues(table).Observe(d.Seconds())
	AddCounts(m.FlushedRows.WithLabelValues(table), int64(rows))
}

// AddCounts adds counts (records, rows, tokens) to a counter. Each count
// is converted to float64 on its own, so a sum that would wrap int64 (two
// token counts of 2^63-1) is added exactly as large as it is; a count below
// zero, which no valid data has, adds nothing rather than making the
// Prometheus client panic. Every Add of a count to a counter goes through
// here.
func AddCounts(c prometheus.Counter, counts ...int64) {
	for _, n := range counts {
		if n > 0 {
			c.Add(float64(n))
		}
	}
}

// SetPartition records the committed offset and lag of one partition.
func (m *Metrics) SetPartition(topic string, partition int32, committed, lag int64) {
	p := strconv.Itoa(int(partition))
	m.CommittedOffset.WithLabelValues(topic, p).Set(float64(committed))
	m.Lag.WithLabelValues(topic, p).Set(float64(max(lag, 0)))
}

// SetWorkcycles records the engine gauges of one partition: open and held
// workcycles, and the held state's estimated size in bytes.
func (m *Metrics) SetWorkcycles(topic string, partition int32, open, held int, stateBytes int64) {
	p := strconv.Itoa(int(partition))
	m.OpenWorkcycles.WithLabelValues(topic, p).Set(float64(open))
	m.HeldWorkcycles.WithLabelValues(topic, p).Set(float64(held))
	m.StateBytes.WithLabelValues(topic, p).Set(float64(stateBytes))
}

// ForgetPartition removes the per-partition series of a partition this
// instance no longer owns, so that sums over instances stay right.
func (m *Metrics) ForgetPartition(topic string, partition int32) {
	l := prometheus.Labels{"topic": topic, "partition": strconv.Itoa(int(partition))}
	m.CommittedOffset.Delete(l)
	m.Lag.Delete(l)
	m.OpenWorkcycles.Delete(l)
	m.HeldWorkcycles.Delete(l)
	m.StateBytes.Delete(l)
	m.WorkcycleKeys.Delete(l)
}

// AddIgnoredSpans counts OTLP spans the decoders deliberately skipped, by kind.
func (m *Metrics) AddIgnoredSpans(ig decode.Ignored) {
	add := func(kind string, n int) {
		if n > 0 {
			m.IgnoredSpans.WithLabelValues(kind).Add(float64(n))
		}
	}
	add("not_genai", ig.NotGenAI)
	add("invoke_agent", ig.InvokeAgent)
	add("other_operation", ig.OtherOperation)
	add("failed_model_call", ig.FailedModelCall)
}

// SetWorkcycleKeys sets the size of a partition's stored-workcycle set.
func (m *Metrics) SetWorkcycleKeys(topic string, partition int32, keys int) {
	m.WorkcycleKeys.WithLabelValues(topic, strconv.Itoa(int(partition))).Set(float64(keys))
}

type factory struct{ reg *prometheus.Registry }

func (f factory) counter(name, help string) prometheus.Counter {
	c := prometheus.NewCounter(prometheus.CounterOpts{Namespace: namespace, Name: name, Help: help})
	f.reg.MustRegister(c)
	return c
}

// tokenCounter is a counter for amounts that data controls, such as
// token counts: see floatCounter.
func (f factory) tokenCounter(name, help string) prometheus.Counter {
	c := &floatCounter{}
	c.CounterFunc = prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: namespace, Name: name, Help: help}, c.value)
	f.reg.MustRegister(c)
	return c
}

// floatCounter is a counter kept in one float64. The client library keeps
// whole-number additions in a uint64 that wraps past 2^64 (two token counts
// of 2^63-1 read 0), so counters that data can drive that far accumulate
// here instead: the value only grows, loses precision past 2^53 and at
// worst saturates at +Inf, never wraps and never panics.
type floatCounter struct {
	prometheus.CounterFunc
	bits atomic.Uint64
}

// Inc adds 1.
func (c *floatCounter) Inc() { c.Add(1) }

// Add adds v; a v that is not above zero (or is NaN) adds nothing.
func (c *floatCounter) Add(v float64) {
	if !(v > 0) {
		return
	}
	for {
		old := c.bits.Load()
		if c.bits.CompareAndSwap(old, math.Float64bits(math.Float64frombits(old)+v)) {
			return
		}
	}
}

func (c *floatCounter) value() float64 { return math.Float64frombits(c.bits.Load()) }

func (f factory) counterVec(name, help string, labels ...string) *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: name, Help: help}, labels)
	f.reg.MustRegister(c)
	return c
}

func (f factory) gauge(name, help string) prometheus.Gauge {
	g := prometheus.NewGauge(prometheus.GaugeOpts{Namespace: namespace, Name: name, Help: help})
	f.reg.MustRegister(g)
	return g
}

func (f factory) gaugeVec(name, help string, labels ...string) *prometheus.GaugeVec {
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: namespace, Name: name, Help: help}, labels)
	f.reg.MustRegister(g)
	return g
}

func (f factory) histogramVec(name, help string, labels ...string) *prometheus.HistogramVec {
	h := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: namespace, Name: name, Help: help,
		Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
	}, labels)
	f.reg.MustRegister(h)
	return h
}
