package config

import (
	"strings"
	"testing"
)

const plantedSecret = "S3cr3t-planted-9f2c"

// No --set or environment error may show a value: a value may be a
// password, and errors go to terminals and log collectors.
func TestOverrideErrorsNeverShowTheValue(t *testing.T) {
	for _, c := range []struct {
		name    string
		src     Sources
		wantKey string
	}{
		{"a password with a colon instead of an equals sign names only the key",
			Sources{Env: noEnv, Set: []string{"clickhouse.password:" + plantedSecret}}, "clickhouse.password"},
		{"a SASL password with a space instead of an equals sign names only the key",
			Sources{Env: noEnv, Set: []string{"kafka.sasl.password " + plantedSecret}}, "kafka.sasl.password"},
		{"a bare secret is reported by its position",
			Sources{Env: noEnv, Set: []string{"kafka.group=g", plantedSecret}}, "--set argument 2"},
		{"a pasted secret before an equals sign is reported by its position",
			Sources{Env: noEnv, Set: []string{plantedSecret + "=x"}}, "--set argument 1"},
		{"a key and a secret joined by a space before an equals sign are reported by position",
			Sources{Env: noEnv, Set: []string{"kafka.group=g", "clickhouse.password " + plantedSecret + "=x"}}, "--set argument 2"},
		{"an unknown key of the usual shape is named",
			Sources{Env: noEnv, Set: []string{"clickhouse.pasword=" + plantedSecret}}, "--set clickhouse.pasword: no such key"},
		{"a value that does not parse is not quoted",
			Sources{Env: noEnv, Set: []string{"kafka.max_poll_records=" + plantedSecret}}, "kafka.max_poll_records"},
		{"a duration that does not parse is not quoted",
			Sources{Env: noEnv, Set: []string{"clickhouse.dial_timeout=" + plantedSecret}}, "clickhouse.dial_timeout"},
		{"an environment variable that does not parse is not quoted",
			Sources{Env: func(k string) (string, bool) {
				if k == "AWUMETER_HTTP_PPROF" {
					return plantedSecret, true
				}
				return "", false
			}}, "http.pprof"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Load("", c.src)
			if err == nil {
				t.Fatal("no error")
			}
			if strings.Contains(err.Error(), plantedSecret) {
				t.Fatalf("the error shows the value: %v", err)
			}
			if !strings.Contains(err.Error(), c.wantKey) {
				t.Fatalf("the error %q does not name %s", err, c.wantKey)
			}
			for _, p := range Problems(err) {
				if strings.Contains(p, plantedSecret) {
					t.Fatalf("a problem shows the value: %s", p)
				}
			}
		})
	}
}

// Secrets from every source are redacted from the printed configuration.
func TestPrintedConfigurationRedactsEverySecret(t *testing.T) {
	for _, c := range []struct {
		name string
		src  Sources
	}{
		{"a ClickHouse password from --set", Sources{Env: noEnv, Set: []string{"clickhouse.password=" + plantedSecret}}},
		{"a ClickHouse password from the environment", Sources{Env: func(k string) (string, bool) {
			if k == "AWUMETER_CLICKHOUSE_PASSWORD" {
				return plantedSecret, true
			}
			return "", false
		}}},
		{"a SASL password from --set", Sources{Env: noEnv, Set: []string{"kafka.sasl.mechanism=PLAIN",
			"kafka.sasl.username=u", "kafka.sasl.password=" + plantedSecret}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := Load("", c.src)
			if out := cfg.String(); strings.Contains(out, plantedSecret) || !strings.Contains(out, redacted) {
				t.Fatalf("the printed configuration shows the secret or no redaction:\n%s", out)
			}
			if err != nil && strings.Contains(err.Error(), plantedSecret) {
				t.Fatalf("the error shows the secret: %v", err)
			}
		})
	}
}
