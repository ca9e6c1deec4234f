package gen

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/awumeter/awumeter/pipeline/event"
)

// wire is the native v1 JSON shape of an event. EventID, Type and Time are
// always set in native JSON; CloudEvents data leaves them to the envelope.
type wire struct {
	EventID        string `json:"event_id,omitempty"`
	Type           string `json:"type,omitempty"`
	Time           string `json:"time,omitempty"`
	TenantID       string `json:"tenant_id"`
	WorkcycleID    string `json:"workcycle_id"`
	AgentID        string `json:"agent_id,omitempty"`
	ConversationID string `json:"conversation_id,omitempty"`

	AWUID   string `json:"awu_id,omitempty"`
	Attempt int32  `json:"attempt,omitempty"`

	Model                    string `json:"model,omitempty"`
	Provider                 string `json:"provider,omitempty"`
	InputTokens              *int64 `json:"input_tokens,omitempty"`
	OutputTokens             *int64 `json:"output_tokens,omitempty"`
	CacheReadInputTokens     int64  `json:"cache_read_input_tokens,omitempty"`
	CacheCreationInputTokens int64  `json:"cache_creation_input_tokens,omitempty"`
	ReasoningTokens          int64  `json:"reasoning_tokens,omitempty"`

	Tool    string `json:"tool,omitempty"`
	Channel string `json:"channel,omitempty"`
	Status  string `json:"status,omitempty"`

	Phase       string `json:"phase,omitempty"`
	Outcome     string `json:"outcome,omitempty"`
	OutcomeType string `json:"outcome_type,omitempty"`
}

// Encode returns the native v1 JSON line of an event, without newline.
func Encode(ev *event.Event) []byte { return encode(ev) }

func encode(ev *event.Event) []byte { return marshal(wireOf(ev), ev.EventID) }

// wireOf maps an event to its native v1 fields.
func wireOf(ev *event.Event) wire {
	w := wire{
		EventID:        ev.EventID,
		Type:           ev.Type.String(),
		Time:           rfc3339(ev.Time),
		TenantID:       ev.TenantID,
		WorkcycleID:    ev.WorkcycleID,
		AgentID:        ev.AgentID,
		ConversationID: ev.ConversationID,
	}
	switch ev.Type {
	case event.TypeTokenUsage:
		w.AWUID, w.Attempt = ev.AWUID, ev.Attempt
		w.Model, w.Provider = ev.Model, ev.Provider
		in, out := ev.InputTokens, ev.OutputTokens
		w.InputTokens, w.OutputTokens = &in, &out
		w.CacheReadInputTokens = ev.CacheReadInputTokens
		w.CacheCreationInputTokens = ev.CacheCreationInputTokens
		w.ReasoningTokens = ev.ReasoningTokens
	case event.TypeToolInvocation:
		w.AWUID, w.Attempt = ev.AWUID, ev.Attempt
		w.Tool, w.Channel, w.Status = ev.Tool, ev.Channel.String(), ev.Status.String()
	case event.TypeWorkcycle:
		w.Phase, w.Outcome, w.OutcomeType = ev.Phase.String(), ev.Outcome, ev.OutcomeType
	}
	return w
}

// marshal encodes v, which holds only strings, integers and nested structs
// of them, so it cannot fail.
func marshal(v any, what string) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("gen: cannot encode %s: %v", what, err))
	}
	return b
}

// malformed returns a record that breaks one rule of the contract.
func (g *generator) malformed() []byte {
	id := g.id("bad")
	switch g.rng.IntN(6) {
	case 0:
		return []byte(`{"event_id": "` + id + `", "type": "token_usage", `) // truncated
	case 1:
		return []byte(`not json at all`)
	case 2:
		return fmt.Appendf(nil, `{"event_id":%q,"type":"token_usage","time":"2026-11-02T08:00:00Z","workcycle_id":"wc-x","awu_id":"a","model":"gemini-3-flash","input_tokens":10,"output_tokens":5}`, id)
	case 3:
		return fmt.Appendf(nil, `{"event_id":%q,"type":"token_usage","time":"2026-11-02T08:00:00Z","tenant_id":"tenant-01","workcycle_id":"wc-x","awu_id":"a","model":"gemini-3-flash","input_tokens":-10,"output_tokens":5}`, id)
	case 4:
		return fmt.Appendf(nil, `{"event_id":%q,"type":"heartbeat","time":"2026-11-02T08:00:00Z","tenant_id":"tenant-01","workcycle_id":"wc-x"}`, id)
	default:
		return fmt.Appendf(nil, `{"event_id":%q,"type":"token_usage","time":"2026-11-02T08:00:00Z","tenant_id":"tenant-01","workcycle_id":"wc-x","awu_id":"a","model":"gemini-3-flash","input_tokens":10,"cache_read_input_tokens":20,"output_tokens":5}`, id)
	}
}

// rfc3339 formats an event time as the contract writes it.
func rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }
