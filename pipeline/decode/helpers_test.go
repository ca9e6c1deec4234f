package decode

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/awumeter/awumeter/internal/gen"
	"github.com/awumeter/awumeter/pipeline/event"
)

var update = flag.Bool("update", false, "rewrite golden files and generated fixtures in testdata/decode")

// testdataDir is the repository's shared testdata/decode folder.
const testdataDir = "../../testdata/decode"

// fixedNow is the clock every test decodes against.
var fixedNow = time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)

func testSettings() Settings { return Settings{Now: func() time.Time { return fixedNow }} }

func newDecoder(t testing.TB, format string) Decoder {
	t.Helper()
	d, err := New(format, DefaultConfig(), testSettings())
	if err != nil {
		t.Fatalf("New(%q): %v", format, err)
	}
	return d
}

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// goldenResult is everything one Decode call reports.
// Events are shown as native v1 JSON, as internal/gen encodes them.
type goldenResult struct {
	Events     []json.RawMessage `json:"events"`
	Rejections []Rejection       `json:"rejections,omitempty"`
	Ignored    Ignored           `json:"ignored"`
}

func toGoldenResult(evs []event.Event, res Result) goldenResult {
	g := goldenResult{Events: []json.RawMessage{}, Rejections: res.Rejections, Ignored: res.Ignored}
	for i := range evs {
		g.Events = append(g.Events, gen.Encode(&evs[i]))
	}
	return g
}

// checkGolden compares got, as indented JSON, with testdata/decode/golden/name.
func checkGolden(t *testing.T, name string, got any) {
	t.Helper()
	b, err := json.MarshalIndent(got, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	b = append(b, '\n')
	path := filepath.Join(testdataDir, "golden", name)
	if *update {
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want := readFile(t, path)
	if string(want) != string(b) {
		t.Errorf("%s differs from the golden file (run go test -update to accept):\ngot:\n%s\nwant:\n%s", path, b, want)
	}
}
