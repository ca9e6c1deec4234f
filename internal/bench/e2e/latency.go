package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// The latency phase: awumeter run, caught up and idle, while a paced
// producer writes live telemetry at a fixed rate; how long until an event's
// effect is visible in ClickHouse, and until a runaway workcycle's alert
// arrives. docs/BENCHMARKS.md, "Latency", has the definitions.

// latencyPoll is how often ClickHouse is asked which sampled events are
// visible.
const latencyPoll = 100 * time.Millisecond

// latencyResult is what one run of the phase measured.
type latencyResult struct {
	emitInterval time.Duration
	seconds      float64 // of production
	produced     int64   // records, all distinct events
	produceErrs  int64
	workcycles   int // started
	runaways     int // whose crossing attempt was produced
	visible      latencyStats
	unresolved   int // sampled events not visible by the end of the drain
	sampledWCs   int
	alert        latencyStats
	missing      int // runaways without an alert by the end
	otherAlerts  int // alerts of workcycles that are not runaways
	trailMax     int64
	trailEnd     int64   // at the end of production
	trailLast    int64   // at the end of the drain
	metricLag    float64 // awumeter_consumer_lag summed, at the end of the drain
	refreshes    float64 // rollup refreshes finished during the run
	refreshSecs  float64 // their total duration
	rows         map[string]float64
	provisional  float64
	readAtEnd    float64 // records awumeter had read at the end of production
	awumeterCPU  float64
	chCPU        float64 // -1: not measured
	pollMedian   time.Duration
	drain        time.Duration
	caughtUp     bool // every sample and alert resolved before the drain ended
}

// sampleEvent is a sampled event: the distinct events of its workcycle up
// to and including it, and when it was produced.
type sampleEvent struct {
	n        int
	produced time.Time
	seen     bool
}

// tracker holds the sampled workcycles and the runaways, written by the
// producer and read by the poller and the alerts consumer.
type tracker struct {
	mu       sync.Mutex
	pending  map[string][]sampleEvent // sampled workcycle id -> its events, in order
	visible  []time.Duration
	crossed  map[string]time.Time // runaway id -> produce time of its crossing attempt
	alerted  map[string]time.Time // workcycle id -> receipt of its first alert
	other    int
	sampled  int
	pollDurs []time.Duration
}

func newTracker() *tracker {
	return &tracker{pending: map[string][]sampleEvent{}, crossed: map[string]time.Time{}, alerted: map[string]time.Time{}}
}

func (t *tracker) produced(w *plan, i int, at time.Time) {
	if !w.sampled && i != w.cross {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if w.sampled {
		if i == 0 {
			t.sampled++
		}
		t.pending[w.id] = append(t.pending[w.id], sampleEvent{n: i + 1, produced: at})
	}
	if i == w.cross {
		t.crossed[w.id] = at
	}
}

// ids are the sampled workcycles with events not yet visible.
func (t *tracker) ids() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	ids := make([]string, 0, len(t.pending))
	for id := range t.pending {
		ids = append(ids, id)
	}
	return ids
}

// seen records that the poll answered at `at` found version v for id.
func (t *tracker) seen(id string, v int, at time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	evs := t.pending[id]
	k := 0
	for _, e := range evs {
		if e.n <= v {
			t.visible = append(t.visible, at.Sub(e.produced))
		} else {
			evs[k] = e
			k++
		}
	}
	if k == 0 {
		delete(t.pending, id)
	} else {
		t.pending[id] = evs[:k]
	}
}

func (t *tracker) unresolved() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for _, evs := range t.pending {
		n += len(evs)
	}
	return n
}

// alertsDone reports whether every crossed runaway has its alert.
func (t *tracker) alertsDone() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	for id := range t.crossed {
		if _, ok := t.alerted[id]; !ok {
			return false
		}
	}
	return true
}

