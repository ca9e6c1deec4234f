package main

import (
	"bytes"
	"context"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"go.yaml.in/yaml/v3"

	"github.com/awumeter/awumeter/internal/config"
	"github.com/awumeter/awumeter/internal/service/servicetest"
	"github.com/awumeter/awumeter/internal/testenv"
	"github.com/awumeter/awumeter/pipeline/source"
)

// binary builds awumeter into the test's temporary directory (the build
// cache makes every build after the first a link).
func binary(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "awumeter")
	if out, err := exec.Command("go", "build", "-o", path, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return path
}

// proc is one `awumeter run` subprocess.
type proc struct {
	cmd  *exec.Cmd
	log  *bytes.Buffer
	done chan error
}

func writeConfig(t *testing.T, cfg config.Config) string {
	t.Helper()
	b, err := yaml.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "awumeter.yaml")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func startProc(t *testing.T, bin, cfgPath string, env ...string) *proc {
	t.Helper()
	cmd := exec.Command(bin, "run", "--config", cfgPath)
	cmd.Env = append(os.Environ(), env...)
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, log: &log, done: make(chan error, 1)}
	go func() { p.done <- cmd.Wait() }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			t.Logf("awumeter pid %d log:\n%s", cmd.Process.Pid, log.String())
		}
	})
	return p
}

// wait returns the exit status, or fails after d.
func (p *proc) wait(t *testing.T, d time.Duration) int {
	t.Helper()
	select {
	case <-p.done:
		return p.cmd.ProcessState.ExitCode()
	case <-time.After(d):
		t.Fatalf("awumeter pid %d still running after %s", p.cmd.Process.Pid, d)
		return -1
	}
}

func (p *proc) stop(t *testing.T) {
	t.Helper()
	p.cmd.Process.Signal(syscall.SIGTERM)
	if code := p.wait(t, 30*time.Second); code != 0 {
		t.Fatalf("awumeter pid %d exited with %d after SIGTERM", p.cmd.Process.Pid, code)
	}
}

// The process dies right after ClickHouse acknowledged an insert and before
// the offsets behind it are committed. The restarted process replays from
// the last commit: FINAL rows equal the offline result, and the rollups
// count nothing twice.
func TestCrashBetweenInsertAndCommitLosesAndDoublesNothing(t *testing.T) {
	k := testenv.NewKafka(t)
	ch := testenv.NewClickHouse(t)
	bin := binary(t)
	servicetest.Migrate(t, ch)
	topic, dlq, group := k.Topic(t, 3), k.Topic(t, 1), k.Group(t)
	stream := servicetest.Telemetry(t, 200, 11)
	servicetest.ProduceFranz(t, k.Brokers, topic, stream.Records)

	cfg := servicetest.Config(k, ch, topic, group, dlq)
	cfg.Kafka.MaxPollRecords = 50
	cfg.Kafka.CommitInterval = 20 * time.Millisecond // earlier inserts get committed, the crashed one not
	cfg.ClickHouse.Batch.MaxRows = 150
	path := writeConfig(t, cfg)

	crashed := startProc(t, bin, path, faultEnv+"=exit_after_insert:6")
	if code := crashed.wait(t, 60*time.Second); code != 137 {
		t.Fatalf("exit status %d, want 137 from the injected crash", code)
	}
	ctx := testenv.Context(t, time.Minute)
	var inserted uint64
	if err := ch.Conn.QueryRow(ctx, "SELECT count() FROM "+ch.Database+".workcycles").Scan(&inserted); err != nil || inserted == 0 {
		t.Fatalf("no workcycle rows before the crash (%d, %v): the fault fired too early", inserted, err)
	}
	if offs, err := k.Admin.FetchOffsets(ctx, group); err == nil {
		offs.Each(func(o kadm.OffsetResponse) {
			t.Logf("committed before the crash: partition %d at %d", o.Partition, o.At)
		})
	}

	restarted := startProc(t, bin, writeConfig(t, cfg))
	want := servicetest.Offline(t, stream.Records, servicetest.EngineConfig())
	if diff := servicetest.WaitFinal(t, ch, want, 90*time.Second); diff != "" {
		t.Fatalf("FINAL rows after crash and restart differ from the offline result:\n%s", diff)
	}
	servicetest.RequireRollupTotals(t, ctx, ch, stream.Records)
	restarted.stop(t)
	servicetest.RequireCommittedAtEnd(t, k, group, topic)
}

