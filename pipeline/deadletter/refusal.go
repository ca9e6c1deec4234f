package deadletter

import (
	"fmt"

	"github.com/awumeter/awumeter/pipeline/decode"
	"github.com/awumeter/awumeter/pipeline/engine"
	"github.com/awumeter/awumeter/pipeline/event"
)

// ReasonSumOverflow is the reason of an event the engine refused
// (engine.OutcomeOverflow) because folding it in would take a sum of its
// workcycle past int64. Like decode.ReasonInvalidEvent, the service adds it
// to the decoders' reasons; it travels in the awumeter.dlq.reason header.
const ReasonSumOverflow decode.Reason = "sum_overflow"

// Refusal is the dead-letter rejection of an event the engine refused with
// o: decode.ReasonInvalidEvent for engine.OutcomeInvalid (the event breaks
// a rule the engine relies on), ReasonSumOverflow for
// engine.OutcomeOverflow. refused is false for any other outcome. The
// service, the re-key stage and awumeter process all dead-letter with it.
func Refusal(o engine.Outcome, ev *event.Event) (r decode.Rejection, refused bool) {
	switch o {
	case engine.OutcomeInvalid:
		return decode.Rejection{Reason: decode.ReasonInvalidEvent,
			Detail: fmt.Sprintf("event %s breaks a contract rule", ev.EventID)}, true
	case engine.OutcomeOverflow:
		return decode.Rejection{Reason: ReasonSumOverflow,
			Detail: fmt.Sprintf("event %s refused: a sum of its workcycle would exceed int64", ev.EventID)}, true
	}
	return decode.Rejection{}, false
}