// latencyPhase runs the phase once, with engine.emit_interval set to
// emit, producing for seconds at rate records/s.
func (b *bench) latencyPhase(ctx context.Context, emit time.Duration, rate float64, seconds time.Duration) (latencyResult, error) {
	r := latencyResult{emitInterval: emit, chCPU: -1}
	name := "latency_emit" + strings.ReplaceAll(emit.String(), ".", "_")
	topic := fmt.Sprintf("bench_e2e_%s_%s", b.stamp, name)
	alerts, dlq := topic+"_alerts", topic+"_dlq"
	db, group := topic, topic
	b.dbs = append(b.dbs, db)
	b.groups = append(b.groups, group)
	b.topics = append(b.topics, topic, alerts, dlq)
	defer b.dropDB(context.WithoutCancel(ctx), db)

	adm, closeAdm, err := b.admin()
	if err != nil {
		return r, err
	}
	defer closeAdm()
	for _, t := range []struct {
		name  string
		parts int32
	}{{topic, partitions}, {alerts, 1}, {dlq, 1}} {
		resp, err := adm.CreateTopic(ctx, t.parts, 1, nil, t.name)
		if err == nil {
			err = resp.Err
		}
		if err != nil {
			return r, fmt.Errorf("cannot create topic %s: %w", t.name, err)
		}
	}
	if out, err := exec.CommandContext(ctx, b.o.awumeter, "migrate", "--clickhouse", b.o.clickhouse, "--database", db).CombinedOutput(); err != nil {
		return r, fmt.Errorf("%s migrate: %w\n%s", b.o.awumeter, err, out)
	}
	addr, err := freeAddr()
	if err != nil {
		return r, err
	}
	cfg, logPath, logf, err := b.runFiles(name, latencyConfig(b.o.kafka, group, topic, dlq, alerts, b.o.clickhouse, db, addr, emit, b.o.latencyGuard))
	if err != nil {
		return r, err
	}
	defer logf.Close()
	c, err := startChild(b.o.awumeter, []string{"run", "--config", cfg}, logf)
	if err != nil {
		return r, err
	}
	defer c.stop()
	b.logf("%s run (pid %d), engine.emit_interval %s, topic %s, alerts %s, metrics on http://%s/metrics, log %s",
		b.o.awumeter, c.cmd.Process.Pid, emit, topic, alerts, addr, logPath)
	if err := waitAssigned(ctx, c, addr, logPath); err != nil {
		return r, err
	}
	time.Sleep(2 * time.Second) // idle, with the group settled
	m0, err := scrape(ctx, "http://"+addr+"/metrics")
	if err != nil {
		return r, fmt.Errorf("metrics: %w", err)
	}
	cpu0, _ := procCPU(c.cmd.Process.Pid)
	ch0, chErr := procCPU(b.chPid)

	tr := newTracker()
	var wg sync.WaitGroup
	defer wg.Wait()
	bg, stopBG := context.WithCancel(ctx)
	defer stopBG() // before wg.Wait

	// The alerts consumer.
	acl, err := kgo.NewClient(kgo.SeedBrokers(b.o.kafka), kgo.ConsumeTopics(alerts),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(50*time.Millisecond))
	if err != nil {
		return r, err
	}
	defer acl.Close()
	wg.Go(func() {
		for bg.Err() == nil {
			fs := acl.PollFetches(bg)
			if fs.IsClientClosed() {
				return
			}
			now := time.Now()
			fs.EachRecord(func(rec *kgo.Record) {
				var a struct {
					Rule        string `json:"rule"`
					WorkcycleID string `json:"workcycle_id"`
				}
				if json.Unmarshal(rec.Value, &a) != nil {
					return
				}
				tr.mu.Lock()
				if _, ok := tr.crossed[a.WorkcycleID]; ok && a.Rule == runawayRule {
					if _, dup := tr.alerted[a.WorkcycleID]; !dup {
						tr.alerted[a.WorkcycleID] = now
					}
				} else {
					tr.other++
				}
				tr.mu.Unlock()
			})
		}
	})

	// The poller: every latencyPoll, one query for the pending samples.
	wg.Go(func() { every(bg, latencyPoll, func() { b.pollVisible(bg, db, tr) }) })

	// The trail of the committed offsets, every second.
	var trailMax, trailLast atomic.Int64
	trail := func() {
		if n, err := b.trail(bg, adm, group, topic); err == nil {
			trailLast.Store(n)
			if n > trailMax.Load() {
				trailMax.Store(n)
			}
		}
	}
	var producing atomic.Bool
	producing.Store(true)
	wg.Go(func() {
		every(bg, time.Second, func() {
			if producing.Load() {
				trail()
			} else if n, err := b.trail(bg, adm, group, topic); err == nil {
				trailLast.Store(n)
			}
		})
	})

	// The producer.
	pcl, err := kgo.NewClient(kgo.SeedBrokers(b.o.kafka), kgo.DefaultProduceTopic(topic),
		kgo.ProducerLinger(0), kgo.RecordRetries(10))
	if err != nil {
		return r, err
	}
	defer pcl.Close()
	var errs atomic.Int64
	var firstErr atomic.Value
	done := func(_ *kgo.Record, err error) {
		if err != nil {
			errs.Add(1)
			firstErr.CompareAndSwap(nil, err)
		}
	}
	start := time.Now()
	ld := newLoad(newPlanner(uint64(b.o.seed), "lat"+strconv.FormatInt(start.Unix()%100000, 10), b.o.latencySample), rate, start, runawayGap(b.o.latencyGuard))
	warm := ld.warm()
	b.logf("started in steady state: %d workcycles begun in the minute before, with their remaining events", warm)
	st := b.status()
	var due []loadTick
	tick := time.NewTicker(5 * time.Millisecond)
	lastShow := start
	for now := start; now.Sub(start) < seconds; now = time.Now() {
		due = ld.tick(now, due[:0])
		for _, d := range due {
			at := time.Now()
			tr.produced(d.w, d.i, at)
			pcl.Produce(ctx, &kgo.Record{Key: []byte(d.w.id), Value: appendEvent(nil, d.w, d.i, at)}, done)
		}
		if now.Sub(lastShow) >= time.Second {
			lastShow = now
			m, _ := scrape(ctx, "http://"+addr+"/metrics")
			st.Show("%s: produced %d records (%.0f/s), awumeter read %.0f, %d sampled events pending, trail %d",
				now.Sub(start).Round(time.Second), ld.pace.produced, float64(ld.pace.produced)/now.Sub(start).Seconds(),
				m["awumeter_records_total"]-m0["awumeter_records_total"], tr.unresolved(), trailLast.Load())
		}
		select {
		case <-ctx.Done():
			tick.Stop()
			st.Done()
			return r, ctx.Err()
		case <-c.done:
			tick.Stop()
			st.Done()
			return r, fmt.Errorf("%s exited during the latency phase (%w); the end of %s:\n%s", c.cmd.Path, c.err, logPath, tail(logPath, 20))
		case <-tick.C:
		}
	}
	tick.Stop()
	if err := pcl.Flush(ctx); err != nil {
		return r, err
	}
	end := time.Now()
	r.seconds = end.Sub(start).Seconds()
	r.produced = ld.pace.produced
	r.workcycles = ld.started
	producing.Store(false)
	trail()
	r.trailEnd = trailLast.Load()
	if mEnd, err := scrape(ctx, "http://"+addr+"/metrics"); err == nil {
		r.readAtEnd = mEnd["awumeter_records_total"] - m0["awumeter_records_total"]
	}
	st.Done()
	b.logf("produced %d records in %.1f s (%.0f/s, %d produce errors), %d workcycles; awumeter had read %.0f; trail %d records",
		r.produced, r.seconds, float64(r.produced)/r.seconds, errs.Load(), r.workcycles, r.readAtEnd, r.trailEnd)
	if e := firstErr.Load(); e != nil {
		b.logf("warning: first produce error: %v", e)
	}
	r.produceErrs = errs.Load()

	// The drain: wait for the samples and alerts still pending.
	drainEnd := end.Add(b.o.latencyDrain)
	for time.Now().Before(drainEnd) {
		if tr.unresolved() == 0 && tr.alertsDone() {
			r.caughtUp = true
			break
		}
		select {
		case <-ctx.Done():
			return r, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	r.drain = time.Since(end)
	stopBG()
	wg.Wait()
	r.trailMax, r.trailLast = trailMax.Load(), trailLast.Load()

	m1, err := scrape(ctx, "http://"+addr+"/metrics")
	if err != nil {
		return r, fmt.Errorf("metrics: %w", err)
	}
	if text, err := scrapeText(ctx, "http://"+addr+"/metrics"); err == nil {
		_ = os.WriteFile(filepath.Join(b.dir, name+".metrics"), []byte(text), 0o644)
	}
	r.metricLag = m1["awumeter_consumer_lag"]
	r.refreshes = m1[`awumeter_flush_duration_seconds_count{table="rollups"}`] - m0[`awumeter_flush_duration_seconds_count{table="rollups"}`]
	r.refreshSecs = m1[`awumeter_flush_duration_seconds_sum{table="rollups"}`] - m0[`awumeter_flush_duration_seconds_sum{table="rollups"}`]
	if cpu1, err := procCPU(c.cmd.Process.Pid); err == nil {
		r.awumeterCPU = cpu1 - cpu0
	}
	if ch1, err := procCPU(b.chPid); err == nil && chErr == nil && b.chPid != 0 {
		r.chCPU = ch1 - ch0
	}
	r.rows = map[string]float64{}
	rows0, rows1 := seriesBy(m0, "awumeter_flushed_rows_total", "table"), seriesBy(m1, "awumeter_flushed_rows_total", "table")
	for t, v := range rows1 {
		r.rows[t] = v - rows0[t]
	}
	r.provisional = m1["awumeter_provisional_rows_total"] - m0["awumeter_provisional_rows_total"]

	tr.mu.Lock()
	r.visible = summarize(tr.visible)
	r.sampledWCs = tr.sampled
	var al []time.Duration
	for id, at := range tr.crossed {
		if got, ok := tr.alerted[id]; ok {
			al = append(al, got.Sub(at))
		} else {
			r.missing++
		}
	}
	r.runaways = len(tr.crossed)
	r.otherAlerts = tr.other
	pd := summarize(tr.pollDurs)
	tr.mu.Unlock()
	r.alert = summarize(al)
	r.unresolved = tr.unresolved()
	r.pollMedian = pd.p50
	b.logf("visible: %s (%d sampled events of %d workcycles not visible after a drain of %s); alert: %s (%d of %d runaways without one, %d other alerts)",
		r.visible, r.unresolved, r.sampledWCs, r.drain.Round(100*time.Millisecond), r.alert, r.missing, r.runaways, r.otherAlerts)
	b.logf("rows written per distinct event: %s; trail max %d, at the end of production %d, at the end %d; poll median %s",
		amplification(r.rows, r.produced), r.trailMax, r.trailEnd, r.trailLast, r.pollMedian.Round(time.Millisecond))
	if err := c.stop(); err != nil {
		b.logf("warning: %s run did not stop cleanly: %v; see %s", b.o.awumeter, err, logPath)
	}
	return r, nil
}

func (s latencyStats) String() string {
	if s.n == 0 {
		return "no samples"
	}
	return fmt.Sprintf("p50 %s, p99 %s, max %s of %d", secs(s.p50), secs(s.p99), secs(s.max), s.n)
}

// secs renders a duration in seconds with two decimals.
func secs(d time.Duration) string { return fmt.Sprintf("%.2f s", d.Seconds()) }

// amplification renders rows per distinct event by table.
func amplification(rows map[string]float64, events int64) string {
	var parts []string
	for _, t := range []string{"events", "workcycles", "awus", "awu_models"} {
		parts = append(parts, fmt.Sprintf("%s %.3f", t, rows[t]/float64(max(events, 1))))
	}
	return strings.Join(parts, ", ")
}

// pollVisible asks ClickHouse for the versions of the pending sampled
// workcycles and records the events now visible, timed at the answer.
func (b *bench) pollVisible(ctx context.Context, db string, tr *tracker) {
	ids := tr.ids()
	if len(ids) == 0 {
		return
	}
	var q strings.Builder
	fmt.Fprintf(&q, "SELECT workcycle_id, max(version) FROM %s.workcycles WHERE workcycle_id IN (", db)
	for i, id := range ids {
		if i > 0 {
			q.WriteByte(',')
		}
		q.WriteString(quote(id))
	}
	q.WriteString(") GROUP BY workcycle_id FORMAT TabSeparated")
	sent := time.Now()
	out, err := b.ch.query(ctx, q.String())
	at := time.Now()
	if err != nil {
		if ctx.Err() == nil {
			b.logf("warning: poll: %v", err)
		}
		return
	}
	tr.mu.Lock()
	tr.pollDurs = append(tr.pollDurs, at.Sub(sent))
	tr.mu.Unlock()
	for line := range strings.Lines(out) {
		id, v, ok := strings.Cut(strings.TrimSpace(line), "\t")
		if !ok {
			continue
		}
		if n, err := strconv.Atoi(v); err == nil {
			tr.seen(id, n, at)
		}
	}
}

// trail is the records between the group's committed offsets and the end
// offsets of topic, summed over its partitions; a partition without a
// commit counts from its start (the topic is fresh).
func (b *bench) trail(ctx context.Context, adm *kadm.Client, group, topic string) (int64, error) {
	ends, err := adm.ListEndOffsets(ctx, topic)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		return 0, err
	}
	committed, err := adm.FetchOffsets(ctx, group)
	if err != nil {
		return 0, err
	}
	var n int64
	ends.Each(func(o kadm.ListedOffset) {
		at := int64(0)
		if c, ok := committed.Lookup(topic, o.Partition); ok && c.Err == nil && c.At >= 0 {
			at = c.At
		}
		n += max(o.Offset-at, 0)
	})
	return n, nil
}

// runawayGap is the time between runaway workcycles: none without guards.
func runawayGap(guards bool) time.Duration {
	if guards {
		return 2 * time.Second
	}
	return 0
}

// waitAssigned waits until awumeter owns every partition of the topic.
func waitAssigned(ctx context.Context, c *child, addr, logPath string) error {
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-c.done:
			return fmt.Errorf("%s exited before it joined its group (%w); the end of %s:\n%s", c.cmd.Path, c.err, logPath, tail(logPath, 20))
		case <-time.After(250 * time.Millisecond):
		}
		if m, err := scrape(ctx, "http://"+addr+"/metrics"); err == nil && m["awumeter_assigned_partitions"] >= partitions {
			return nil
		}
	}
	return errors.New("awumeter was not assigned the latency topic's partitions within 2 minutes; see " + logPath)
}

// latencyConfig is the latency phase's configuration: the example's
// defaults but for the names and addresses, engine.emit_interval, and the
// runaway guard.
func latencyConfig(kafka, group, topic, dlq, alerts, clickhouse, db, httpAddr string, emit time.Duration, guards bool) string {
	guard := ""
	if guards {
		guard = fmt.Sprintf(`guards:
  topic: %s
  format: json
  rules:
    - name: %s
      on: workcycle
      metric: attempts
      above: %d
`, alerts, runawayRule, runawayAbove)
	}
	return fmt.Sprintf(`# written by make bench-e2e (latency phase)
kafka:
  brokers: [%s]
  group: %s
  client_id: awumeter-bench-e2e
  topics:
    - name: %s
      format: json
  auto_offset_reset: earliest
  dead_letter_topic: %s
clickhouse:
  addrs: [%s]
  database: %s
engine:
  emit_interval: %s
%shttp:
  listen: %s
log:
  level: info
  format: json
`, kafka, group, topic, dlq, clickhouse, db, emit, guard, httpAddr)
}

// every calls f every d until ctx ends.
func every(ctx context.Context, d time.Duration, f func()) {
	tick := time.NewTicker(d)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		f()
	}
}
