package event

import (
	"encoding/binary"
	"hash/maphash"
	"math/bits"
	"time"
)

// Type is the kind of telemetry an event reports.
type Type uint8

const (
	TypeUnknown Type = iota
	TypeTokenUsage
	TypeToolInvocation
	TypeWorkcycle
)

// String returns the contract name of the type, as written in the `type` field.
func (t Type) String() string {
	switch t {
	case TypeTokenUsage:
		return "token_usage"
	case TypeToolInvocation:
		return "tool_invocation"
	case TypeWorkcycle:
		return "workcycle"
	}
	return "unknown"
}

// ParseType maps a contract name to its Type; ok is false for any other name.
func ParseType(s string) (Type, bool) {
	switch s {
	case "token_usage":
		return TypeTokenUsage, true
	case "tool_invocation":
		return TypeToolInvocation, true
	case "workcycle":
		return TypeWorkcycle, true
	}
	return TypeUnknown, false
}

// Channel is how a tool action reached the user; voice actions cost more list credits.
type Channel uint8

const (
	ChannelText Channel = iota
	ChannelVoice
)

func (c Channel) String() string {
	if c == ChannelVoice {
		return "voice"
	}
	return "text"
}

// ParseChannel maps "text" or "voice" to a Channel; "" means text.
func ParseChannel(s string) (Channel, bool) {
	switch s {
	case "", "text":
		return ChannelText, true
	case "voice":
		return ChannelVoice, true
	}
	return ChannelText, false
}

// ToolStatus is what a tool_invocation event reports about one attempt.
// Validated and RolledBack report on an earlier successful attempt.
type ToolStatus uint8

const (
	StatusNone ToolStatus = iota
	StatusSucceeded
	StatusFailed
	StatusValidated
	StatusRolledBack
)

func (s ToolStatus) String() string {
	switch s {
	case StatusSucceeded:
		return "succeeded"
	case StatusFailed:
		return "failed"
	case StatusValidated:
		return "validated"
	case StatusRolledBack:
		return "rolled_back"
	}
	return ""
}

// ParseToolStatus maps a contract status name to a ToolStatus.
func ParseToolStatus(s string) (ToolStatus, bool) {
	switch s {
	case "succeeded":
		return StatusSucceeded, true
	case "failed":
		return StatusFailed, true
	case "validated":
		return StatusValidated, true
	case "rolled_back":
		return StatusRolledBack, true
	}
	return StatusNone, false
}

// Phase is the lifecycle step a workcycle event reports.
type Phase uint8

const (
	PhaseNone Phase = iota
	PhaseStarted
	PhaseCompleted
)

func (p Phase) String() string {
	switch p {
	case PhaseStarted:
		return "started"
	case PhaseCompleted:
		return "completed"
	}
	return ""
}

// ParsePhase maps "started" or "completed" to a Phase.
func ParsePhase(s string) (Phase, bool) {
	switch s {
	case "started":
		return PhaseStarted, true
	case "completed":
		return PhaseCompleted, true
	}
	return PhaseNone, false
}

// Actor says who did something: who resolved a workcycle (ActorAgent,
// ActorHuman) or who validated or rolled back a tool's work (ActorHuman,
// ActorSystem). ActorNone: the event does not say.
type Actor uint8

// The actors.
const (
	ActorNone Actor = iota
	ActorAgent
	ActorHuman
	ActorSystem
)

func (a Actor) String() string {
	switch a {
	case ActorAgent:
		return "agent"
	case ActorHuman:
		return "human"
	case ActorSystem:
		return "system"
	}
	return ""
}

// ParseResolvedBy parses a completed workcycle's resolved_by: agent or
// human.
func ParseResolvedBy(s string) (Actor, bool) {
	switch s {
	case "agent":
		return ActorAgent, true
	case "human":
		return ActorHuman, true
	}
	return ActorNone, false
}

// ParseBy parses a tool report's by: human or system.
func ParseBy(s string) (Actor, bool) {
	switch s {
	case "human":
		return ActorHuman, true
	case "system":
		return ActorSystem, true
	}
	return ActorNone, false
}

// MaxHumanMillis bounds HumanMillis: 1,000,000 minutes (about 694 days)
// of human handling for one workcycle.
const MaxHumanMillis = 1_000_000 * 60_000

