package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// runSpec is one measurement of awumeter run.
type runSpec struct {
	label  string // awumeter or baseline
	bin    string
	ledger bool // against a pre-filled ledger
	// rekeyed declares the topic not keyed by workcycle, so that every
	// record passes through the re-key stage first.
	rekeyed bool
}

func (s runSpec) name(ledgerEvents int64) string {
	n := s.label + ", " + ledgerName(s.ledger, ledgerEvents)
	if s.rekeyed {
		n += ", re-keyed"
	}
	return n
}

func ledgerName(ledger bool, events int64) string {
	if ledger {
		return short(events) + "-event ledger"
	}
	return "empty ledger"
}

// result is what one run measured.
type result struct {
	spec        runSpec
	version     string
	seconds     float64 // from starting the process to caught up
	awumeterCPU float64 // seconds, user + system, up to caught up
	chCPU       float64 // seconds, user + system, of the ClickHouse server over the same interval; -1: not measured
	kafkaCPU    float64 // the same for the Kafka broker; -1: not measured
	peakRSS     int64   // bytes, VmHWM at caught up
	inserts     map[string]float64
	lookups     map[string]float64 // awumeter_workcycle_lookups_total by via, when the binary has it
	prefill     time.Duration
	keys        int64              // pre-filled workcycle_keys rows
	rekeyTxns   float64            // committed re-key transactions
	emitted     map[string]float64 // awumeter_rows_emitted_total by table
}

// measure runs one awumeter until it has caught up. Caught up means: the
// records metric has reached N and the events ledger holds every distinct
// valid event of the topic (counted without the pre-filled ones, which are
// older than the generated data).
func (b *bench) measure(ctx context.Context, s runSpec) (result, error) {
	r := result{spec: s, version: binaryVersion(s.bin), chCPU: -1, kafkaCPU: -1}
	kind := "empty"
	if s.ledger {
		kind = "ledger"
	}
	if s.rekeyed {
		kind += "_rekeyed"
	}
	name := s.label + "_" + kind
	db := fmt.Sprintf("bench_e2e_%s_%s", b.stamp, name)
	group := fmt.Sprintf("bench_e2e_%s_%s", b.stamp, name)
	b.dbs = append(b.dbs, db)
	b.groups = append(b.groups, group)
	if s.rekeyed {
		// The re-key stage's group and repartition topic (pipeline/source
		// names them from the group).
		b.groups = append(b.groups, group+"-rekey")
		b.topics = append(b.topics, group+"-rekey-repartition")
	}
	defer b.dropDB(context.WithoutCancel(ctx), db)

	out, err := exec.CommandContext(ctx, s.bin, "migrate", "--clickhouse", b.o.clickhouse, "--database", db).CombinedOutput()
	if err != nil {
		return r, fmt.Errorf("%s migrate: %w\n%s", s.bin, err, out)
	}
	b.logf("migrated database %s with %s", db, s.bin)
	if s.ledger {
		start := time.Now()
		if r.keys, err = b.prefill(ctx, db); err != nil {
			return r, err
		}
		r.prefill = time.Since(start)
		keys := "no workcycle_keys table"
		if r.keys > 0 {
			keys = fmt.Sprintf("%d workcycle_keys rows", r.keys)
		}
		b.logf("pre-filled %d events of %d workcycles (%s) in %s; not part of the timing",
			b.o.ledgerEvents, b.o.ledgerEvents/eventsPerWorkcycle, keys, r.prefill.Round(time.Second))
	}

	addr, err := freeAddr()
	if err != nil {
		return r, err
	}
	cfg, logPath, logf, err := b.runFiles(name, b.config(group, db, addr, s.rekeyed))
	if err != nil {
		return r, err
	}
	defer logf.Close()

	timeout := b.o.timeout
	if s.ledger {
		timeout = b.o.ledgerTimeout
	}
	ch0, _ := procCPU(b.chPid)
	kafka0, _ := procCPU(b.kafkaPid)
	start := time.Now()
	c, err := startChild(s.bin, []string{"run", "--config", cfg}, logf)
	if err != nil {
		return r, err
	}
	defer c.stop()
	b.logf("%s run (pid %d), group %s, metrics on http://%s/metrics, log %s", s.bin, c.cmd.Process.Pid, group, addr, logPath)

	el, m, err := b.waitCaughtUp(ctx, c, start, addr, db, logPath, timeout)
	if err != nil {
		return r, err
	}
	r.seconds = el.Seconds()
	pid := c.cmd.Process.Pid
	if cpu, err := procCPU(pid); err == nil {
		r.awumeterCPU = cpu
	}
	r.peakRSS, _ = procHWM(pid)
	if k1, err := procCPU(b.kafkaPid); err == nil && b.kafkaPid != 0 {
		r.kafkaCPU = k1 - kafka0
	}
	if ch1, err := procCPU(b.chPid); err == nil && b.chPid != 0 {
		r.chCPU = ch1 - ch0
	}
	r.inserts = seriesBy(m, "awumeter_flush_duration_seconds_count", "table")
	r.lookups = seriesBy(m, "awumeter_workcycle_lookups_total", "via")
	r.rekeyTxns = m[`awumeter_rekey_transactions_total{result="committed"}`]
	r.emitted = seriesBy(m, "awumeter_rows_emitted_total", "table")
	b.logf("caught up in %.1f s: %.0f records/s; awumeter %.1f CPU-s, peak RSS %.0f MiB; ClickHouse %.1f CPU-s",
		r.seconds, float64(b.records)/r.seconds, r.awumeterCPU, float64(r.peakRSS)/(1<<20), r.chCPU)
	stopStart := time.Now()
	if err := c.stop(); err != nil {
		b.logf("warning: %s run did not stop cleanly: %v; see %s", s.bin, err, logPath)
	} else {
		b.logf("stopped in %s", time.Since(stopStart).Round(100*time.Millisecond))
	}
	return r, nil
}

