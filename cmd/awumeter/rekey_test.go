package main

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/awumeter/awumeter/internal/service"
	"github.com/awumeter/awumeter/internal/service/servicetest"
	"github.com/awumeter/awumeter/internal/testenv"
	"github.com/awumeter/awumeter/internal/textsafe"
	"github.com/awumeter/awumeter/pipeline/deadletter"
	"github.com/awumeter/awumeter/pipeline/decode"
	"github.com/awumeter/awumeter/pipeline/engine"
	"github.com/awumeter/awumeter/pipeline/event"
	"github.com/awumeter/awumeter/pipeline/source"
)

// Three instances re-key and meter six partitions produced round robin
// without keys; one is killed with SIGKILL, possibly in the middle of a
// re-key transaction, and a fourth joins while the second half of the
// records arrives. Every instance derives its own transactional id (the
// default, <group>-rekey-<host>-<pid>), so the killed instance's open
// transaction is not aborted by a successor: the brokers abort it after
// rekey.transaction_timeout. The FINAL rows equal the offline result and
// each malformed record is one committed dead letter.
func TestScaleOutWhileReKeying(t *testing.T) {
	k := testenv.NewKafka(t)
	ch := testenv.NewClickHouse(t)
	bin := binary(t)
	servicetest.Migrate(t, ch)
	topic, dlq, group := k.Topic(t, 6), k.Topic(t, 1), k.Group(t)
	stream := servicetest.TelemetryForAnyOrder(t, 300, 23)
	half := len(stream.Records) / 2
	servicetest.ProduceUnkeyed(t, k.Brokers, topic, stream.Records[:half])

	cfg := servicetest.Unkeyed(servicetest.Config(k, ch, topic, group, dlq))
	cfg.Kafka.MaxPollRecords = 100
	cfg.Rekey.TransactionTimeout = 5 * time.Second // the killed instance's transaction is aborted sooner
	if cfg.Rekey.TransactionalID != "" {
		t.Fatalf("the test must use the default transactional id, got %q", cfg.Rekey.TransactionalID)
	}
	path := writeConfig(t, cfg)
	ctx := testenv.Context(t, 2*time.Minute)
	servicetest.CleanupRepartition(t, k, group)
	// Started at once, the instances race to create the repartition topic.
	procs := []*proc{startProc(t, bin, path), startProc(t, bin, path), startProc(t, bin, path)}

	waitRows(t, ctx, ch, 1)
	procs[1].cmd.Process.Kill()
	procs[1].wait(t, 10*time.Second)
	procs = append(procs, startProc(t, bin, path))
	servicetest.ProduceUnkeyed(t, k.Brokers, topic, stream.Records[half:])

	want := servicetest.Offline(t, stream.Records, servicetest.EngineConfig())
	if diff := servicetest.WaitFinal(t, ch, want, 60*time.Second); diff != "" {
		t.Fatalf("FINAL rows differ from the offline result:\n%s", diff)
	}
	servicetest.RequireRollupTotals(t, ctx, ch, stream.Records)
	for i, p := range procs {
		if i != 1 {
			p.stop(t)
		}
	}
	if got, want := servicetest.CommittedDeadLetters(t, k, dlq), servicetest.MalformedLines(stream.Records); !maps.Equal(got, want) {
		t.Fatalf("dead letters: %d distinct %v, want each malformed record once: %d distinct %v", len(got), got, len(want), want)
	}
	servicetest.RequireCommittedAtEnd(t, k, source.RekeyGroup(group), topic)
	// Not RequireCommittedAtEnd on the repartition topic: its end offset
	// counts the last transaction's marker, and here also the abort marker
	// of the killed instance's transaction, which no consumer is handed.
}

// fixture is one record of the hostile-input test: bytes from the
// repository's decoder fixtures, or derived from them.
type fixture struct {
	name  string
	value []byte
}

