package source_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/awumeter/awumeter/pipeline/sink"
	"github.com/awumeter/awumeter/pipeline/source"
)

// overlapSink acknowledges every transaction, but first waits up to 20ms
// for another Add to be in progress, and records the most Adds it saw in
// progress at once.
type overlapSink struct {
	mu      sync.Mutex
	now     int
	maxSeen int
}

func newOverlapSink() *overlapSink { return &overlapSink{} }

func (s *overlapSink) Add(_ context.Context, _ sink.Batch, ack sink.AckFunc) error {
	s.mu.Lock()
	s.now++
	s.maxSeen = max(s.maxSeen, s.now)
	deadline := time.Now().Add(20 * time.Millisecond)
	for s.now < 2 && time.Now().Before(deadline) {
		s.mu.Unlock()
		time.Sleep(time.Millisecond)
		s.mu.Lock()
	}
	s.now--
	s.mu.Unlock()
	ack(nil)
	return nil
}

func (s *overlapSink) Flush(context.Context) error { return nil }

func (s *overlapSink) most() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.maxSeen
}

// The partitions of a poll are processed at the same time, up to
// kafka.partition_workers; with one worker they take turns.
func TestPartitionsOfAPollAreProcessedInParallel(t *testing.T) {
	for _, tc := range []struct {
		workers, want int
	}{{3, 2}, {1, 1}} {
		f := newFixture(t, 100)
		cfg := f.config()
		cfg.PartitionWorkers = tc.workers
		ms := newOverlapSink()
		src, _, stop := runSource(t, cfg, source.Settings{Sink: ms})
		caughtUp(t, src, 3)
		stop()
		if got := ms.most(); (tc.want == 1 && got != 1) || (tc.want > 1 && got < tc.want) {
			t.Errorf("partition_workers %d: at most %d partitions handed rows to the sink at once, want %d", tc.workers, got, tc.want)
		}
	}
}
