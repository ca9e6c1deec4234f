package decode

import (
	"unicode/utf8"

	"github.com/awumeter/awumeter/pipeline/event"
)

// jsonDecoder decodes native v1 JSON: one event object per record.
type jsonDecoder struct {
	maxBytes int
	bounds   bounds
	limits   limits
}

func (d *jsonDecoder) Decode(rec *Record, dst []event.Event) ([]event.Event, Result) {
	if rej, ok := checkBytes(rec.Value, d.maxBytes); !ok {
		return dst, single(rej)
	}
	s := getScanner(rec.Value)
	defer putScanner(s)
	var raw rawFields
	if rej, ok := scanTop(s, &raw, "record value"); !ok {
		return dst, single(rej)
	}
	var ev event.Event
	if rej, ok := buildEvent(&raw, &envelope{}, d.bounds, d.limits, &ev); !ok {
		return dst, single(rej)
	}
	ev.Source = position(rec)
	return append(dst, ev), Result{}
}

// checkBytes applies the byte-level rules every JSON format shares.
func checkBytes(b []byte, maxBytes int) (Rejection, bool) {
	if len(b) > maxBytes {
		return reject(ReasonRecordTooLarge, "record value is %d bytes, more than max_record_bytes %d", len(b), maxBytes), false
	}
	if len(b) == 0 {
		return reject(ReasonNotJSON, "record value is empty"), false
	}
	if !utf8.Valid(b) {
		return reject(ReasonInvalidUTF8, "record value is not valid UTF-8"), false
	}
	return Rejection{}, true
}

// scanTop scans a whole JSON text that must be one object, collecting the
// v1 fields into raw. what names the text in rejection details.
func scanTop(s *scanner, raw *rawFields, what string) (Rejection, bool) {
	return scanTopWith(s, what, raw.scanFields)
}

// scanTopWith is scanTop with the object read by scanObject.
func scanTopWith(s *scanner, what string, scanObject func(*scanner) bool) (Rejection, bool) {
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == '{' {
		if scanObject(s) && s.end() {
			return Rejection{}, true
		}
		return reject(ReasonNotJSON, "%s is not JSON: %s", what, s.err), false
	}
	v, ok := s.value(0)
	if !ok || !s.end() {
		return reject(ReasonNotJSON, "%s is not JSON: %s", what, s.err), false
	}
	return reject(ReasonNotObject, "%s must be a JSON object, got %s", what, v.kind), false
}

func position(rec *Record) event.Position {
	return event.Position{Topic: rec.Topic, Partition: rec.Partition, Offset: rec.Offset}
}
