package main

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/awumeter/awumeter/internal/testenv"
)

// TestGenTruthEqualsProcess is the end-to-end check users can run by hand:
// the generator's independent truth equals process --final-only, byte for
// byte, through the real decoder.
func TestGenTruthEqualsProcess(t *testing.T) {
	dir := t.TempDir()
	telemetry, truth := filepath.Join(dir, "t.ndjson"), filepath.Join(dir, "truth.ndjson")
	if _, _, err := run(t, "", "gen", "--seed", "3", "--workcycles", "300", "--conflict-rate", "0.02",
		"--output", telemetry, "--truth", truth); err != nil {
		t.Fatal(err)
	}
	out, stderr, err := run(t, "", "process", "--input", telemetry, "--final-only", "--now", goldenNow)
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(truth)
	if err != nil {
		t.Fatal(err)
	}
	if out != string(want) {
		t.Fatalf("process --final-only differs from gen --truth (%d vs %d bytes)", len(out), len(want))
	}
	if !strings.Contains(stderr, "rejected") {
		t.Errorf("summary: %s", stderr)
	}
}

func TestGenIsDeterministic(t *testing.T) {
	a, _, err := run(t, "", "gen", "--seed", "9", "--workcycles", "50")
	if err != nil {
		t.Fatal(err)
	}
	b, _, _ := run(t, "", "gen", "--seed", "9", "--workcycles", "50")
	c, _, _ := run(t, "", "gen", "--seed", "10", "--workcycles", "50")
	if a != b || a == c {
		t.Error("the same seed must give the same bytes, another seed other bytes")
	}
	if _, _, err := run(t, "", "gen", "--duplicate-rate", "2"); err == nil || !strings.Contains(err.Error(), "duplicate rate") {
		t.Errorf("got %v, want an error naming the duplicate rate", err)
	}
}

func TestGenChecksItsFlags(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--format", "otlp_proto"}, "--format otlp_proto needs --kafka-brokers"},
		{[]string{"--topic", "t"}, "--topic needs --kafka-brokers"},
		{[]string{"--format", "avro"}, "must be one of json, cloudevents, cloudevents-binary, otlp_proto, otlp_json"},
		{[]string{"--kafka-brokers", "127.0.0.1:9092"}, "topic: must name a topic"},
		{[]string{"--kafka-brokers", "127.0.0.1:9092", "--topic", "t", "--client", "sarama"}, "client: must be one of franz, kafka-go"},
		{[]string{"--kafka-brokers", "127.0.0.1:9092", "--topic", "t", "--reset-topics"}, "--reset-topics needs --partitions"},
		{[]string{"--start", "yesterday"}, "want an RFC 3339 time"},
	} {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			_, _, err := run(t, "", append([]string{"gen", "--workcycles", "1"}, c.args...)...)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want an error containing %q", err, c.want)
			}
		})
	}
}

func TestParseStart(t *testing.T) {
	now := time.Date(2026, 11, 27, 15, 4, 5, 0, time.UTC)
	for in, want := range map[string]time.Time{
		"2026-10-01T08:00:00Z": time.Date(2026, 10, 1, 8, 0, 0, 0, time.UTC),
		"-768h":                time.Date(2026, 10, 26, 0, 0, 0, 0, time.UTC),
		"0s":                   time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC),
	} {
		got, err := parseStart(in, now)
		if err != nil || !got.Equal(want) {
			t.Errorf("parseStart(%q) = %s, %v; want %s", in, got, err, want)
		}
	}
}

// TestGenProducesToKafka runs gen against the real broker in a format whose
// ids differ from native JSON and with the kafka-go client, reads the topic
// back and checks that the truth is the same as for the native lines.
func TestGenProducesToKafka(t *testing.T) {
	k := testenv.NewKafka(t)
	topic := testenv.UniqueName(t, "t")
	dlq := topic + "_dlq"
	t.Cleanup(func() { k.Admin.DeleteTopics(context.Background(), topic, dlq) })
	dir := t.TempDir()
	base := []string{"gen", "--seed", "4", "--workcycles", "60", "--malformed-rate", "0.02"}
	_, stderr, err := run(t, "", append(base, "--kafka-brokers", strings.Join(k.Brokers, ","), "--topic", topic,
		"--partitions", "3", "--prepare-topic", dlq, "--format", "cloudevents-binary", "--client", "kafka-go",
		"--truth", filepath.Join(dir, "ce.ndjson"))...)
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`produced (\d+) records \(.*\) to \S+ as cloudevents-binary with kafka-go`).FindStringSubmatch(stderr)
	if m == nil || !strings.Contains(stderr, "created topic "+dlq+" (3 partitions)") {
		t.Fatalf("summary: %s", stderr)
	}
	n, _ := strconv.Atoi(m[1])

	ctx := testenv.Context(t, time.Minute)
	ends, err := k.Admin.ListEndOffsets(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	ends.Each(func(o kadm.ListedOffset) { total += o.Offset })
	if total != int64(n) {
		t.Fatalf("the topic holds %d records, gen says it produced %d", total, n)
	}

	if _, _, err := run(t, "", append(base, "--output", filepath.Join(dir, "t.ndjson"), "--truth", filepath.Join(dir, "json.ndjson"))...); err != nil {
		t.Fatal(err)
	}
	ce, _ := os.ReadFile(filepath.Join(dir, "ce.ndjson"))
	native, _ := os.ReadFile(filepath.Join(dir, "json.ndjson"))
	if len(ce) == 0 || string(ce) != string(native) {
		t.Fatal("CloudEvents must give the same final rows as native JSON")
	}
}
