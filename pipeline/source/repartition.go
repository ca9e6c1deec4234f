package source

import (
	"github.com/awumeter/awumeter/pipeline/decode"
	"github.com/awumeter/awumeter/pipeline/event"
)

// ReasonBadRepartitionRecord rejects a record of the repartition topic that
// is not one event in event.AppendBinary's encoding. The re-key stage
// writes only such records, so it means another producer wrote to the
// internal topic, or a release with an unknown encoding version did.
const ReasonBadRepartitionRecord decode.Reason = "bad_repartition_record"

// RepartitionDecoder decodes the records of the repartition topic: one
// event each, in event.AppendBinary's encoding. The re-key stage validated
// the events against their input topic's decoder configuration, so they
// are not checked again.
type RepartitionDecoder struct{}

// Decode implements decode.Decoder.
func (RepartitionDecoder) Decode(rec *decode.Record, dst []event.Event) ([]event.Event, decode.Result) {
	dst = append(dst, event.Event{Source: event.Position{Topic: rec.Topic, Partition: rec.Partition, Offset: rec.Offset}})
	if err := dst[len(dst)-1].UnmarshalBinary(rec.Value); err != nil {
		return dst[:len(dst)-1], decode.Result{Rejections: []decode.Rejection{{Reason: ReasonBadRepartitionRecord, Detail: err.Error()}}}
	}
	return dst, decode.Result{}
}
