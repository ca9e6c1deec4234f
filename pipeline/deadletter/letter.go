package deadletter

import (
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/awumeter/awumeter/pipeline/decode"
)

// Header names written on dead-lettered records.
const (
	HeaderPrefix          = "awumeter.dlq."
	HeaderReason          = HeaderPrefix + "reason"
	HeaderDetail          = HeaderPrefix + "detail"
	HeaderRejections      = HeaderPrefix + "rejections"
	HeaderSourceTopic     = HeaderPrefix + "source.topic"
	HeaderSourcePartition = HeaderPrefix + "source.partition"
	HeaderSourceOffset    = HeaderPrefix + "source.offset"
	HeaderSourceTimestamp = HeaderPrefix + "source.timestamp"
)

// maxDetailBytes bounds the detail header; details name one field and
// value, so only a pathological value is cut.
const maxDetailBytes = 1024

// Letter is one rejected record on its way to the dead letters.
type Letter struct {
	// Key, Value and Headers are the original record's, untouched.
	Key     []byte
	Value   []byte
	Headers []decode.Header

	Reason decode.Reason // first rejection's reason
	Detail string        // first rejection's detail
	// Rejections is how many items of the record were rejected (1 for
	// single-event formats).
	Rejections int

	// Where the record was read from.
	Topic     string
	Partition int32
	Offset    int64
	Timestamp time.Time
}

// New makes the letter for rec, which was rejected for rejs. It copies
// nothing: the letter shares rec's byte slices, so the caller must not reuse
// them until the letter is written. New returns false if rejs is empty.
func New(rec *decode.Record, rejs []decode.Rejection) (Letter, bool) {
	if len(rejs) == 0 {
		return Letter{}, false
	}
	return Letter{
		Key:        rec.Key,
		Value:      rec.Value,
		Headers:    rec.Headers,
		Reason:     rejs[0].Reason,
		Detail:     rejs[0].Detail,
		Rejections: len(rejs),
		Topic:      rec.Topic,
		Partition:  rec.Partition,
		Offset:     rec.Offset,
		Timestamp:  rec.Timestamp,
	}, true
}

// KafkaHeaders returns the headers to produce the letter with: the original
// headers (less any awumeter.dlq.* ones) followed by the dead-letter headers.
func (l *Letter) KafkaHeaders() []decode.Header {
	hs := make([]decode.Header, 0, len(l.Headers)+7)
	for _, h := range l.Headers {
		if !strings.HasPrefix(h.Key, HeaderPrefix) {
			hs = append(hs, h)
		}
	}
	ts := ""
	if !l.Timestamp.IsZero() {
		ts = l.Timestamp.UTC().Format("2006-01-02T15:04:05.000Z07:00")
	}
	return append(hs,
		decode.Header{Key: HeaderReason, Value: []byte(l.Reason)},
		decode.Header{Key: HeaderDetail, Value: []byte(truncate(l.Detail, maxDetailBytes))},
		decode.Header{Key: HeaderRejections, Value: strconv.AppendInt(nil, int64(l.Rejections), 10)},
		decode.Header{Key: HeaderSourceTopic, Value: []byte(l.Topic)},
		decode.Header{Key: HeaderSourcePartition, Value: strconv.AppendInt(nil, int64(l.Partition), 10)},
		decode.Header{Key: HeaderSourceOffset, Value: strconv.AppendInt(nil, l.Offset, 10)},
		decode.Header{Key: HeaderSourceTimestamp, Value: []byte(ts)},
	)
}

// truncate cuts s to at most n bytes on a rune boundary and makes it valid
// UTF-8, so header readers never see a broken character.
func truncate(s string, n int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