// readFixture reads a file of testdata/decode, or of the decoder's fuzz
// corpus (a `go test fuzz v1` file holding one []byte).
func readFixture(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", path))
	if err != nil {
		t.Fatal(err)
	}
	if s, ok := strings.CutPrefix(string(b), "go test fuzz v1\n"); ok {
		s = strings.TrimSpace(s)
		s = strings.TrimSuffix(strings.TrimPrefix(s, "[]byte("), ")")
		u, err := strconv.Unquote(s)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		return []byte(u)
	}
	return b
}

// hostileFixtures are the records fed to an OTLP topic of format: the OTLP
// fixtures of both encodings (a valid agent trace, twice, and a record of
// bad spans with one good one), the native JSON and CloudEvents fixtures,
// the OTLP JSON fuzz corpus, an empty and a null value, a truncated
// protobuf and a valid trace made larger than max_record_bytes.
func hostileFixtures(t *testing.T, format string, maxRecordBytes int) []fixture {
	t.Helper()
	var fs []fixture
	add := func(name string, v []byte) { fs = append(fs, fixture{name, v}) }
	own, other := ".json", ".binpb"
	if format == decode.FormatOTLPProto {
		own, other = other, own
	}
	for _, n := range []string{"agent_trace", "bad_spans"} {
		add(n+own, readFixture(t, "testdata/decode/otlp/"+n+own))
		add(n+other, readFixture(t, "testdata/decode/otlp/"+n+other))
	}
	add("agent_trace"+own+" again", readFixture(t, "testdata/decode/otlp/agent_trace"+own))
	for _, dir := range []string{"testdata/decode/json", "testdata/decode/cloudevents", "pipeline/decode/testdata/fuzz/FuzzOTLPJSON"} {
		files, err := filepath.Glob(filepath.Join("..", "..", dir, "*"))
		if err != nil || len(files) == 0 {
			t.Fatalf("no fixtures in %s (%v)", dir, err)
		}
		for _, f := range files {
			rel, _ := filepath.Rel(filepath.Join("..", ".."), f)
			add(rel, readFixture(t, rel))
		}
	}
	add("empty", []byte{})
	add("null", nil)
	trace := readFixture(t, "testdata/decode/otlp/agent_trace"+own)
	add("truncated agent_trace"+own, trace[:len(trace)*2/3])
	var big []byte
	if format == decode.FormatOTLPProto {
		// Concatenated messages are one valid message, merged.
		for len(big) <= maxRecordBytes {
			big = append(big, trace...)
		}
	} else {
		big = append(bytes.Clone(trace), bytes.Repeat([]byte(" "), maxRecordBytes)...)
	}
	add("agent_trace"+own+" over max_record_bytes", big)
	return fs
}

// projection renders final rows on the columns the comparison needs, the
// same way for the engine's rows and ClickHouse's.
func wcProjection(r *engine.WorkcycleRow) string {
	return fmt.Sprintf("agent=%s outcome=%s start=%s end=%s awus=%d/%d/%d attempts=%d tokens=%d/%d/%d/%d/%d cost=%s unpriced=%d",
		r.AgentID, r.Outcome, r.StartedAt.UTC().Format(time.RFC3339), r.EndedAt.UTC().Format(time.RFC3339),
		r.AWUs, r.AWUsSucceeded, r.AWUsFailed, r.Attempts,
		r.InputTokens, r.OutputTokens, r.CacheReadInputTokens, r.CacheCreationInputTokens, r.ReasoningTokens,
		r.TokenCost.StringFixed(12), r.UnpricedTokens)
}

func awuProjection(r *engine.AWURow) string {
	return fmt.Sprintf("%s/%s status=%s attempts=%d tokens=%d/%d/%d/%d/%d cost=%s",
		r.Kind, r.Tool, r.Status, r.Attempts,
		r.InputTokens, r.OutputTokens, r.CacheReadInputTokens, r.CacheCreationInputTokens, r.ReasoningTokens,
		r.TokenCost.StringFixed(12))
}

