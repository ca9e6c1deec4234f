package config

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/awumeter/awumeter/pipeline/source"
)

func noEnv(string) (string, bool) { return "", false }

// Each file in testdata/config is invalid; its first line names a problem
// the error must contain.
func TestInvalidConfigsNameTheirProblem(t *testing.T) {
	files, err := filepath.Glob("testdata/config/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no test configs: %v", err)
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".yaml"), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			first, _, _ := strings.Cut(string(data), "\n")
			want, ok := strings.CutPrefix(first, "# want: ")
			if !ok {
				t.Fatalf("first line %q lacks '# want: '", first)
			}
			_, err = Load(f, Sources{Env: noEnv})
			if err == nil {
				t.Fatalf("no error, want %q", want)
			}
			if !strings.Contains(err.Error(), want) {
				t.Fatalf("error\n%v\ndoes not contain %q", err, want)
			}
		})
	}
}

func TestExampleConfigIsValid(t *testing.T) {
	cfg, err := Load("../../deploy/awumeter.example.yaml", Sources{Env: noEnv})
	if err != nil {
		t.Fatalf("the annotated sample is invalid:\n%v", err)
	}
	if got := cfg.Kafka.Topics[1].Format; got != "otlp_proto" {
		t.Fatalf("topics[1].format = %q", got)
	}
}

// The sample shows every default: loading it must give Default() plus its
// topics and dead-letter topic, so the sample cannot drift from the code.
func TestExampleConfigShowsTheDefaults(t *testing.T) {
	cfg, err := Load("../../deploy/awumeter.example.yaml", Sources{Env: noEnv})
	if err != nil {
		t.Fatal(err)
	}
	want := Default()
	want.Kafka.Topics = cfg.Kafka.Topics
	want.Kafka.DeadLetterTopic = cfg.Kafka.DeadLetterTopic
	want.Guards.Rules = cfg.Guards.Rules
	if cfg.String() != want.String() {
		t.Fatalf("sample:\n%s\ndefaults:\n%s", cfg, want)
	}
}

