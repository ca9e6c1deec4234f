package source

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"go.uber.org/zap"

	"github.com/awumeter/awumeter/pipeline/commit"
	"github.com/awumeter/awumeter/pipeline/deadletter"
	"github.com/awumeter/awumeter/pipeline/decode"
)

// deadLetter sends a rejected record to kafka.dead_letter_topic, with its
// own ticket: the record's offset is committed only after the produce is
// acknowledged. Without a dead-letter topic the record is skipped.
//
// While the letters produced and not yet acknowledged hold
// kafka.dead_letter_max_buffered_bytes, deadLetter blocks, and with it the
// poll loop: a flood of bad records or a slow dead-letter topic pauses
// consumption instead of growing memory, and no letter is dropped. It
// returns an error only when ctx ends first; the record is then neither
// produced nor committed past.
func (s *Source) deadLetter(ctx context.Context, st *partition, rec *decode.Record, rejs []decode.Rejection) error {
	letter, ok := deadletter.New(rec, rejs)
	if !ok {
		return nil
	}
	fields := []zap.Field{zap.String("reason", string(letter.Reason)), zap.String("detail", letter.Detail),
		zap.String("topic", rec.Topic), zap.Int32("partition", rec.Partition), zap.Int64("offset", rec.Offset)}
	if _, warned := s.warned.LoadOrStore(letter.Reason, true); !warned {
		s.log.Warn("record rejected (further rejections for this reason are logged at debug level)", fields...)
	} else {
		s.log.Debug("record rejected", fields...)
	}
	if s.cfg.DeadLetterTopic == "" {
		s.obs.DeadLetters(string(letter.Reason), 1)
		return nil
	}
	hs := letter.KafkaHeaders()
	kr := kgo.Record{Topic: s.cfg.DeadLetterTopic, Key: letter.Key, Value: letter.Value, Headers: make([]kgo.RecordHeader, len(hs))}
	for i, h := range hs {
		kr.Headers[i] = kgo.RecordHeader{Key: h.Key, Value: h.Value}
	}
	size := letterSize(&kr)
	if err := s.letters.acquire(ctx, size); err != nil {
		return fmt.Errorf("cannot dead-letter %s/%d@%d while %d bytes of dead letters await the broker: %w",
			rec.Topic, rec.Partition, rec.Offset, s.letters.held(), err)
	}
	s.obs.DeadLetterBuffered(size)
	s.produceLetter(kr, string(letter.Reason), size, st.track.Begin())
	return nil
}

// produceLetter produces until the broker acknowledges, backing off between
// attempts, and then finishes the ticket and releases the letter's size
// from the budget. It gives up only at Close.
func (s *Source) produceLetter(kr kgo.Record, reason string, size int64, t commit.Ticket) {
	s.produceAcked(kr, "a dead letter", 0, func() {
		s.obs.DeadLetters(reason, 1)
		s.releaseLetter(size)
		t.Done()
	}, s.obs.DeadLetterFailed, func() {
		s.releaseLetter(size) // never committed past: the next owner produces it again
	})
}

// produceAcked produces kr until the broker acknowledges it, backing off
// between attempts (Source.produceRetry): acked runs on the acknowledgement,
// failed after every failed attempt, and closed when the source closes
// before an acknowledgement. what names the record in logs; attempt counts
// the failed attempts before this one.
func (s *Source) produceAcked(kr kgo.Record, what string, attempt int, acked, failed, closed func()) {
	r := kr // franz-go owns the record until the promise; retry with a copy
	s.cl.Produce(s.bg, &r, func(_ *kgo.Record, err error) {
		if err == nil {
			acked()
			return
		}
		failed()
		if s.bg.Err() != nil {
			closed()
			return
		}
		d := s.produceRetry.Delay(attempt, s.jitter)
		s.log.Warn("cannot produce "+what+"; retrying", zap.String("topic", kr.Topic), zap.Duration("backoff", d), zap.Error(err))
		time.AfterFunc(d, func() {
			s.produceAcked(kr, what, attempt+1, acked, failed, closed)
		})
	})
}

func (s *Source) releaseLetter(size int64) {
	s.letters.release(size)
	s.obs.DeadLetterBuffered(-size)
}

// letterSize is what a letter holds in memory until it is acknowledged, in
// bytes: its key, value and headers.
func letterSize(r *kgo.Record) int64 {
	n := int64(len(r.Key) + len(r.Value))
	for _, h := range r.Headers {
		n += int64(len(h.Key) + len(h.Value))
	}
	return n
}

// byteBudget bounds the bytes of dead letters between their produce and
// their acknowledgement, retries included (franz-go's own MaxBufferedBytes
// would not count a letter waiting to be retried, and fails a record larger
// than the bound outright). It is safe for concurrent use.
type byteBudget struct {
	limit int64
	mu    sync.Mutex
	used  int64
	freed chan struct{} // closed, and replaced, whenever bytes are released
}

func newByteBudget(limit int64) *byteBudget {
	return &byteBudget{limit: limit, freed: make(chan struct{})}
}

// acquire takes n bytes, waiting until they fit or ctx ends. A letter larger
// than the whole budget is admitted when nothing else is held, so that it
// is produced alone rather than never.
func (b *byteBudget) acquire(ctx context.Context, n int64) error {
	for {
		b.mu.Lock()
		if b.used == 0 || b.used+n <= b.limit {
			b.used += n
			b.mu.Unlock()
			return nil
		}
		freed := b.freed
		b.mu.Unlock()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-freed:
		}
	}
}

// release gives back n bytes taken by acquire.
func (b *byteBudget) release(n int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.used -= n
	close(b.freed)
	b.freed = make(chan struct{})
}

// held is the number of bytes taken and not yet released.
func (b *byteBudget) held() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.used
}