func projectionFinal(ctx context.Context, ch *testenv.ClickHouse) (map[string]string, error) {
	out := map[string]string{}
	rows, err := ch.Conn.Query(ctx, `SELECT tenant_id, workcycle_id, agent_id, outcome, started_at, ended_at,
		awus, awus_succeeded, awus_failed, attempts, input_tokens, output_tokens, cache_read_input_tokens,
		cache_creation_input_tokens, reasoning_tokens, token_cost, unpriced_tokens FROM `+ch.Database+`.workcycles FINAL`)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var r engine.WorkcycleRow
		if err := rows.Scan(&r.TenantID, &r.WorkcycleID, &r.AgentID, &r.Outcome, &r.StartedAt, &r.EndedAt,
			&r.AWUs, &r.AWUsSucceeded, &r.AWUsFailed, &r.Attempts, &r.InputTokens, &r.OutputTokens, &r.CacheReadInputTokens,
			&r.CacheCreationInputTokens, &r.ReasoningTokens, &r.TokenCost, &r.UnpricedTokens); err != nil {
			rows.Close()
			return nil, err
		}
		out["workcycle "+r.TenantID+"/"+r.WorkcycleID] = wcProjection(&r)
	}
	rows.Close()
	rows, err = ch.Conn.Query(ctx, `SELECT tenant_id, workcycle_id, awu_id, kind, tool, status, attempts,
		input_tokens, output_tokens, cache_read_input_tokens, cache_creation_input_tokens, reasoning_tokens, token_cost
		FROM `+ch.Database+`.awus FINAL`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var r engine.AWURow
		if err := rows.Scan(&r.TenantID, &r.WorkcycleID, &r.AWUID, &r.Kind, &r.Tool, &r.Status, &r.Attempts,
			&r.InputTokens, &r.OutputTokens, &r.CacheReadInputTokens, &r.CacheCreationInputTokens, &r.ReasoningTokens, &r.TokenCost); err != nil {
			return nil, err
		}
		out["awu "+r.TenantID+"/"+r.WorkcycleID+"/"+r.AWUID] = awuProjection(&r)
	}
	return out, rows.Err()
}

// wantLetter is what the dead letter of one record must be.
type wantLetter struct {
	name       string
	value, key []byte
	reason     string
	rejections int
	partition  int32
	offset     int64
}

// Records nobody wrote for this test, from the decoder's fixtures and fuzz
// corpus, are produced without a key to an OTLP topic of each encoding
// (which the format's default declares not keyed, so the re-key stage
// reads it). The FINAL rows equal what the offline path (the format's
// decoder, then one engine in production order) computes from the same
// bytes, and every record the offline path rejects is exactly one
// committed dead letter with its original key, value and headers, and the
// awumeter.dlq.* headers naming its first reason, its rejection count and
// its topic, partition and offset. Nothing else is dead-lettered.
func TestHostileRecordsThroughTheReKeyStage(t *testing.T) {
	for _, format := range []string{decode.FormatOTLPJSON, decode.FormatOTLPProto} {
		t.Run(format, func(t *testing.T) {
			t.Parallel()
			hostileThroughReKey(t, format)
		})
	}
}

