package decode

import "fmt"

// Reason is the stable, machine-readable code of a rejection. Reasons are
// used as metric labels and as the awumeter.dlq.reason header, so a code is
// never renamed once released; new rules get new codes.
type Reason string

// Reasons a record, or one item of a multi-event record, is rejected for.
// All but ReasonInvalidEvent are returned by the decoders.
const (
	// Record level.
	ReasonRecordTooLarge Reason = "record_too_large" // value longer than max_record_bytes
	ReasonInvalidUTF8    Reason = "invalid_utf8"     // JSON value that is not valid UTF-8
	ReasonNotJSON        Reason = "not_json"         // not one well-formed JSON value (RFC 8259)
	ReasonNotObject      Reason = "not_object"       // well-formed JSON, but not an object
	ReasonNotOTLP        Reason = "not_otlp"         // not an OTLP ExportTraceServiceRequest

	// Field level.
	ReasonMissingField Reason = "missing_field" // required field absent, null or empty
	ReasonWrongType    Reason = "wrong_type"    // field of the wrong JSON type
	ReasonUnknownType  Reason = "unknown_type"  // type is not one of the v1 types
	ReasonBadTime      Reason = "bad_time"      // time is not an RFC 3339 date-time
	ReasonTimeBounds   Reason = "time_out_of_bounds"
	ReasonBadInteger   Reason = "bad_integer" // integer field whose decimal text is not an exact integer within int64
	ReasonNegative     Reason = "negative_tokens"
	ReasonTokensBound  Reason = "tokens_out_of_bounds"     // token count above max_tokens_per_event
	ReasonCacheInput   Reason = "cache_exceeds_input"      // cache read + creation > input tokens
	ReasonReasoningOut Reason = "reasoning_exceeds_output" // reasoning > output tokens
	ReasonBadAttempt   Reason = "bad_attempt"              // attempt not an integer in [1, 2^31-1]
	ReasonBadChannel   Reason = "bad_channel"
	ReasonBadStatus    Reason = "bad_status"
	ReasonBadPhase     Reason = "bad_phase"
	ReasonBadID        Reason = "bad_id"         // OTLP trace or span id that is absent or all zero
	ReasonIDTooLong    Reason = "id_too_long"    // id longer than max_id_bytes
	ReasonFieldTooLong Reason = "field_too_long" // model, provider, tool or outcome longer than max_label_bytes
	// ReasonUsageWithoutOperation: an OTLP span with token counts whose
	// operation is missing or not a priced one, and without a model to
	// price its tokens by.
	ReasonUsageWithoutOperation Reason = "usage_without_operation"

	// The optional outcome fields of contract v1.
	ReasonBadHumanMinutes Reason = "bad_human_minutes" // not a number in [0, 1000000] with at most 3 decimals, or not on a completed event
	ReasonBadCSAT         Reason = "bad_csat"          // not an integer from 1 to 5, or not on a completed event
	ReasonBadResolvedBy   Reason = "bad_resolved_by"   // not agent or human, or not on a completed event
	ReasonBadBy           Reason = "bad_by"            // not human or system, or not on a validated or rolled_back report

	// CloudEvents.
	ReasonBadCloudEvent      Reason = "bad_cloudevent"           // missing or malformed context attribute
	ReasonUnsupportedVersion Reason = "unsupported_specversion"  // specversion other than 1.0
	ReasonUnsupportedContent Reason = "unsupported_content_type" // data that is not JSON

	// Engine level. ReasonInvalidEvent: a decoded event that breaks a rule
	// the engine relies on (engine.OutcomeInvalid). The decoders never
	// return it; the service dead-letters the event's record with it.
	ReasonInvalidEvent Reason = "invalid_event"
)

// Reasons lists every reason code, for pre-registering metric series.
func Reasons() []Reason {
	return []Reason{
		ReasonRecordTooLarge, ReasonInvalidUTF8, ReasonNotJSON, ReasonNotObject, ReasonNotOTLP,
		ReasonMissingField, ReasonWrongType, ReasonUnknownType, ReasonBadTime, ReasonTimeBounds,
		ReasonBadInteger, ReasonNegative, ReasonTokensBound, ReasonCacheInput, ReasonReasoningOut, ReasonBadAttempt,
		ReasonBadChannel, ReasonBadStatus, ReasonBadPhase, ReasonBadID, ReasonIDTooLong, ReasonFieldTooLong,
		ReasonUsageWithoutOperation, ReasonBadHumanMinutes, ReasonBadCSAT, ReasonBadResolvedBy, ReasonBadBy,
		ReasonBadCloudEvent, ReasonUnsupportedVersion, ReasonUnsupportedContent,
		ReasonInvalidEvent,
	}
}

// Rejection says why a record, or one item in it, did not become an event.
// It is a permanent error: retrying the same bytes gives the same rejection.
type Rejection struct {
	Reason Reason `json:"reason"`
	// Detail is a human sentence naming the offending field and value,
	// e.g. "missing field tenant_id". For multi-event records it also says
	// which item (e.g. the span id) it is about.
	Detail string `json:"detail"`
}

// Error makes a Rejection usable as an error: "reason: detail".
func (r Rejection) Error() string { return string(r.Reason) + ": " + r.Detail }

func reject(reason Reason, format string, args ...any) Rejection {
	return Rejection{Reason: reason, Detail: fmt.Sprintf(format, args...)}
}
