package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/awumeter/awumeter/internal/bench/benchdoc"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"golang.org/x/term"
)

// partitions of the benchmark topic, as in the issue that asked for it.
const partitions = 6

// bench is one benchmark run: its names, the data it produced, and what it
// must remove at the end.
type bench struct {
	o     options
	start time.Time
	stamp string // in every name the run creates
	topic string
	dlq   string
	dir   string
	tty   bool

	ch       *clickhouse
	chPid    int // 0: ClickHouse CPU is not measured
	kafkaPid int // 0: Kafka CPU is not measured

	genStart time.Time     // the earliest event time of the generated data
	records  int64         // N: records in the topic
	events   int64         // distinct valid events among them (gen --truth)
	consume  time.Duration // the better consume-only time

	dbs    []string
	groups []string
	topics []string // topics the runs created (repartition topics), deleted with the others
	loads  []string // 1-minute load averages: at the start, after each run
}

func newBench(o options) (*bench, error) {
	now := time.Now().UTC()
	stamp := fmt.Sprintf("%s_%d", now.Format("20060102_150405"), os.Getpid())
	b := &bench{
		o:     o,
		start: time.Now(),
		stamp: stamp,
		topic: "bench_e2e_" + stamp,
		dlq:   "bench_e2e_" + stamp + "_dlq",
		dir:   filepath.Join(o.dir, stamp),
		tty:   term.IsTerminal(int(os.Stderr.Fd())),
		ch:    newClickHouse(o.clickhouseHTTP),
		// A month of workcycles ending two days ago, as in make demo.
		genStart: now.Truncate(24 * time.Hour).Add(-768 * time.Hour),
	}
	if err := os.MkdirAll(b.dir, 0o755); err != nil {
		return nil, err
	}
	for _, bin := range []string{o.awumeter, o.baseline} {
		if bin == "" {
			continue
		}
		if _, err := os.Stat(bin); err != nil {
			return nil, fmt.Errorf("awumeter binary: %w", err)
		}
	}
	if p, err := os.ReadFile(o.chPidfile); err == nil {
		b.chPid, _ = strconv.Atoi(strings.TrimSpace(string(p)))
	}
	if p, err := os.ReadFile(o.kafkaPidfile); err == nil {
		b.kafkaPid, _ = strconv.Atoi(strings.TrimSpace(string(p)))
	}
	if _, err := procCPU(b.kafkaPid); b.kafkaPid == 0 || err != nil {
		b.kafkaPid = 0
		b.logf("warning: no Kafka broker process from %s; its CPU time is not measured", o.kafkaPidfile)
	}
	if _, err := procCPU(b.chPid); b.chPid == 0 || err != nil {
		b.chPid = 0
		b.logf("warning: no ClickHouse server process from %s; its CPU time is not measured", o.chPidfile)
	}
	return b, nil
}

// noteLoad records the 1-minute load average: on a shared machine it says
// how much the numbers were disturbed.
func (b *bench) noteLoad() {
	if l, err := os.ReadFile("/proc/loadavg"); err == nil {
		b.loads = append(b.loads, strings.Fields(string(l))[0])
	}
}

func (b *bench) elapsed() string { return time.Since(b.start).Round(time.Second).String() }

func (b *bench) logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "[%6s] %s\n", b.elapsed(), fmt.Sprintf(format, args...))
}

func (b *bench) phase(i, n int, format string, args ...any) {
	fmt.Fprintf(os.Stderr, "\n== [%s] %d/%d %s\n", b.elapsed(), i, n, fmt.Sprintf(format, args...))
}

// status is the progress line of a long step.
func (b *bench) status() *benchdoc.Status {
	return &benchdoc.Status{TTY: b.tty, Elapsed: b.elapsed, Logf: b.logf}
}

