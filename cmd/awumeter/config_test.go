package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/awumeter/awumeter/internal/service"
)

// execute runs awumeter with args and returns stdout and stderr.
func execute(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	cmd := newRootCmd()
	var out, errOut bytes.Buffer
	cmd.SetArgs(args)
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	err := cmd.Execute()
	return out.String(), errOut.String(), err
}

func TestConfigCheckAcceptsTheSample(t *testing.T) {
	out, errOut, err := execute(t, "config", "check", "../../deploy/awumeter.example.yaml")
	if err != nil {
		t.Fatalf("err %v, stderr %s", err, errOut)
	}
	want := "../../deploy/awumeter.example.yaml: ok\n" +
		"re-keyed (not keyed_by_workcycle): agent-traces, through topic awumeter-rekey-repartition in group awumeter-rekey\n"
	if out != want {
		t.Fatalf("stdout %q, want %q", out, want)
	}
}

func TestConfigCheckListsEveryProblemAndExitsOne(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(path, []byte(`kafka:
  brokers: [nohost]
  topics:
    - name: telemetry
    - name: spans
      format: protobuf
clickhouse:
  batch:
    max_rows: 0
log:
  level: loud
`), 0o644); err != nil {
		t.Fatal(err)
	}
	_, errOut, err := execute(t, "config", "check", path)
	var code exitCode
	if !errors.As(err, &code) || code != 1 {
		t.Fatalf("err %v, want exit status 1", err)
	}
	for _, want := range []string{
		`kafka.brokers[0]: "nohost" must be host:port`,
		"kafka.topics[1].format: must be one of json, cloudevents, otlp_proto, otlp_json",
		"clickhouse.batch.max_rows: must be at least 1",
		"log.level: must be one of",
		"4 problem(s)",
	} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
}

func TestConfigCheckPrintRedactsSecrets(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(path, []byte("kafka:\n  topics: [{name: t}]\n  sasl: {mechanism: PLAIN, username: u, password: kafka-pw}\nclickhouse:\n  password: ch-pw\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, _, err := execute(t, "config", "check", "--print", path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out, "kafka-pw") || strings.Contains(out, "ch-pw") || !strings.Contains(out, "[redacted]") {
		t.Fatalf("secrets printed:\n%s", out)
	}
}

func TestRunRefusesAnInvalidConfiguration(t *testing.T) {
	_, _, err := execute(t, "run", "--set", "kafka.auto_offset_reset=beginning")
	if err == nil || !strings.Contains(err.Error(), "invalid configuration") {
		t.Fatalf("err %v", err)
	}
}

func TestFaultSpecIsChecked(t *testing.T) {
	for _, bad := range []string{"exit_after_insert", "exit_after_insert:0", "explode:3", "exit_in_rekey:x"} {
		if err := injectFault(bad, &service.Settings{}); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	var set service.Settings
	if err := injectFault("exit_after_insert:2", &set); err != nil || set.InsertObserver == nil {
		t.Fatalf("exit_after_insert:2: %v", err)
	}
	if err := injectFault("exit_in_rekey:3", &set); err != nil || set.RekeyBeforeEnd == nil {
		t.Fatalf("exit_in_rekey:3: %v", err)
	}
}
