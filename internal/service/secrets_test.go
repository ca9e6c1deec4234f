package service

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/awumeter/awumeter/internal/config"
	"github.com/awumeter/awumeter/internal/logging"
	"github.com/awumeter/awumeter/internal/service/servicetest"
	"github.com/awumeter/awumeter/internal/testenv"
	"github.com/awumeter/awumeter/pipeline/migrate"
)

// Distinctive secrets: each must never leave the process.
const (
	chSecret   = "ch-S3cr3t-7d41e9"
	saslSecret = "sasl-S3cr3t-52bc0a"
)

// secretSource is one way to hand the service a secret.
type secretSource struct {
	name   string
	secret string
	set    []string
	env    map[string]string
	file   string // contents of clickhouse.password_file
}

func secretSources() []secretSource {
	return []secretSource{
		{name: "a ClickHouse password from --set", secret: chSecret, set: []string{"clickhouse.password=" + chSecret}},
		{name: "a ClickHouse password from the environment", secret: chSecret, env: map[string]string{"AWUMETER_CLICKHOUSE_PASSWORD": chSecret}},
		{name: "a ClickHouse password from a file", secret: chSecret, file: chSecret + "\n"},
		{name: "a SASL password from --set", secret: saslSecret, set: []string{"kafka.sasl.mechanism=PLAIN",
			"kafka.sasl.username=metering", "kafka.sasl.password=" + saslSecret}},
	}
}

