package testenv

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// CollectorConfig is what a test asks of the OpenTelemetry Collector that
// Collector starts: an OTLP/HTTP receiver on a free loopback port, the batch
// processor, and one Kafka exporter for traces.
type CollectorConfig struct {
	// Topic receives the traces; required. It must exist: create it with
	// Kafka.Topic first (the local broker does not auto-create topics).
	Topic string
	// Encoding is the exporter's traces encoding: "otlp_proto" (the
	// default) or "otlp_json", the two OTLP formats pipeline/decode reads.
	Encoding string
	// PartitionTracesByID keys every record by its trace id in hex, one
	// record per trace. Without it the exporter writes one unkeyed record
	// per batch.
	PartitionTracesByID bool
	// BatchTimeout is the batch processor's timeout; default 200ms.
	BatchTimeout time.Duration
	// Brokers overrides KafkaBrokers().
	Brokers []string
}

// OTLPCollector is a running collector.
type OTLPCollector struct {
	// HTTPAddr is the OTLP/HTTP receiver's host:port, for
	// otlptracehttp.WithEndpoint (with WithInsecure).
	HTTPAddr string
	// TracesURL is the receiver's traces URL, http://HTTPAddr/v1/traces.
	TracesURL string
	// LogFile holds the collector's log.
	LogFile string
	// ConfigFile is the configuration it runs with.
	ConfigFile string
}

// CollectorBinary returns the collector that tests run: $AWUMETER_OTELCOL_BIN,
// else the build of the current deploy/local/otelcol sources that
// `make collector` leaves in $AWUMETER_LOCAL_DIR/otelcol/otelcol-<hash>.
func CollectorBinary() (string, error) {
	if bin := os.Getenv("AWUMETER_OTELCOL_BIN"); bin != "" {
		return bin, nil
	}
	root, err := repoRoot()
	if err != nil {
		return "", err
	}
	// The same name deploy/local/otelcol.sh gives the build: the first 12
	// hex digits of the SHA-256 of go.mod, go.sum and main.go, concatenated.
	h := sha256.New()
	for _, f := range []string{"go.mod", "go.sum", "main.go"} {
		b, err := os.ReadFile(filepath.Join(root, "deploy", "local", "otelcol", f))
		if err != nil {
			return "", err
		}
		h.Write(b)
	}
	local := envOr("AWUMETER_LOCAL_DIR", ".local")
	if !filepath.IsAbs(local) {
		local = filepath.Join(root, local)
	}
	return filepath.Join(local, "otelcol", "otelcol-"+hex.EncodeToString(h.Sum(nil))[:12]), nil
}

// repoRoot walks up from the working directory (a package directory, under
// go test) to the directory holding deploy/local/otelcol.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "deploy", "local", "otelcol", "main.go")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("deploy/local/otelcol/main.go not found above the working directory; set AWUMETER_OTELCOL_BIN")
		}
		dir = parent
	}
}

// CollectorRequired reports whether a test must fail rather than skip when
// the collector binary is missing: AWUMETER_REQUIRE_COLLECTOR=1. It is not
// tied to Required (AWUMETER_REQUIRE_STACK) because `make test` does not
// build the collector.
func CollectorRequired() bool { return os.Getenv("AWUMETER_REQUIRE_COLLECTOR") == "1" }

