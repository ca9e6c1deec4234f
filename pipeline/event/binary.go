package event

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// binaryVersion is the first byte of every encoding AppendBinary writes. A
// change to the layout gets a new version; UnmarshalBinary refuses others.
const binaryVersion = 2

// ErrBinary is wrapped by every error UnmarshalBinary returns.
var ErrBinary = errors.New("not an awumeter event encoding")

// AppendBinary appends the event's content, everything but Source, to b in
// awumeter's internal encoding and returns the extended slice. The re-key
// stage writes it to the repartition topic; UnmarshalBinary reads it back
// into an event with the same content (ContentHash), times to the
// nanosecond.
//
// Layout (version 1): the version byte, then in field order every string as
// a uvarint length and its bytes, Type, Channel, Status and Phase as one
// byte each, Time as zigzag-varint Unix nanoseconds, Attempt and the five
// token counts as zigzag varints.
func (e *Event) AppendBinary(b []byte) ([]byte, error) {
	str := func(s string) {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	b = append(b, binaryVersion)
	str(e.EventID)
	b = append(b, byte(e.Type))
	b = binary.AppendVarint(b, e.Time.UnixNano())
	str(e.TenantID)
	str(e.WorkcycleID)
	str(e.AgentID)
	str(e.ConversationID)
	str(e.AWUID)
	b = binary.AppendVarint(b, int64(e.Attempt))
	str(e.Model)
	str(e.Provider)
	for _, n := range [...]int64{e.InputTokens, e.OutputTokens, e.CacheReadInputTokens, e.CacheCreationInputTokens, e.ReasoningTokens} {
		b = binary.AppendVarint(b, n)
	}
	str(e.Tool)
	b = append(b, byte(e.Channel), byte(e.Status), byte(e.Phase))
	str(e.Outcome)
	str(e.OutcomeType)
	// Version 2: the outcome fields of contract v1.
	b = binary.AppendVarint(b, e.HumanMillis)
	b = append(b, e.CSAT, byte(e.ResolvedBy), byte(e.By))
	return b, nil
}

// MarshalBinary is AppendBinary(nil).
func (e *Event) MarshalBinary() ([]byte, error) { return e.AppendBinary(nil) }

// UnmarshalBinary sets the event's content from an AppendBinary encoding,
// leaving Source as it was. The strings share one copy of data, so the
// caller may reuse data afterwards. Truncated input, trailing bytes, an
// unknown version and enum values outside the v1 contract are errors
// wrapping ErrBinary; e is then left with unspecified content.
func (e *Event) UnmarshalBinary(data []byte) error {
	if len(data) == 0 || data[0] != 1 && data[0] != binaryVersion {
		if len(data) == 0 {
			return fmt.Errorf("%w: empty", ErrBinary)
		}
		return fmt.Errorf("%w: version %d, want 1 to %d", ErrBinary, data[0], binaryVersion)
	}
	version := data[0]
	all := string(data) // one copy; every string field is a substring of it
	r := reader{s: all, i: 1}
	src := e.Source
	*e = Event{Source: src}
	e.EventID = r.str("event_id")
	e.Type = Type(r.byte("type"))
	e.Time = time.Unix(0, r.varint("time")).UTC()
	e.TenantID = r.str("tenant_id")
	e.WorkcycleID = r.str("workcycle_id")
	e.AgentID = r.str("agent_id")
	e.ConversationID = r.str("conversation_id")
	e.AWUID = r.str("awu_id")
	attempt := r.varint("attempt")
	e.Model = r.str("model")
	e.Provider = r.str("provider")
	e.InputTokens = r.varint("input_tokens")
	e.OutputTokens = r.varint("output_tokens")
	e.CacheReadInputTokens = r.varint("cache_read_input_tokens")
	e.CacheCreationInputTokens = r.varint("cache_creation_input_tokens")
	e.ReasoningTokens = r.varint("reasoning_tokens")
	e.Tool = r.str("tool")
	e.Channel = Channel(r.byte("channel"))
	e.Status = ToolStatus(r.byte("status"))
	e.Phase = Phase(r.byte("phase"))
	e.Outcome = r.str("outcome")
	e.OutcomeType = r.str("outcome_type")
	if version >= 2 { // version 1, written before an upgrade, has none
		e.HumanMillis = r.varint("human_millis")
		e.CSAT = r.byte("csat")
		e.ResolvedBy = Actor(r.byte("resolved_by"))
		e.By = Actor(r.byte("by"))
	}
	switch {
	case r.err != nil:
		return r.err
	case r.i != len(all):
		return fmt.Errorf("%w: %d trailing bytes", ErrBinary, len(all)-r.i)
	case attempt < 0 || attempt > 1<<31-1:
		return fmt.Errorf("%w: attempt %d outside int32", ErrBinary, attempt)
	case e.Type > TypeWorkcycle || e.Channel > ChannelVoice || e.Status > StatusRolledBack || e.Phase > PhaseCompleted ||
		e.ResolvedBy > ActorSystem || e.By > ActorSystem:
		return fmt.Errorf("%w: enum value outside the v1 contract (type %d, channel %d, status %d, phase %d, resolved_by %d, by %d)",
			ErrBinary, e.Type, e.Channel, e.Status, e.Phase, e.ResolvedBy, e.By)
	case e.HumanMillis < 0 || e.HumanMillis > MaxHumanMillis || e.CSAT > 5:
		return fmt.Errorf("%w: human_millis %d or csat %d outside the v1 contract", ErrBinary, e.HumanMillis, e.CSAT)
	}
	e.Attempt = int32(attempt)
	return nil
}

// reader walks an encoding; the first error sticks and later reads return
// zero values.
type reader struct {
	s   string
	i   int
	err error
}

func (r *reader) fail(field, what string) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: %s at byte %d: %s", ErrBinary, field, r.i, what)
	}
}

func (r *reader) byte(field string) byte {
	if r.err != nil {
		return 0
	}
	if r.i >= len(r.s) {
		r.fail(field, "truncated")
		return 0
	}
	c := r.s[r.i]
	r.i++
	return c
}

func (r *reader) varint(field string) int64 {
	if r.err != nil {
		return 0
	}
	u, n := uvarint(r.s[r.i:])
	if n <= 0 {
		r.fail(field, "truncated or overlong varint")
		return 0
	}
	r.i += n
	return int64(u>>1) ^ -int64(u&1) // zigzag, as binary.AppendVarint
}

func (r *reader) str(field string) string {
	if r.err != nil {
		return ""
	}
	u, n := uvarint(r.s[r.i:])
	if n <= 0 {
		r.fail(field, "truncated or overlong length")
		return ""
	}
	if u > uint64(len(r.s)-r.i-n) {
		r.fail(field, fmt.Sprintf("length %d beyond the end", u))
		return ""
	}
	start := r.i + n
	r.i = start + int(u)
	return r.s[start:r.i]
}

// uvarint is binary.Uvarint over a string, so that decoding copies the
// input once; n <= 0 on truncated or overlong input.
func uvarint(s string) (uint64, int) {
	var x uint64
	var shift uint
	for i := 0; i < len(s) && i < binary.MaxVarintLen64; i++ {
		c := s[i]
		if c < 0x80 {
			if i == binary.MaxVarintLen64-1 && c > 1 {
				return 0, -(i + 1)
			}
			return x | uint64(c)<<shift, i + 1
		}
		x |= uint64(c&0x7f) << shift
		shift += 7
	}
	return 0, 0
}
