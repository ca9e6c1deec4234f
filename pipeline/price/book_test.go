package price

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDefaultBookIsValid(t *testing.T) {
	b, err := Parse(defaultPricebookYAML)
	if err != nil {
		t.Fatalf("the embedded default price book is invalid: %v", err)
	}
	if got, want := strings.Join(b.Models(), ","), "gemini-3-flash,gemini-3-pro,claude-sonnet-4.6"; got != want {
		t.Errorf("models %s, want %s", got, want)
	}
	if Default() != Default() {
		t.Error("Default must return the same book")
	}
}

func TestDefaultBookPrices(t *testing.T) {
	// The published prices per 1M tokens, in force from 2025-01-01.
	for _, tc := range []struct {
		model                                        string
		input                                        int64
		in, out, cacheRead, cacheCreation, reasoning string
	}{
		{"gemini-3-flash", 0, "0.5", "3", "0.05", "0.5", "3"},
		{"gemini-3-pro", 200000, "2", "12", "0.2", "2", "12"},
		{"gemini-3-pro", 200001, "4", "18", "0.4", "4", "18"},
		{"claude-sonnet-4.6", 200000, "3", "15", "0.3", "3.75", "15"},
		{"claude-sonnet-4.6", 200001, "6", "22.5", "0.6", "7.5", "22.5"},
	} {
		r := mustRate(t, Default(), tc.model, jan2026, tc.input)
		p := r.Prices()
		got := []string{p.Input.String(), p.Output.String(), p.CacheRead.String(), p.CacheCreation.String(), p.Reasoning.String()}
		want := []string{tc.in, tc.out, tc.cacheRead, tc.cacheCreation, tc.reasoning}
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("%s with %d input tokens: prices %v, want %v", tc.model, tc.input, got, want)
		}
	}
	if _, ok := Default().Rate("gemini-3-pro", mustTime(t, "2024-12-31T23:59:59Z"), 0); ok {
		t.Error("a default price is in force before 2025-01-01")
	}
}

func TestGoodPriceBooks(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(fixtureDir, "good", "*.yaml"))
	if len(files) == 0 {
		t.Fatal("no fixtures")
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".yaml"), func(t *testing.T) {
			if _, err := Load(f); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// Each bad fixture starts with "# want: SUBSTRING" lines, one per error the
// validator must report.
func TestBadPriceBooks(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(fixtureDir, "bad", "*.yaml"))
	if len(files) == 0 {
		t.Fatal("no fixtures")
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".yaml"), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var wants []string
			sc := bufio.NewScanner(bytes.NewReader(data))
			for sc.Scan() {
				if w, ok := strings.CutPrefix(sc.Text(), "# want: "); ok {
					wants = append(wants, w)
				}
			}
			if len(wants) == 0 {
				t.Fatal(`the fixture has no "# want:" line`)
			}
			b, err := Parse(data)
			if err == nil {
				t.Fatalf("accepted, want errors %q", wants)
			}
			if b != nil {
				t.Error("returned a book with the error")
			}
			for _, w := range wants {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error:\n%v\nwant it to contain %q", err, w)
				}
			}
		})
	}
}

func TestLoadNamesTheFile(t *testing.T) {
	path := filepath.Join(fixtureDir, "bad", "negative_price.yaml")
	_, err := Load(path)
	if err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("error %v, want it to name %s", err, path)
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing.yaml")); err == nil {
		t.Error("loaded a missing file")
	}
}

func TestLoadOrDefault(t *testing.T) {
	b, err := LoadOrDefault("")
	if err != nil || b != Default() {
		t.Fatalf("LoadOrDefault(\"\") = %v, %v", b, err)
	}
	b, err = LoadOrDefault(filepath.Join(fixtureDir, "good", "minimal.yaml"))
	if err != nil || b.Models()[0] != "m" {
		t.Fatalf("LoadOrDefault(minimal) = %v, %v", b, err)
	}
}

func TestPricesAreReadAsExactText(t *testing.T) {
	// 0.1 has no exact float64; as text it is exact, and so are all six
	// decimal places a price per 1M tokens may have.
	b, err := Parse([]byte(`
models:
  - id: m
    prices:
      - {effective_from: 2025-01-01, input: 0.1, output: "0.123457"}
`))
	if err != nil {
		t.Fatal(err)
	}
	r := mustRate(t, b, "m", jan2026, 0)
	got := r.Cost(Usage{InputTokens: 3, OutputTokens: 1})
	if want := "0.000000423457"; got.String() != want {
		t.Errorf("cost %s, want %s", got, want)
	}
}
