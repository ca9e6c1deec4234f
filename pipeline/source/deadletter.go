package source

import (
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"go.uber.org/zap"

	"github.com/awumeter/awumeter/pipeline/commit"
	"github.com/awumeter/awumeter/pipeline/deadletter"
	"github.com/awumeter/awumeter/pipeline/decode"
)

// warnedReasons makes the first dead letter of each reason a warning; the
// rest are debug lines, and all are counted.
var warnedReasons sync.Map

// deadLetter sends a rejected record to kafka.dead_letter_topic, with its
// own ticket: the record's offset is committed only after the produce is
// acknowledged. Without a dead-letter topic the record is skipped.
func (s *Source) deadLetter(st *partition, rec *decode.Record, rejs []decode.Rejection) {
	letter, ok := deadletter.New(rec, rejs)
	if !ok {
		return
	}
	fields := []zap.Field{zap.String("reason", string(letter.Reason)), zap.String("detail", letter.Detail),
		zap.String("topic", rec.Topic), zap.Int32("partition", rec.Partition), zap.Int64("offset", rec.Offset)}
	if _, warned := warnedReasons.LoadOrStore(letter.Reason, true); !warned {
		s.log.Warn("record rejected (further rejections for this reason are logged at debug level)", fields...)
	} else {
		s.log.Debug("record rejected", fields...)
	}
	if s.cfg.DeadLetterTopic == "" {
		s.m.DeadLetters.WithLabelValues(string(letter.Reason)).Inc()
		return
	}
	hs := letter.KafkaHeaders()
	kr := kgo.Record{Topic: s.cfg.DeadLetterTopic, Key: letter.Key, Value: letter.Value, Headers: make([]kgo.RecordHeader, len(hs))}
	for i, h := range hs {
		kr.Headers[i] = kgo.RecordHeader{Key: h.Key, Value: h.Value}
	}
	s.produceLetter(kr, string(letter.Reason), st.track.Begin(), 100*time.Millisecond)
}

// produceLetter produces until the broker acknowledges, backing off between
// attempts, and then finishes the ticket. It gives up only at Close.
func (s *Source) produceLetter(kr kgo.Record, reason string, t commit.Ticket, backoff time.Duration) {
	r := kr // franz-go owns the record until the promise; retry with a copy
	s.cl.Produce(s.bg, &r, func(_ *kgo.Record, err error) {
		if err == nil {
			s.m.DeadLetters.WithLabelValues(reason).Inc()
			t.Done()
			return
		}
		s.m.DeadLetterErrs.Inc()
		if s.bg.Err() != nil {
			return
		}
		s.log.Warn("cannot produce a dead letter; retrying", zap.String("topic", kr.Topic), zap.Duration("backoff", backoff), zap.Error(err))
		time.AfterFunc(backoff, func() {
			s.produceLetter(kr, reason, t, min(2*backoff, 10*time.Second))
		})
	})
}