// The process dies in the middle of a re-key transaction: its events and
// dead letters are at the brokers, uncommitted. The restarted process (a
// new transactional id, as after a crash on another host) re-keys the
// records again. Nothing is lost or counted twice: the FINAL rows equal
// the offline result, the rollups agree, each malformed record is one
// committed dead letter, and the re-key group's offsets end at the end.
func TestCrashInReKeyingLosesAndDoublesNothing(t *testing.T) {
	k := testenv.NewKafka(t)
	ch := testenv.NewClickHouse(t)
	bin := binary(t)
	servicetest.Migrate(t, ch)
	topic, dlq, group := k.Topic(t, 3), k.Topic(t, 1), k.Group(t)
	stream := servicetest.TelemetryForAnyOrder(t, 200, 13)
	servicetest.CleanupRepartition(t, k, group)
	servicetest.ProduceUnkeyed(t, k.Brokers, topic, stream.Records)

	cfg := servicetest.Unkeyed(servicetest.Config(k, ch, topic, group, dlq))
	cfg.Kafka.MaxPollRecords = 50 // many transactions
	cfg.Rekey.TransactionTimeout = 5 * time.Second
	crashed := startProc(t, bin, writeConfig(t, cfg), faultEnv+"=exit_in_rekey:4")
	if code := crashed.wait(t, 60*time.Second); code != 137 {
		t.Fatalf("exit status %d, want 137 from the injected crash", code)
	}
	ctx := testenv.Context(t, 2*time.Minute)
	if offs, err := k.Admin.FetchOffsets(ctx, source.RekeyGroup(group)); err == nil {
		offs.Each(func(o kadm.OffsetResponse) {
			t.Logf("re-key offsets committed before the crash: partition %d at %d", o.Partition, o.At)
		})
	}

	restarted := startProc(t, bin, writeConfig(t, cfg))
	want := servicetest.Offline(t, stream.Records, servicetest.EngineConfig())
	if diff := servicetest.WaitFinal(t, ch, want, 90*time.Second); diff != "" {
		t.Fatalf("FINAL rows after a crash while re-keying differ from the offline result:\n%s", diff)
	}
	servicetest.RequireRollupTotals(t, ctx, ch, stream.Records)
	restarted.stop(t)
	if got, want := servicetest.CommittedDeadLetters(t, k, dlq), servicetest.MalformedLines(stream.Records); !maps.Equal(got, want) {
		t.Fatalf("dead letters after the crash: %v, want each malformed record once: %v", got, want)
	}
	servicetest.RequireCommittedAtEnd(t, k, source.RekeyGroup(group), topic)
}

// Three instances share six partitions; one is killed with SIGKILL and a
// fourth joins while records keep arriving. The final rows equal the
// offline result exactly.
func TestScaleOutWithAKilledAndAnAddedInstance(t *testing.T) {
	k := testenv.NewKafka(t)
	ch := testenv.NewClickHouse(t)
	bin := binary(t)
	servicetest.Migrate(t, ch)
	topic, dlq, group := k.Topic(t, 6), k.Topic(t, 1), k.Group(t)
	stream := servicetest.Telemetry(t, 300, 23)
	half := len(stream.Records) / 2
	servicetest.ProduceFranz(t, k.Brokers, topic, stream.Records[:half])

	cfg := servicetest.Config(k, ch, topic, group, dlq)
	cfg.Kafka.MaxPollRecords = 100
	path := writeConfig(t, cfg)
	procs := []*proc{startProc(t, bin, path), startProc(t, bin, path), startProc(t, bin, path)}

	ctx := testenv.Context(t, 2*time.Minute)
	waitRows(t, ctx, ch, 1)
	procs[1].cmd.Process.Kill()
	procs[1].wait(t, 10*time.Second)
	procs = append(procs, startProc(t, bin, path))
	servicetest.ProduceFranz(t, k.Brokers, topic, stream.Records[half:])

	want := servicetest.Offline(t, stream.Records, servicetest.EngineConfig())
	if diff := servicetest.WaitFinal(t, ch, want, 90*time.Second); diff != "" {
		t.Fatalf("FINAL rows differ from the offline result:\n%s", diff)
	}
	for i, p := range procs {
		if i != 1 {
			p.stop(t)
		}
	}
	servicetest.RequireCommittedAtEnd(t, k, group, topic)
}

func waitRows(t *testing.T, ctx context.Context, ch *testenv.ClickHouse, n uint64) {
	t.Helper()
	for ctx.Err() == nil {
		var c uint64
		if err := ch.Conn.QueryRow(ctx, "SELECT count() FROM "+ch.Database+".workcycles").Scan(&c); err == nil && c >= n {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatal("no rows reached ClickHouse")
}
