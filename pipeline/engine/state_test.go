package engine_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/awumeter/awumeter/pipeline/event"
)

// TestAWUStateOverflow covers the rare shapes of AWU state: attempts above
// 64, usage at several rates in one AWU, and workcycles with more AWUs than
// are found by scanning. Every order of the events gives the same rows.
func TestAWUStateOverflow(t *testing.T) {
	b := &builder{tenant: "t", wc: "wc"}
	evs := []event.Event{
		b.tokens(1, "x", 1, "gemini-3-flash", 1000, 100),  // $0.0008
		b.tokens(2, "x", 65, "gemini-3-pro", 1000, 100),   // $0.0032
		b.tokens(3, "x", 100, "mystery-model", 700, 300),  // unpriced
		b.tokens(4, "x", 65, "gemini-3-flash", 1000, 100), // $0.0008
		b.tool(5, "x", 200, event.StatusFailed, event.ChannelText),
		b.tool(6, "x", 100, event.StatusSucceeded, event.ChannelVoice),
	}
	for i := range 20 {
		evs = append(evs, b.tokens(10+i, fmt.Sprintf("a%02d", i), int32(1+i%3), "gemini-3-flash", 10, 10))
	}
	check := func(order string, evs []event.Event) {
		w, a := runRules(t, evs...)
		x := a["x"]
		if x.Attempts != 4 || x.InputTokens != 3700 || x.OutputTokens != 600 || x.UnpricedTokens != 1000 ||
			x.TokenCost.String() != "0.0048" || x.Status != "succeeded" || x.Channel != "voice" {
			t.Errorf("%s: AWU x: attempts %d tokens %d/%d unpriced %d cost %s status %s channel %s, want 4 3700/600 1000 0.0048 succeeded voice",
				order, x.Attempts, x.InputTokens, x.OutputTokens, x.UnpricedTokens, x.TokenCost, x.Status, x.Channel)
		}
		if len(a) != 21 {
			t.Errorf("%s: %d AWUs, want 21", order, len(a))
		}
		for i := range 20 {
			if got := a[fmt.Sprintf("a%02d", i)]; got.Attempts != 1 || got.InputTokens != 10 {
				t.Errorf("%s: AWU a%02d: attempts %d input %d, want 1 10", order, i, got.Attempts, got.InputTokens)
			}
		}
		wc := w["wc"]
		if wc.AWUs != 21 || wc.Attempts != 24 || wc.Retries != 3 || wc.InputTokens != 3900 || wc.Version != uint64(len(evs)) {
			t.Errorf("%s: workcycle awus %d attempts %d retries %d input %d version %d, want 21 24 3 3900 %d",
				order, wc.AWUs, wc.Attempts, wc.Retries, wc.InputTokens, wc.Version, len(evs))
		}
	}
	check("in order", slices.Clone(evs))
	rev := slices.Clone(evs)
	slices.Reverse(rev)
	check("reversed", rev)
}

// TestContentHashCoversContent checks what the engine relies on to tell a
// conflict from a duplicate: every content field changes event.ContentHash,
// Source does not, and moving a value between fields is seen.
func TestContentHashCoversContent(t *testing.T) {
	base := event.Event{
		EventID: "e1", Type: event.TypeTokenUsage, Time: at(1), TenantID: "t", WorkcycleID: "wc",
		AgentID: "a", ConversationID: "c", AWUID: "x", Attempt: 1, Model: "m", Provider: "p",
		InputTokens: 10, OutputTokens: 5, CacheReadInputTokens: 2, CacheCreationInputTokens: 1, ReasoningTokens: 1,
		Tool: "tool", Channel: event.ChannelText, Status: event.StatusSucceeded,
		Phase: event.PhaseNone, Outcome: "o", OutcomeType: "ot",
	}
	h := base.ContentHash()
	moved := base
	moved.Source = event.Position{Topic: "other", Partition: 3, Offset: 99}
	if moved.ContentHash() != h {
		t.Error("Source changes the content hash")
	}
	for name, change := range map[string]func(*event.Event){
		"EventID":                     func(e *event.Event) { e.EventID = "e2" },
		"Type":                        func(e *event.Event) { e.Type = event.TypeToolInvocation },
		"Time":                        func(e *event.Event) { e.Time = e.Time.Add(1) },
		"TenantID":                    func(e *event.Event) { e.TenantID = "u" },
		"WorkcycleID":                 func(e *event.Event) { e.WorkcycleID = "wd" },
		"AgentID":                     func(e *event.Event) { e.AgentID = "" },
		"ConversationID":              func(e *event.Event) { e.ConversationID = "d" },
		"AWUID":                       func(e *event.Event) { e.AWUID = "y" },
		"Attempt":                     func(e *event.Event) { e.Attempt = 2 },
		"Model":                       func(e *event.Event) { e.Model = "n" },
		"Provider":                    func(e *event.Event) { e.Provider = "q" },
		"InputTokens":                 func(e *event.Event) { e.InputTokens++ },
		"OutputTokens":                func(e *event.Event) { e.OutputTokens++ },
		"CacheReadInputTokens":        func(e *event.Event) { e.CacheReadInputTokens++ },
		"CacheCreationInputTokens":    func(e *event.Event) { e.CacheCreationInputTokens++ },
		"ReasoningTokens":             func(e *event.Event) { e.ReasoningTokens++ },
		"Tool":                        func(e *event.Event) { e.Tool = "other" },
		"Channel":                     func(e *event.Event) { e.Channel = event.ChannelVoice },
		"Status":                      func(e *event.Event) { e.Status = event.StatusFailed },
		"Phase":                       func(e *event.Event) { e.Phase = event.PhaseCompleted },
		"Outcome":                     func(e *event.Event) { e.Outcome = "p" },
		"OutcomeType":                 func(e *event.Event) { e.OutcomeType = "" },
		"swap agent and conversation": func(e *event.Event) { e.AgentID, e.ConversationID = e.ConversationID, e.AgentID },
		"move a byte between ids":     func(e *event.Event) { e.TenantID, e.WorkcycleID = "tw", "c" },
	} {
		ev := base
		change(&ev)
		if ev.ContentHash() == h {
			t.Errorf("changing %s keeps the content hash", name)
		}
	}
}
