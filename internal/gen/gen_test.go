package gen_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/awumeter/awumeter/internal/gen"
)

func TestGenerateIsSeeded(t *testing.T) {
	cfg := gen.DefaultConfig()
	cfg.Workcycles = 100
	var a, b bytes.Buffer
	s1, err := gen.Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s2, _ := gen.Generate(cfg)
	s1.WriteTo(&a)
	s2.WriteTo(&b)
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("same config, different bytes")
	}
}

func TestGenerateModelsTheMix(t *testing.T) {
	cfg := gen.DefaultConfig()
	cfg.Workcycles = 500
	cfg.ConflictRate = 0.01
	s, err := gen.Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[gen.Kind]int{}
	for _, r := range s.Records {
		kinds[r.Kind]++
	}
	for _, k := range []gen.Kind{gen.KindOriginal, gen.KindDuplicate, gen.KindConflict, gen.KindMalformed} {
		if kinds[k] == 0 {
			t.Errorf("no records of kind %d", k)
		}
	}
	var buf bytes.Buffer
	s.WriteTo(&buf)
	text := buf.String()
	for _, want := range []string{`"channel":"voice"`, `"status":"validated"`, `"status":"rolled_back"`, `"status":"failed"`,
		`"attempt":2`, gen.UnknownModel, `"phase":"completed"`, `"cache_read_input_tokens"`, `"reasoning_tokens"`} {
		if !strings.Contains(text, want) {
			t.Errorf("no %s in the generated telemetry", want)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	cfg := gen.DefaultConfig()
	cfg.Workcycles, cfg.LateRate = 0, 1.5
	err := cfg.Validate()
	if err == nil || !strings.Contains(err.Error(), "workcycles") || !strings.Contains(err.Error(), "late rate") {
		t.Fatalf("got %v, want errors naming workcycles and late rate", err)
	}
}