func hostileThroughReKey(t *testing.T, format string) {
	const maxRecordBytes = 16 << 10
	k := testenv.NewKafka(t)
	ch := testenv.NewClickHouse(t)
	servicetest.Migrate(t, ch)
	topic, dlq, group := k.Topic(t, 2), k.Topic(t, 1), k.Group(t)
	ctx := testenv.Context(t, 90*time.Second)

	cfg := servicetest.Config(k, ch, topic, group, dlq)
	cfg.Kafka.Topics[0].Format = format
	cfg.Kafka.Topics[0].Decode.MaxRecordBytes = maxRecordBytes
	if cfg.Kafka.Topics[0].Keyed() {
		t.Fatalf("%s is keyed by default; the re-key stage would not read it", format)
	}
	cfg.Rekey.TransactionalID = group + "-txn"
	t.Cleanup(func() {
		dctx := testenv.Context(t, 30*time.Second)
		k.Admin.DeleteTopics(dctx, source.RepartitionTopic(group))
	})

	// Produced one at a time, alternating partitions, so that the offline
	// path sees the records in an order the service may see too.
	fixtures := hostileFixtures(t, format, maxRecordBytes)
	cl, err := kgo.NewClient(kgo.SeedBrokers(k.Brokers...), kgo.DefaultProduceTopic(topic),
		kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.ProducerBatchMaxBytes(1<<20))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	type produced struct {
		fixture
		key       []byte
		partition int32
		offset    int64
	}
	var recs []produced
	for i, f := range fixtures {
		r := &kgo.Record{Partition: int32(i % 2), Value: f.value,
			Headers: []kgo.RecordHeader{{Key: "origin", Value: []byte(f.name)}}}
		if i%3 == 0 {
			r.Key = []byte("trace-" + strconv.Itoa(i)) // the Collector's trace id key, or none
		}
		res := cl.ProduceSync(ctx, r)
		if err := res.FirstErr(); err != nil {
			t.Fatalf("produce %s: %v", f.name, err)
		}
		recs = append(recs, produced{f, r.Key, res[0].Record.Partition, res[0].Record.Offset})
	}

	// The offline result of the same bytes.
	dec, err := decode.New(format, cfg.Kafka.Topics[0].Decode, decode.Settings{})
	if err != nil {
		t.Fatal(err)
	}
	letters := map[string]wantLetter{} // by partition/offset
	drecs := make([]decode.Record, len(recs))
	for i, r := range recs {
		drecs[i] = decode.Record{Topic: topic, Partition: r.partition, Offset: r.offset, Key: r.key, Value: r.value}
	}
	rows := servicetest.OfflineRecords(t, dec, drecs, servicetest.EngineConfig(), func(i int, evs []event.Event, rejs []decode.Rejection) {
		r := recs[i]
		if len(rejs) > 0 {
			letters[fmt.Sprintf("%d/%d", r.partition, r.offset)] = wantLetter{name: r.name, value: r.value, key: r.key,
				reason: string(rejs[0].Reason), rejections: len(rejs), partition: r.partition, offset: r.offset}
		}
		t.Logf("%s: %d bytes at %d/%d, %d events, %d rejections", r.name, len(r.value), r.partition, r.offset, len(evs), len(rejs))
	})
	want := map[string]string{}
	for i := range rows.Workcycles {
		r := &rows.Workcycles[i]
		want["workcycle "+r.TenantID+"/"+r.WorkcycleID] = wcProjection(r)
	}
	for i := range rows.AWUs {
		r := &rows.AWUs[i]
		want["awu "+r.TenantID+"/"+r.WorkcycleID+"/"+r.AWUID] = awuProjection(r)
	}
	if len(rows.Workcycles) == 0 || len(letters) < 5 {
		t.Fatalf("the fixtures give %d workcycles and %d dead letters offline: not a test", len(rows.Workcycles), len(letters))
	}

	svc, err := service.New(cfg, service.Settings{Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer svc.Shutdown(context.Background())
	var got map[string]string
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(300 * time.Millisecond) {
		if got, err = projectionFinal(ctx, ch); err == nil && maps.Equal(got, want) {
			break
		}
	}
	if !maps.Equal(got, want) {
		t.Errorf("FINAL rows differ from the offline result (%v):", err)
		for key, w := range want {
			if got[key] != w {
				t.Errorf("  %s:\n    want %s\n    got  %s", key, w, got[key])
			}
		}
		for key, g := range got {
			if _, ok := want[key]; !ok {
				t.Errorf("  %s: not expected, got %s", key, g)
			}
		}
	}
	if err := svc.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown: %v", err)
	}

	// The dead letters, read_committed.
	rd, err := kgo.NewClient(kgo.SeedBrokers(k.Brokers...), kgo.ConsumeTopics(dlq),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	seen := map[string]int{}
	for ctx.Err() == nil {
		pctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		fs := rd.PollFetches(pctx)
		cancel()
		if fs.NumRecords() == 0 {
			break
		}
		fs.EachRecord(func(r *kgo.Record) {
			hs := map[string]string{}
			for _, h := range r.Headers {
				hs[h.Key] = string(h.Value)
			}
			at := hs[deadletter.HeaderSourcePartition] + "/" + hs[deadletter.HeaderSourceOffset]
			seen[at]++
			w, ok := letters[at]
			if !ok {
				t.Errorf("unexpected dead letter %q (reason %s, %s)", textsafe.Terminal(string(r.Value[:min(len(r.Value), 80)])), hs[deadletter.HeaderReason], hs[deadletter.HeaderDetail])
				return
			}
			if !bytes.Equal(r.Value, w.value) || (r.Value == nil) != (w.value == nil) {
				t.Errorf("%s: value of %d bytes (null %t), want the original %d bytes (null %t)", w.name, len(r.Value), r.Value == nil, len(w.value), w.value == nil)
			}
			if !bytes.Equal(r.Key, w.key) {
				t.Errorf("%s: key %q, want the original %q", w.name, r.Key, w.key)
			}
			for h, v := range map[string]string{
				"origin":                         w.name,
				deadletter.HeaderReason:          w.reason,
				deadletter.HeaderRejections:      strconv.Itoa(w.rejections),
				deadletter.HeaderSourceTopic:     topic,
				deadletter.HeaderSourcePartition: strconv.Itoa(int(w.partition)),
				deadletter.HeaderSourceOffset:    strconv.FormatInt(w.offset, 10),
			} {
				if hs[h] != v {
					t.Errorf("%s: header %s = %q, want %q", w.name, h, hs[h], v)
				}
			}
			if hs[deadletter.HeaderDetail] == "" || hs[deadletter.HeaderSourceTimestamp] == "" {
				t.Errorf("%s: headers %v lack the detail or the timestamp", w.name, hs)
			}
		})
	}
	for at, w := range letters {
		if seen[at] != 1 {
			t.Errorf("%s (%s): %d committed dead letters, want 1", w.name, w.reason, seen[at])
		}
	}
}

// A repartition partition that is caught up ends with a transaction
// marker, which no consumer is handed: its end offset stays one past the
// committed offset. After a restart the instance must still count it as
// caught up, and be ready, while another partition receives records.
func TestQuietRepartitionPartitionIsNotStalledAfterARestart(t *testing.T) {
	k := testenv.NewKafka(t)
	ch := testenv.NewClickHouse(t)
	servicetest.Migrate(t, ch)
	topic, dlq, group := k.Topic(t, 1), k.Topic(t, 1), k.Group(t)
	stream := servicetest.TelemetryForAnyOrder(t, 20, 41)
	servicetest.ProduceUnkeyed(t, k.Brokers, topic, stream.Records)
	cfg := servicetest.Unkeyed(servicetest.Config(k, ch, topic, group, dlq))
	cfg.Rekey.Partitions = 2
	cfg.Rekey.TransactionalID = group + "-txn"
	cfg.HTTP.StallTimeout = 2 * time.Second
	repartition := source.RepartitionTopic(group)
	servicetest.CleanupRepartition(t, k, group)
	ctx := testenv.Context(t, time.Minute)
	start := func() *service.Service {
		svc, err := service.New(cfg, service.Settings{Version: "test"})
		if err != nil {
			t.Fatal(err)
		}
		if err := svc.Start(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { svc.Shutdown(context.Background()) })
		return svc
	}
	first := start()
	if diff := servicetest.WaitFinal(t, ch, servicetest.Offline(t, stream.Records, servicetest.EngineConfig()), 30*time.Second); diff != "" {
		t.Fatalf("FINAL rows differ from the offline result:\n%s", diff)
	}
	if err := first.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}

	// A record on partition 1 only (not an event: it is dead-lettered), so
	// that the restarted instance's first fetch carries records for 1 and
	// partition 0's end offset, its last commit marker included.
	cl, err := kgo.NewClient(kgo.SeedBrokers(k.Brokers...), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if err := cl.ProduceSync(ctx, &kgo.Record{Topic: repartition, Partition: 1, Value: []byte("not an event")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	second := start()
	time.Sleep(2*cfg.HTTP.StallTimeout + time.Second)
	ok, why := second.Ready()
	for _, p := range second.Source().Status().Partitions {
		t.Logf("%s/%d next %d committed %d high watermark %d pending %d", p.Topic, p.Partition, p.Next, p.Committed, p.HighWatermark, p.Pending())
	}
	if !ok {
		t.Fatalf("not ready after a restart with nothing left to process: %s", why)
	}
}