// Position is where a record was read. It is provenance for the audit ledger
// and for offset tracking; it is not part of an event's content.
type Position struct {
	Topic     string
	Partition int32
	Offset    int64
}

// Event is one validated v1 telemetry event. Decoders fill it and guarantee
// the contract's rules (required fields, non-negative tokens, cache tokens
// within input tokens, Attempt >= 1); later stages may rely on them.
type Event struct {
	// Identity. (TenantID, EventID) is the deduplication key.
	EventID     string
	Type        Type
	Time        time.Time
	TenantID    string
	WorkcycleID string

	AgentID        string
	ConversationID string

	// token_usage and tool_invocation.
	AWUID   string
	Attempt int32

	// token_usage.
	Model                    string
	Provider                 string
	InputTokens              int64 // includes cache read and cache creation tokens
	OutputTokens             int64 // includes reasoning tokens
	CacheReadInputTokens     int64
	CacheCreationInputTokens int64
	ReasoningTokens          int64

	// tool_invocation.
	Tool    string
	Channel Channel
	Status  ToolStatus

	// workcycle.
	Phase       Phase
	Outcome     string
	OutcomeType string
	// workcycle, optional: human handling time spent on the workcycle in
	// milliseconds (human_minutes × 60,000, at most MaxHumanMillis), the
	// customer's satisfaction from 1 to 5 (0: none), and who resolved it.
	HumanMillis int64
	CSAT        uint8
	ResolvedBy  Actor

	// tool_invocation validated or rolled_back, optional: who did it.
	By Actor

	// Source is where the event was read from; excluded from ContentHash.
	Source Position
}

var contentSeed = maphash.MakeSeed()

// ContentHash fingerprints the event's content (everything but Source) so a
// re-sent event_id with different content can be told apart from a duplicate.
// The value is stable within one process only; never persist it.
func (e *Event) ContentHash() uint64 {
	// Each string is hashed in place by the seeded runtime hash (no copying
	// into a buffer), the numbers in one block, and the field hashes are
	// chained in order. The chain's inputs are outputs of a hash keyed by a
	// per-process seed, so a producer cannot aim at the mixer's weak points.
	h := uint64(len(e.EventID))
	str := func(s string) {
		var x uint64 // "" hashes to 0
		if s != "" {
			x = maphash.String(contentSeed, s)
		}
		h = mix(h ^ x)
	}
	str(e.EventID)
	str(e.TenantID)
	str(e.WorkcycleID)
	str(e.AgentID)
	str(e.ConversationID)
	str(e.AWUID)
	str(e.Model)
	str(e.Provider)
	str(e.Tool)
	str(e.Outcome)
	str(e.OutcomeType)
	var b [8 * 8]byte
	binary.LittleEndian.PutUint64(b[56:], uint64(e.HumanMillis)^uint64(e.CSAT)<<56^uint64(e.ResolvedBy)<<48^uint64(e.By)<<40)
	binary.LittleEndian.PutUint64(b[0:], uint64(e.Time.UnixNano()))
	binary.LittleEndian.PutUint64(b[8:], uint64(e.Type)|uint64(e.Channel)<<8|uint64(e.Status)<<16|uint64(e.Phase)<<24|uint64(uint32(e.Attempt))<<32)
	binary.LittleEndian.PutUint64(b[16:], uint64(e.InputTokens))
	binary.LittleEndian.PutUint64(b[24:], uint64(e.OutputTokens))
	binary.LittleEndian.PutUint64(b[32:], uint64(e.CacheReadInputTokens))
	binary.LittleEndian.PutUint64(b[40:], uint64(e.CacheCreationInputTokens))
	binary.LittleEndian.PutUint64(b[48:], uint64(e.ReasoningTokens))
	return mix(h ^ maphash.Bytes(contentSeed, b[:]))
}

// mix is one round of the wyhash mixer: a 64×64→128-bit multiply by a
// constant, folded to 64 bits.
func mix(x uint64) uint64 {
	hi, lo := bits.Mul64(x^0xa0761d6478bd642f, 0xe7037ed1a0b428db)
	return hi ^ lo
}