// generate produces the topic with awumeter gen and counts what it holds:
// the records (the topic's end offsets) and the distinct valid events
// (the sum of the versions of gen's expected workcycle rows, each a count
// of its workcycle's distinct events).
func (b *bench) generate(ctx context.Context) error {
	truth := filepath.Join(b.dir, "truth.ndjson")
	defer os.Remove(truth)
	cmd := exec.CommandContext(ctx, b.o.awumeter, "gen",
		"--seed", strconv.FormatInt(b.o.seed, 10),
		"--workcycles", strconv.Itoa(b.o.workcycles),
		"--tenants", strconv.Itoa(b.o.tenants), "--agents", "4",
		"--start", b.genStart.Format(time.RFC3339), "--span", "720h",
		"--duplicate-rate", "0.05",
		"--kafka-brokers", b.o.kafka, "--topic", b.topic, "--format", "json", "--client", "franz",
		"--partitions", strconv.Itoa(partitions), "--prepare-topic", b.dlq,
		"--truth", truth)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("awumeter gen: %w", err)
	}
	var err error
	if b.events, err = distinctEvents(truth); err != nil {
		return err
	}
	adm, closeAdm, err := b.admin()
	if err != nil {
		return err
	}
	defer closeAdm()
	ends, err := adm.ListEndOffsets(ctx, b.topic)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		return fmt.Errorf("cannot list the end offsets of %s: %w", b.topic, err)
	}
	ends.Each(func(o kadm.ListedOffset) { b.records += o.Offset })
	return nil
}

// distinctEvents sums the versions of the workcycle rows in a truth file.
func distinctEvents(path string) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	prefix := []byte(`{"table":"workcycles"`)
	var n int64
	for sc.Scan() {
		if !bytes.HasPrefix(sc.Bytes(), prefix) {
			continue
		}
		var row struct{ Version int64 }
		if err := json.Unmarshal(sc.Bytes(), &row); err != nil {
			return 0, fmt.Errorf("%s: %w", path, err)
		}
		n += row.Version
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	if n == 0 {
		return 0, fmt.Errorf("%s holds no workcycle rows", path)
	}
	return n, nil
}

func (b *bench) admin() (*kadm.Client, func(), error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.o.kafka))
	if err != nil {
		return nil, nil, err
	}
	return kadm.NewClient(cl), cl.Close, nil
}

// consumeOnly reads the whole topic from the start with a plain consumer
// (no group, no decoding) and returns how long it took, client start-up
// included, as awumeter's time includes its own.
func (b *bench) consumeOnly(ctx context.Context) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	start := time.Now()
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.o.kafka), kgo.ConsumeTopics(b.topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		return 0, err
	}
	defer cl.Close()
	var n int64
	for n < b.records {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return 0, fmt.Errorf("consume-only: read %d of %d records: %w", n, b.records, err)
		}
		var errs []error
		fs.EachError(func(t string, p int32, err error) { errs = append(errs, fmt.Errorf("%s/%d: %w", t, p, err)) })
		if len(errs) > 0 {
			return 0, fmt.Errorf("consume-only: %w", errors.Join(errs...))
		}
		n += int64(fs.NumRecords())
	}
	return time.Since(start), nil
}

// dropDB drops one of the run's databases unless -keep.
func (b *bench) dropDB(ctx context.Context, db string) {
	if b.o.keep {
		return
	}
	if _, err := b.ch.query(ctx, "DROP DATABASE IF EXISTS "+db); err != nil {
		b.logf("warning: %v", err)
	}
}

// cleanup removes the databases, topics and groups the run created.
func (b *bench) cleanup() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if b.o.keep {
		b.logf("kept topics %s and %s, groups %s and databases %s (-keep)",
			b.topic, b.dlq, strings.Join(b.groups, ", "), strings.Join(b.dbs, ", "))
		return
	}
	for _, db := range b.dbs {
		b.dropDB(ctx, db)
	}
	adm, closeAdm, err := b.admin()
	if err != nil {
		b.logf("warning: cannot delete topics %s, %s: %v", b.topic, b.dlq, err)
		return
	}
	defer closeAdm()
	if len(b.groups) > 0 {
		if _, err := adm.DeleteGroups(ctx, b.groups...); err != nil {
			b.logf("warning: cannot delete groups: %v", err)
		}
	}
	if _, err := adm.DeleteTopics(ctx, append([]string{b.topic, b.dlq}, b.topics...)...); err != nil {
		b.logf("warning: cannot delete topics %s, %s: %v", b.topic, b.dlq, err)
	}
	b.logf("removed topics, groups and databases; configs and logs are in %s", b.dir)
}
