package decode

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

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

// goldenEvent is an event as golden files show it.
type goldenEvent struct {
	EventID                  string `json:"event_id"`
	Type                     string `json:"type"`
	Time                     string `json:"time"`
	TenantID                 string `json:"tenant_id"`
	WorkcycleID              string `json:"workcycle_id"`
	AgentID                  string `json:"agent_id,omitempty"`
	ConversationID           string `json:"conversation_id,omitempty"`
	AWUID                    string `json:"awu_id,omitempty"`
	Attempt                  int32  `json:"attempt,omitempty"`
	Model                    string `json:"model,omitempty"`
	Provider                 string `json:"provider,omitempty"`
	InputTokens              int64  `json:"input_tokens,omitempty"`
	OutputTokens             int64  `json:"output_tokens,omitempty"`
	CacheReadInputTokens     int64  `json:"cache_read_input_tokens,omitempty"`
	CacheCreationInputTokens int64  `json:"cache_creation_input_tokens,omitempty"`
	ReasoningTokens          int64  `json:"reasoning_tokens,omitempty"`
	Tool                     string `json:"tool,omitempty"`
	Channel                  string `json:"channel,omitempty"`
	Status                   string `json:"status,omitempty"`
	Phase                    string `json:"phase,omitempty"`
	Outcome                  string `json:"outcome,omitempty"`
	OutcomeType              string `json:"outcome_type,omitempty"`
}

func toGolden(e *event.Event) goldenEvent {
	g := goldenEvent{
		EventID: e.EventID, Type: e.Type.String(), Time: e.Time.Format(time.RFC3339Nano),
		TenantID: e.TenantID, WorkcycleID: e.WorkcycleID, AgentID: e.AgentID, ConversationID: e.ConversationID,
		AWUID: e.AWUID, Attempt: e.Attempt, Model: e.Model, Provider: e.Provider,
		InputTokens: e.InputTokens, OutputTokens: e.OutputTokens,
		CacheReadInputTokens: e.CacheReadInputTokens, CacheCreationInputTokens: e.CacheCreationInputTokens,
		ReasoningTokens: e.ReasoningTokens, Tool: e.Tool, Status: e.Status.String(),
		Phase: e.Phase.String(), Outcome: e.Outcome, OutcomeType: e.OutcomeType,
	}
	if e.Type == event.TypeToolInvocation {
		g.Channel = e.Channel.String()
	}
	return g
}

// goldenResult is everything one Decode call reports.
type goldenResult struct {
	Events     []goldenEvent `json:"events"`
	Rejections []Rejection   `json:"rejections,omitempty"`
	Ignored    Ignored       `json:"ignored"`
}

func toGoldenResult(evs []event.Event, res Result) goldenResult {
	g := goldenResult{Events: []goldenEvent{}, Rejections: res.Rejections, Ignored: res.Ignored}
	for i := range evs {
		g.Events = append(g.Events, toGolden(&evs[i]))
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