// The sample shows the three rules of docs/guards.md.
func TestExampleConfigShowsThreeGuards(t *testing.T) {
	cfg, err := Load("../../deploy/awumeter.example.yaml", Sources{Env: noEnv})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range cfg.Guards.Rules {
		got = append(got, r.Name+" "+r.On+" "+r.Metric+" > "+r.Above.String())
	}
	want := []string{
		"workcycle-over-5-usd workcycle token_cost > 5",
		"workcycle-over-50-attempts workcycle attempts > 50",
		"tenant-over-100-usd-an-hour tenant_hour token_cost > 100",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("rules:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// A rule without above, or with an above that is not a number, is
// refused by key.
func TestAGuardRuleNeedsAboveAsANumber(t *testing.T) {
	for _, c := range []struct{ above, want string }{
		{"", "guards.rules[0].above: required (the value the rule's metric must exceed)"},
		{"above: 5 USD", `guards.rules[0].above: "5 USD" is not a number (write e.g. 5 or 0.25; USD for costs)`},
		{"above: .inf", `guards.rules[0].above: "+Inf" is not a number (write e.g. 5 or 0.25; USD for costs)`},
		{"above: [1]", `guards.rules[0].above: "[1]" is not a number (write e.g. 5 or 0.25; USD for costs)`},
	} {
		cfg := Default()
		err := Decode([]byte("guards:\n  rules:\n    - {name: a, on: workcycle, metric: token_cost, "+c.above+"}\n"), &cfg)
		if err == nil || err.Error() != c.want {
			t.Errorf("%q: err = %v, want %s", c.above, err, c.want)
		}
	}
	for _, above := range []string{"above: 5", "above: 0.25", `above: "0.000000000001"`, "above: 1e3"} {
		cfg := Default()
		if err := Decode([]byte("guards:\n  rules:\n    - {name: a, on: workcycle, metric: token_cost, "+above+"}\n"), &cfg); err != nil {
			t.Errorf("%q: %v", above, err)
		}
	}
}

func TestEveryProblemIsListed(t *testing.T) {
	cfg := Default()
	cfg.Kafka.Topics = []source.TopicConfig{{Name: "a", Format: "xml"}, {Name: "", Format: "json"}}
	cfg.Kafka.Topics[1].Decode = source.DefaultTopicConfig().Decode
	cfg.ClickHouse.Batch.MaxRows = 0
	cfg.ShutdownTimeout = 0
	problems := Problems(cfg.Validate())
	for _, want := range []string{"kafka.topics[0].format", "kafka.topics[1].name", "clickhouse.batch.max_rows", "shutdown_timeout"} {
		found := false
		for _, p := range problems {
			found = found || strings.HasPrefix(p, want)
		}
		if !found {
			t.Errorf("no problem for %s in %q", want, problems)
		}
	}
}

func TestEnvironmentOverridesTheFile(t *testing.T) {
	env := map[string]string{
		"AWUMETER_KAFKA_BROKERS":                  "k1:9092, k2:9092",
		"AWUMETER_KAFKA_COMMIT_INTERVAL":          "5s",
		"AWUMETER_CLICKHOUSE_PASSWORD":            "s3cr#t: {yaml}",
		"AWUMETER_KAFKA_SASL_MECHANISM":           "PLAIN",
		"AWUMETER_KAFKA_SASL_USERNAME":            "meter",
		"AWUMETER_KAFKA_SASL_PASSWORD":            "hunter2",
		"AWUMETER_HTTP_PPROF":                     "true",
		"AWUMETER_ENGINE_SETTLE_DELAY":            "1m",
		"AWUMETER_CLICKHOUSE_MAX_PENDING_BATCHES": "8",
		"AWUMETER_UNRELATED_SETTING_XYZ_":         "ignored",
	}
	cfg, err := Load("../../deploy/awumeter.example.yaml", Sources{
		Env: func(k string) (string, bool) { v, ok := env[k]; return v, ok },
		Set: []string{"kafka.group=billing", "engine.settle_delay=2m"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(cfg.Kafka.Brokers, ",") != "k1:9092,k2:9092" || cfg.Kafka.CommitInterval != 5*time.Second ||
		cfg.ClickHouse.Password != "s3cr#t: {yaml}" || !cfg.HTTP.Pprof || cfg.ClickHouse.MaxPendingBatches != 8 ||
		cfg.Kafka.SASL.Password != "hunter2" {
		t.Fatalf("environment not applied: %+v", cfg)
	}
	if cfg.Kafka.Group != "billing" || cfg.Engine.SettleDelay != 2*time.Minute {
		t.Fatalf("--set must win over the environment: group %q, settle_delay %s", cfg.Kafka.Group, cfg.Engine.SettleDelay)
	}
}

func TestSetRejectsUnknownKeysAndBadValues(t *testing.T) {
	cfg := Default()
	if err := Set(&cfg, "kafka.nope", "1"); err == nil {
		t.Error("unknown key accepted")
	}
	if err := Set(&cfg, "kafka.commit_interval", "often"); err == nil {
		t.Error("bad duration accepted")
	}
	if err := Set(&cfg, "kafka.topics", "a"); err == nil {
		t.Error("a list of sections was set from a flag")
	}
}

func TestSecretsAreRedacted(t *testing.T) {
	cfg := Default()
	cfg.ClickHouse.Password = "ch-secret"
	cfg.Kafka.SASL.Password = "kafka-secret"
	s := cfg.String()
	if strings.Contains(s, "ch-secret") || strings.Contains(s, "kafka-secret") || !strings.Contains(s, "[redacted]") {
		t.Fatalf("secrets leak:\n%s", s)
	}
	if cfg.ClickHouse.Password != "ch-secret" {
		t.Fatal("Redacted changed the original")
	}
}

func TestEveryKeyHasAnEnvironmentVariable(t *testing.T) {
	keys := strings.Join(Keys(), " ")
	for _, k := range []string{"kafka.brokers", "kafka.sasl.password", "clickhouse.password_file", "clickhouse.batch.flush_interval", "clickhouse.insert_timeout", "engine.closed_retention", "http.listen", "log.level", "shutdown_timeout"} {
		if !strings.Contains(" "+keys+" ", " "+k+" ") {
			t.Errorf("no key %s in %s", k, keys)
		}
	}
	if EnvName("kafka.sasl.password") != "AWUMETER_KAFKA_SASL_PASSWORD" {
		t.Fatal(EnvName("kafka.sasl.password"))
	}
	if EnvName("clickhouse.batch.max_rows") != "AWUMETER_CLICKHOUSE_BATCH_MAX_ROWS" {
		t.Fatal(EnvName("clickhouse.batch.max_rows"))
	}
}

// The sample names every key of the configuration, so that a reader finds
// each one with its default (lists of sections are shown by example).
func TestExampleConfigNamesEveryKey(t *testing.T) {
	data, err := os.ReadFile("../../deploy/awumeter.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var sample map[string]any
	if err := yaml.Unmarshal(data, &sample); err != nil {
		t.Fatal(err)
	}
	defaults, err := yaml.Marshal(Default())
	if err != nil {
		t.Fatal(err)
	}
	var all map[string]any
	if err := yaml.Unmarshal(defaults, &all); err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, k := range leafKeys("", sample) {
		have[k] = true
	}
	for _, k := range leafKeys("", all) {
		if !have[k] {
			t.Errorf("deploy/awumeter.example.yaml does not show %s", k)
		}
	}
}

// leafKeys lists the dotted paths of m's scalar values; lists count as
// leaves.
func leafKeys(prefix string, m map[string]any) []string {
	var out []string
	for k, v := range m {
		if sub, ok := v.(map[string]any); ok && len(sub) > 0 {
			out = append(out, leafKeys(prefix+k+".", sub)...)
			continue
		}
		out = append(out, prefix+k)
	}
	return out
}

// ClickHouse takes a client certificate under the same keys as Kafka, from
// the file, the environment or --set.
func TestClickHouseClientCertificateKeys(t *testing.T) {
	env := map[string]string{"AWUMETER_CLICKHOUSE_TLS_KEY_FILE": "/k.pem"}
	cfg, err := Load("", Sources{
		Env: func(k string) (string, bool) { v, ok := env[k]; return v, ok },
		Set: []string{"clickhouse.tls.enabled=true", "clickhouse.tls.cert_file=/c.pem"},
	})
	if err != nil && !strings.Contains(err.Error(), "kafka.topics") {
		t.Fatal(err)
	}
	if got := cfg.ClickHouse.TLS; got.CertFile != "/c.pem" || got.KeyFile != "/k.pem" || !got.Enabled {
		t.Errorf("clickhouse.tls = %+v", got)
	}
	for _, k := range []string{"clickhouse.tls.cert_file", "clickhouse.tls.key_file", "kafka.tls.cert_file", "kafka.tls.key_file"} {
		if !slices.Contains(Keys(), k) {
			t.Errorf("Keys() lacks %s", k)
		}
	}
}
