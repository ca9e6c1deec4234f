package decode

import (
	"testing"

	"github.com/awumeter/awumeter/pipeline/event"
)

// The optional outcome fields of contract v1, as json and cloudevents
// decode them.
func TestOutcomeFields(t *testing.T) {
	const completed = `{"event_id":"e","time":"2026-03-01T12:00:00Z","tenant_id":"t","workcycle_id":"w","type":"workcycle","phase":"completed","outcome":"resolved"`
	const tool = `{"event_id":"e","time":"2026-03-01T12:00:00Z","tenant_id":"t","workcycle_id":"w","type":"tool_invocation","awu_id":"a","tool":"x"`
	for _, c := range []struct {
		name, json string
		want       event.Event // the fields compared
		reason     Reason
	}{
		{"minutes with decimals", completed + `,"human_minutes":12.5,"csat":4,"resolved_by":"human"}`,
			event.Event{HumanMillis: 750_000, CSAT: 4, ResolvedBy: event.ActorHuman}, ""},
		{"minutes in exponent form", completed + `,"human_minutes":1e1,"resolved_by":"agent"}`,
			event.Event{HumanMillis: 600_000, ResolvedBy: event.ActorAgent}, ""},
		{"3 decimals", completed + `,"human_minutes":0.001}`, event.Event{HumanMillis: 60}, ""},
		{"the bound", completed + `,"human_minutes":1000000}`, event.Event{HumanMillis: event.MaxHumanMillis}, ""},
		{"nulls", completed + `,"human_minutes":null,"csat":null,"resolved_by":null}`, event.Event{}, ""},
		{"above the bound", completed + `,"human_minutes":1000000.001}`, event.Event{}, ReasonBadHumanMinutes},
		{"4 decimals", completed + `,"human_minutes":0.0001}`, event.Event{}, ReasonBadHumanMinutes},
		{"a huge negative exponent", completed + `,"human_minutes":1e-2000000000}`, event.Event{}, ReasonBadHumanMinutes},
		{"a huge exponent", completed + `,"human_minutes":1e2000000000}`, event.Event{}, ReasonBadHumanMinutes},
		{"a long number", completed + `,"human_minutes":0.00000000000000000000000000000000001}`, event.Event{}, ReasonBadHumanMinutes},
		{"minutes as a string", completed + `,"human_minutes":"5"}`, event.Event{}, ReasonBadHumanMinutes},
		{"csat 0", completed + `,"csat":0}`, event.Event{}, ReasonBadCSAT},
		{"csat written 5.0", completed + `,"csat":5.0}`, event.Event{CSAT: 5}, ""},
		{"resolved_by a number", completed + `,"resolved_by":1}`, event.Event{}, ReasonBadResolvedBy},
		{"csat on a started event", `{"event_id":"e","time":"2026-03-01T12:00:00Z","tenant_id":"t","workcycle_id":"w","type":"workcycle","phase":"started","csat":5}`, event.Event{}, ReasonBadCSAT},
		{"rollback by a human", tool + `,"status":"rolled_back","by":"human"}`, event.Event{By: event.ActorHuman}, ""},
		{"validation by a system", tool + `,"status":"validated","by":"system"}`, event.Event{By: event.ActorSystem}, ""},
		{"by on a success", tool + `,"status":"succeeded","by":"system"}`, event.Event{}, ReasonBadBy},
		{"by null on a success", tool + `,"status":"succeeded","by":null}`, event.Event{}, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := newDecoder(t, FormatJSON)
			evs, res := d.Decode(&Record{Value: []byte(c.json)}, nil)
			if c.reason != "" {
				if len(res.Rejections) != 1 || res.Rejections[0].Reason != c.reason {
					t.Fatalf("got %v, want %s", res.Rejections, c.reason)
				}
				return
			}
			if len(evs) != 1 {
				t.Fatalf("rejected: %v", res.Rejections)
			}
			e := evs[0]
			if e.HumanMillis != c.want.HumanMillis || e.CSAT != c.want.CSAT || e.ResolvedBy != c.want.ResolvedBy || e.By != c.want.By {
				t.Fatalf("got human %d csat %d resolved_by %s by %s, want %+v", e.HumanMillis, e.CSAT, e.ResolvedBy, e.By, c.want)
			}
		})
	}
}
