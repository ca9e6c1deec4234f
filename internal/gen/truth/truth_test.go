package truth_test

import (
	"testing"
	"time"

	"github.com/awumeter/awumeter/internal/gen/truth"
	"github.com/awumeter/awumeter/pipeline/event"
	"github.com/awumeter/awumeter/pipeline/price"
)

// The truth is itself checked on a case small enough to add up by hand.
func TestRowsByHand(t *testing.T) {
	t0 := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	ev := func(id string, typ event.Type, s int) event.Event {
		return event.Event{EventID: id, Type: typ, Time: t0.Add(time.Duration(s) * time.Second), TenantID: "t", WorkcycleID: "w", AWUID: "a", Attempt: 1}
	}
	u1 := ev("1", event.TypeTokenUsage, 0)
	u1.Model, u1.InputTokens, u1.OutputTokens = "gemini-3-flash", 4000, 800 // $0.0044
	f := ev("2", event.TypeToolInvocation, 1)
	f.Tool, f.Status = "x", event.StatusFailed
	u2 := ev("3", event.TypeTokenUsage, 2)
	u2.Attempt, u2.Model, u2.InputTokens, u2.OutputTokens = 2, "gemini-3-flash", 4000, 800
	s := f
	s.EventID, s.Attempt, s.Status, s.Channel = "4", 2, event.StatusSucceeded, event.ChannelVoice
	wcs, awus := truth.Rows([]event.Event{u1, f, u2, s, u1}, price.Default())
	if len(wcs) != 1 || len(awus) != 1 {
		t.Fatalf("got %d workcycles and %d AWUs", len(wcs), len(awus))
	}
	w := wcs[0]
	if w.Version != 4 || w.Attempts != 2 || w.Retries != 1 || w.VoiceActions != 1 || w.Actions != 1 ||
		w.Credits != 30 || w.ListCost.String() != "0.15" || w.TokenCost.String() != "0.0088" || w.InputTokens != 8000 {
		t.Errorf("workcycle row %+v", w)
	}
}