// waitCaughtUp polls the child's metrics, and ClickHouse once every record
// has been read, until the ledger is complete; it returns the time since
// start and the last metrics.
func (b *bench) waitCaughtUp(ctx context.Context, c *child, start time.Time, addr, db, logPath string, timeout time.Duration) (time.Duration, map[string]float64, error) {
	st := b.status()
	defer st.Done()
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	var m map[string]float64
	for {
		select {
		case <-ctx.Done():
			return 0, nil, ctx.Err()
		case <-c.done:
			return 0, nil, fmt.Errorf("%s exited before it caught up (%w); the end of %s:\n%s", c.cmd.Path, c.err, logPath, tail(logPath, 20))
		case <-tick.C:
		}
		if got, err := scrape(ctx, "http://"+addr+"/metrics"); err == nil {
			m = got
		}
		read, flushed := m["awumeter_records_total"], m[`awumeter_flushed_rows_total{table="events"}`]
		el := time.Since(start)
		line := fmt.Sprintf("%s: read %.0f of %d records (%.0f/s), %.0f of %d events written to the ledger",
			el.Round(time.Second), read, b.records, read/el.Seconds(), flushed, b.events)
		if int64(read) >= b.records && b.caughtUp(ctx, db) {
			el = time.Since(start)
			st.Show("%s", line)
			if got, err := scrape(ctx, "http://"+addr+"/metrics"); err == nil {
				m = got
			}
			return el, m, nil
		}
		st.Show("%s", line)
		if el > timeout {
			return 0, nil, fmt.Errorf("%s did not catch up within %s (-timeout / -ledger-timeout): %s; see %s", c.cmd.Path, timeout, line, logPath)
		}
	}
}

// caughtUp reports whether db's ledger holds every distinct valid event of
// the topic. count() is exact unless a retried insert stored an event twice
// before a merge; then the FINAL count decides.
func (b *bench) caughtUp(ctx context.Context, db string) bool {
	where := fmt.Sprintf("WHERE time >= toDateTime(%d)", b.genStart.Unix())
	n, err := b.ch.int(ctx, fmt.Sprintf("SELECT count() FROM %s.events %s", db, where))
	if err != nil || n < b.events {
		return false
	}
	if n > b.events {
		n, err = b.ch.int(ctx, fmt.Sprintf("SELECT count() FROM %s.events FINAL %s", db, where))
	}
	return err == nil && n == b.events
}

// config is the run's configuration: the defaults of
// deploy/awumeter.example.yaml but for the names and addresses.
func (b *bench) config(group, db, httpAddr string, rekeyed bool) string {
	unkeyed := "" // a baseline binary may not know the key
	if rekeyed {
		unkeyed = "\n      keyed_by_workcycle: false"
	}
	return fmt.Sprintf(`# written by make bench-e2e
kafka:
  brokers: [%s]
  group: %s
  client_id: awumeter-bench-e2e
  topics:
    - name: %s
      format: json%s
  auto_offset_reset: earliest
  dead_letter_topic: %s
clickhouse:
  addrs: [%s]
  database: %s
http:
  listen: %s
log:
  level: info
  format: json
`, b.o.kafka, group, b.topic, unkeyed, b.dlq, b.o.clickhouse, db, httpAddr)
}

// child is a running awumeter.
type child struct {
	cmd  *exec.Cmd
	done chan struct{} // closed when it has exited; err is then its status
	err  error
}

func startChild(bin string, args []string, out io.Writer) (*child, error) {
	c := &child{cmd: exec.Command(bin, args...), done: make(chan struct{})}
	c.cmd.Stdout, c.cmd.Stderr = out, out
	if err := c.cmd.Start(); err != nil {
		return nil, err
	}
	go func() {
		c.err = c.cmd.Wait()
		close(c.done)
	}()
	return c, nil
}

// stop asks the child to stop (SIGTERM: flush, commit, leave the group),
// and kills it after a minute. It returns the exit status.
func (c *child) stop() error {
	select {
	case <-c.done:
		return c.err
	default:
	}
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.done:
		return c.err
	case <-time.After(time.Minute):
		_ = c.cmd.Process.Kill()
		<-c.done
		return errors.New("killed: it did not stop within a minute of SIGTERM")
	}
}

// freeAddr is a loopback address with a port nobody listens on right now.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// scrape reads a Prometheus text endpoint; see parseMetrics.
func scrape(ctx context.Context, url string) (map[string]float64, error) {
	text, err := scrapeText(ctx, url)
	if err != nil {
		return nil, err
	}
	return parseMetrics(text), nil
}

// scrapeText reads a Prometheus text endpoint as it is.
func scrapeText(ctx context.Context, url string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	return string(body), nil
}

// tail is the last n lines of a file.
func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// runFiles writes a run's configuration to <dir>/<name>.yaml and creates
// its log, <dir>/<name>.log.
func (b *bench) runFiles(name, config string) (cfg, logPath string, logf *os.File, err error) {
	cfg = filepath.Join(b.dir, name+".yaml")
	if err := os.WriteFile(cfg, []byte(config), 0o644); err != nil {
		return "", "", nil, err
	}
	logPath = filepath.Join(b.dir, name+".log")
	logf, err = os.Create(logPath)
	return cfg, logPath, logf, err
}
