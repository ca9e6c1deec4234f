package logging

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"go.uber.org/zap"
)

func TestAutoFormatIsJSONWhenNotATerminal(t *testing.T) {
	var buf bytes.Buffer
	log, err := NewTo(DefaultConfig(), &buf, false)
	if err != nil {
		t.Fatal(err)
	}
	log.Info("started", zap.String("group", "awumeter"))
	var line map[string]any
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
		t.Fatalf("not a JSON line: %q: %v", buf.String(), err)
	}
	if line["msg"] != "started" || line["group"] != "awumeter" || line["level"] != "info" {
		t.Fatalf("unexpected line %v", line)
	}
}

func TestAutoFormatIsConsoleOnATerminal(t *testing.T) {
	var buf bytes.Buffer
	log, err := NewTo(DefaultConfig(), &buf, true)
	if err != nil {
		t.Fatal(err)
	}
	log.Info("started")
	if strings.HasPrefix(buf.String(), "{") || !strings.Contains(buf.String(), "started") {
		t.Fatalf("want a console line, got %q", buf.String())
	}
}

func TestLevelFiltersLowerLevels(t *testing.T) {
	var buf bytes.Buffer
	log, err := NewTo(Config{Level: "warn", Format: FormatJSON}, &buf, false)
	if err != nil {
		t.Fatal(err)
	}
	log.Info("hidden")
	log.Warn("shown")
	if strings.Contains(buf.String(), "hidden") || !strings.Contains(buf.String(), "shown") {
		t.Fatalf("got %q", buf.String())
	}
}

func TestValidateNamesEveryBadKey(t *testing.T) {
	err := Config{Level: "loud", Format: "xml"}.Validate()
	if err == nil {
		t.Fatal("want an error")
	}
	for _, want := range []string{"log.level: must be one of", "log.format: must be one of auto, json, console"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
}