// Collector starts the local OpenTelemetry Collector build with a config of
// the test's own and stops it when the test ends (SIGTERM, then kill after
// 10s). It returns once the OTLP/HTTP receiver accepts connections, which the
// collector opens only after its exporter started. When the test failed, the
// collector's log tail is logged. Without the binary the test is skipped
// (failed, if CollectorRequired) with a message naming `make collector`.
func Collector(t testing.TB, cfg CollectorConfig) *OTLPCollector {
	t.Helper()
	bin, err := CollectorBinary()
	if err == nil {
		_, err = os.Stat(bin)
	}
	if err != nil {
		msg := "OpenTelemetry Collector binary not available (" + err.Error() + "); build it with `make collector`, or set AWUMETER_OTELCOL_BIN"
		if CollectorRequired() {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	if cfg.Topic == "" {
		t.Fatal("testenv.Collector: CollectorConfig.Topic is required")
	}
	switch cfg.Encoding {
	case "":
		cfg.Encoding = "otlp_proto"
	case "otlp_proto", "otlp_json":
	default:
		t.Fatalf("testenv.Collector: encoding %q: want otlp_proto or otlp_json", cfg.Encoding)
	}
	if cfg.BatchTimeout <= 0 {
		cfg.BatchTimeout = 200 * time.Millisecond
	}
	if len(cfg.Brokers) == 0 {
		cfg.Brokers = KafkaBrokers()
	}
	dir := t.TempDir()
	// A free port can be taken between our probe and the collector's bind;
	// then the collector exits at once and we try another.
	for attempt := 1; ; attempt++ {
		c, retry := startCollector(t, bin, dir, cfg)
		if c != nil {
			return c
		}
		if !retry || attempt == 3 {
			t.Fatalf("collector did not start; log %s:\n%s", filepath.Join(dir, "collector.log"), tail(filepath.Join(dir, "collector.log"), 40))
		}
	}
}

// startCollector runs the binary once; nil and retry=true when its port was taken.
func startCollector(t testing.TB, bin, dir string, cfg CollectorConfig) (c *OTLPCollector, retry bool) {
	t.Helper()
	port, err := freePort()
	if err != nil {
		t.Fatalf("free port: %v", err)
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	c = &OTLPCollector{
		HTTPAddr:   addr,
		TracesURL:  "http://" + addr + "/v1/traces",
		LogFile:    filepath.Join(dir, "collector.log"),
		ConfigFile: filepath.Join(dir, "collector.yaml"),
	}
	if err := os.WriteFile(c.ConfigFile, []byte(collectorYAML(addr, cfg)), 0o644); err != nil {
		t.Fatalf("write collector config: %v", err)
	}
	logf, err := os.Create(c.LogFile)
	if err != nil {
		t.Fatalf("collector log: %v", err)
	}
	defer logf.Close()
	cmd := exec.Command(bin, "--config", c.ConfigFile)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatalf("start collector %s: %v", bin, err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()

	deadline := time.Now().Add(60 * time.Second)
	for {
		select {
		case <-exited:
			log, _ := os.ReadFile(c.LogFile)
			return nil, bytes.Contains(log, []byte("address already in use"))
		default:
		}
		if conn, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
			conn.Close()
			break
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			<-exited
			t.Fatalf("collector did not listen on %s within 60s; log:\n%s", addr, tail(c.LogFile, 40))
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			t.Logf("collector did not stop in 10s after SIGTERM; killing it")
			_ = cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("collector log tail (%s):\n%s", c.LogFile, tail(c.LogFile, 40))
		}
	})
	return c, false
}

// collectorYAML is the collector's configuration. Kafka exporter keys as of
// contrib v0.165: brokers, traces.topic, traces.encoding,
// partition_traces_by_id, producer.allow_auto_topic_creation.
func collectorYAML(addr string, cfg CollectorConfig) string {
	brokers := make([]string, len(cfg.Brokers))
	for i, b := range cfg.Brokers {
		brokers[i] = strconv.Quote(b)
	}
	return fmt.Sprintf(`receivers:
  otlp:
    protocols:
      http:
        endpoint: %q
processors:
  batch:
    timeout: %s
exporters:
  kafka:
    brokers: [%s]
    traces:
      topic: %q
      encoding: %s
    partition_traces_by_id: %t
    producer:
      allow_auto_topic_creation: false
service:
  telemetry:
    metrics:
      level: none
    logs:
      level: info
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [kafka]
`, addr, cfg.BatchTimeout, strings.Join(brokers, ", "), cfg.Topic, cfg.Encoding, cfg.PartitionTracesByID)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// tail returns the last n lines of a file, or why it cannot.
func tail(path string, n int) string {
	f, err := os.Open(path)
	if err != nil {
		return err.Error()
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if len(lines) > n {
			lines = lines[1:]
		}
	}
	return strings.Join(lines, "\n")
}
