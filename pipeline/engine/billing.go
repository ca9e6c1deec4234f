package engine

import "fmt"

// The billing rule: which AWUs the list price bills as actions. It is stated
// once, by [AWURow.BillableAction] and [AWURow.VoiceAction]; the engine's
// credits and workcycle counts, the statements and their reconciliation
// call them, and a test in pipeline/sink checks the rollup SQL
// (schemas/chschema/rollups/refresh.sql) against them. The generator's
// truth (internal/gen/truth) restates the rule on purpose: it is the
// independent oracle of the tests.
//
// Kind, channel and status are stored as these strings (the kind, channel
// and status columns, and the JSON of the rows), so the values below are a
// contract with the ClickHouse schema and users' SQL.

// AWUKind is what an AWU did: KindTool or KindPrompt.
type AWUKind string

// The values of AWUKind.
const (
	// KindTool: a tool_invocation event belongs to the AWU.
	KindTool AWUKind = "tool"
	// KindPrompt: the AWU has no tool_invocation event.
	KindPrompt AWUKind = "prompt"
)

// AWUChannel is the channel of an AWU: ChannelText or ChannelVoice.
type AWUChannel string

// The values of AWUChannel.
const (
	ChannelText AWUChannel = "text"
	// ChannelVoice: one of the AWU's tool events was on voice.
	ChannelVoice AWUChannel = "voice"
)

// AWUStatus is the outcome of an AWU: StatusSucceeded or StatusFailed.
type AWUStatus string

// The values of AWUStatus.
const (
	// StatusSucceeded: a prompt AWU, or a tool AWU with an attempt that
	// succeeded or a validated or rolled_back report.
	StatusSucceeded AWUStatus = "succeeded"
	StatusFailed    AWUStatus = "failed"
)

// Classify sets Kind, Channel and Status, the fields the billing rule reads,
// from what the AWU's events say (docs/engine.md): whether a tool event
// belongs to it, whether one of its tool events was on voice, and whether it
// succeeded.
func (r *AWURow) Classify(tool, voice, succeeded bool) {
	r.Kind, r.Channel, r.Status = KindPrompt, ChannelText, StatusFailed
	if tool {
		r.Kind = KindTool
	}
	if voice {
		r.Channel = ChannelVoice
	}
	if succeeded {
		r.Status = StatusSucceeded
	}
}

// BillableAction reports whether the AWU is a billable action: a tool AWU
// that succeeded, one action however many attempts it took. The list price
// bills each one (by default 20 credits per text action, 30 per voice
// action; see [AWURow.VoiceAction]); a prompt AWU is billed as a prompt,
// and a failed tool AWU not at all.
func (r *AWURow) BillableAction() bool {
	return r.Kind == KindTool && r.Status == StatusSucceeded
}

// VoiceAction reports whether the AWU is a voice action: a billable action
// ([AWURow.BillableAction]) on the voice channel, billed at the plan's
// voice-action price (30 credits by default) instead of the text one.
func (r *AWURow) VoiceAction() bool {
	return r.BillableAction() && r.Channel == ChannelVoice
}

// Scan reads a kind from a database column (database/sql's and
// clickhouse-go's sql.Scanner).
func (k *AWUKind) Scan(src any) error { return scanString(k, src) }

// Scan reads a channel from a database column.
func (c *AWUChannel) Scan(src any) error { return scanString(c, src) }

// Scan reads a status from a database column.
func (s *AWUStatus) Scan(src any) error { return scanString(s, src) }

// scanString stores a string or []byte column value in dst as it is: a
// stored value is not checked, so rows without one (an empty string) scan.
func scanString[T ~string](dst *T, src any) error {
	switch v := src.(type) {
	case string:
		*dst = T(v)
	case []byte:
		*dst = T(v)
	default:
		return fmt.Errorf("cannot scan %T into %T", src, dst)
	}
	return nil
}