// load builds the configuration as awumeter run would, from a file with
// the given brokers and ClickHouse address plus the source's secret.
func (src secretSource) load(t *testing.T, brokers, chAddr string, extraSet ...string) config.Config {
	t.Helper()
	dir := t.TempDir()
	passwordFile := ""
	if src.file != "" {
		pw := filepath.Join(dir, "ch-password")
		if err := os.WriteFile(pw, []byte(src.file), 0o600); err != nil {
			t.Fatal(err)
		}
		passwordFile = "  password_file: " + pw + "\n"
	}
	yaml := "kafka:\n  brokers: [" + brokers + "]\n  topics:\n    - name: telemetry\n  dead_letter_topic: dlq\n" +
		"clickhouse:\n  addrs: [" + chAddr + "]\n  dial_timeout: 2s\n" + passwordFile +
		"http:\n  listen: 127.0.0.1:0\n  pprof: true\n"
	path := filepath.Join(dir, "awumeter.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	env := func(k string) (string, bool) { v, ok := src.env[k]; return v, ok }
	cfg, err := config.Load(path, config.Sources{Env: env, Set: append(append([]string(nil), src.set...), extraSet...)})
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	return cfg
}

// plantArgs makes os.Args look like `awumeter run --set ...` with the
// source's --set flags, as pprof's cmdline would read them.
func plantArgs(t *testing.T, src secretSource) {
	t.Helper()
	saved := os.Args
	args := []string{"awumeter", "run"}
	for _, s := range src.set {
		args = append(args, "--set", s)
	}
	args = append(args, "--set", "clickhouse.password="+chSecret)
	os.Args = args
	t.Cleanup(func() { os.Args = saved })
}

// surfaces fetches every HTTP answer of the service.
func surfaces(t *testing.T, base string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, p := range []string{"/metrics", "/healthz", "/readyz", "/debug/pprof/", "/debug/pprof/cmdline",
		"/debug/pprof/goroutine?debug=2", "/debug/pprof/symbol"} {
		resp, err := http.Get(base + p)
		if err != nil {
			t.Fatalf("GET %s: %v", p, err)
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatalf("GET %s: %v", p, err)
		}
		out[p] = string(b)
	}
	return out
}

func requireNoSecret(t *testing.T, surface, text string) {
	t.Helper()
	for _, s := range []string{chSecret, saslSecret} {
		if strings.Contains(text, s) {
			t.Errorf("%s shows a planted secret:\n%s", surface, text)
		}
	}
}

// The HTTP surfaces of a service that has not started consuming: /metrics,
// /healthz, /readyz and every pprof endpoint, with the secret on the
// command line.
func TestHTTPNeverServesASecret(t *testing.T) {
	for _, src := range secretSources() {
		t.Run(src.name+" is not served over HTTP", func(t *testing.T) {
			plantArgs(t, src)
			s, err := New(src.load(t, "127.0.0.1:1", "127.0.0.1:1"), Settings{Version: "test"})
			if err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewServer(s.handler())
			defer srv.Close()
			got := surfaces(t, srv.URL)
			for p, body := range got {
				requireNoSecret(t, p, body)
			}
			if !strings.Contains(got["/debug/pprof/"], "goroutine") {
				t.Fatalf("the pprof index is not served:\n%s", got["/debug/pprof/"])
			}
		})
	}
}

// A start that fails, against a ClickHouse or Kafka that refuses or is
// absent: neither its error nor the debug log holds the secret.
func TestFailedStartNeverShowsASecret(t *testing.T) {
	chAddr := "127.0.0.1:1"
	if !testing.Short() && testenv.Required() {
		chAddr = testenv.ClickHouseAddr() // a real server that refuses the password
	}
	for _, src := range secretSources() {
		t.Run(src.name+" is not in the error or the log", func(t *testing.T) {
			var logs bytes.Buffer
			log, err := logging.NewTo(logging.Config{Level: "debug", Format: logging.FormatJSON}, &logs, false)
			if err != nil {
				t.Fatal(err)
			}
			s, err := New(src.load(t, "127.0.0.1:1", chAddr), Settings{Version: "test", Logger: log})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			err = s.Start(ctx)
			if err == nil {
				s.Shutdown(context.Background())
				t.Fatal("the service started against an unreachable broker")
			}
			t.Logf("start error: %v", err)
			requireNoSecret(t, "the start error", err.Error())
			_ = log.Sync()
			requireNoSecret(t, "the debug log", logs.String())
		})
	}
}

// A service that runs, with SASL against a broker that requires it and
// with debug logging: the log, /metrics, /readyz, /healthz and pprof never
// show the SASL password.
func TestRunningServiceNeverShowsTheSASLPassword(t *testing.T) {
	ch := testenv.NewClickHouse(t)
	ctx := testenv.Context(t, time.Minute)
	if _, err := migrate.Up(ctx, ch.Conn, migrate.Options{Database: ch.Database}); err != nil {
		t.Fatal(err)
	}
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "telemetry"), kfake.SeedTopics(1, "dlq"),
		kfake.EnableSASL(), kfake.Superuser("PLAIN", "metering", saslSecret))
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Close()
	src := secretSources()[3]
	plantArgs(t, src)
	cfg := src.load(t, strings.Join(cluster.ListenAddrs(), ","), ch.Addr, "clickhouse.database="+ch.Database)
	cfg.Kafka.SessionTimeout = 6 * time.Second
	cfg.Engine = servicetest.EngineConfig()

	var logs bytes.Buffer
	log, err := logging.NewTo(logging.Config{Level: "debug", Format: logging.FormatJSON}, &logs, false)
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(cfg, Settings{Version: "test", Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(ctx); err != nil {
		t.Fatalf("start with SASL: %v", err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for ok, _ := s.Ready(); !ok && time.Now().Before(deadline); ok, _ = s.Ready() {
		time.Sleep(100 * time.Millisecond)
	}
	if ok, why := s.Ready(); !ok {
		t.Fatalf("not ready with SASL: %s", why)
	}
	for p, body := range surfaces(t, "http://"+s.Addr().String()) {
		requireNoSecret(t, p, body)
	}
	if err := s.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	_ = log.Sync()
	if !strings.Contains(logs.String(), "awumeter is running") {
		t.Fatalf("the log lacks the start line; the test proves nothing:\n%s", logs.String())
	}
	requireNoSecret(t, "the debug log", logs.String())
}
