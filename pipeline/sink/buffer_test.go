package sink

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/awumeter/awumeter/pipeline/engine"
)

// recorder is a BatchWriter that remembers what it wrote, in order.
type recorder struct {
	mu      sync.Mutex
	batches []int // rows per written batch
	log     []string
	gate    chan struct{} // when set, each Write waits for a token
	fail    error
}

func (r *recorder) Write(ctx context.Context, b Batch) error {
	if r.gate != nil {
		select {
		case <-r.gate:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail != nil {
		return r.fail
	}
	r.batches = append(r.batches, b.Rows())
	r.log = append(r.log, "write")
	return nil
}

func (r *recorder) ack(name string, errs *[]error) AckFunc {
	return func(err error) {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.log = append(r.log, name)
		*errs = append(*errs, err)
	}
}

func rows(n int) Batch {
	return Batch{Workcycles: make([]engine.WorkcycleRow, n)}
}

func limits(maxRows int) BatchConfig {
	return BatchConfig{MaxRows: maxRows, MaxBytes: 1 << 30, FlushInterval: time.Hour}
}

func TestBuffer(t *testing.T) {
	ctx := context.Background()

	t.Run("acks come after their batch is written, in add order", func(t *testing.T) {
		r := &recorder{}
		b := NewBuffer(r, limits(3), 2)
		var errs []error
		for _, name := range []string{"a", "b", "c", "d"} {
			if err := b.Add(ctx, rows(2), r.ack(name, &errs)); err != nil {
				t.Fatal(err)
			}
		}
		if err := b.Close(ctx); err != nil {
			t.Fatal(err)
		}
		want := []string{"write", "a", "b", "write", "c", "d"}
		if !equal(r.log, want) {
			t.Errorf("log %v, want %v", r.log, want)
		}
		for _, err := range errs {
			if err != nil {
				t.Errorf("ack error %v", err)
			}
		}
	})

	t.Run("a batch is sealed when the interval passes", func(t *testing.T) {
		r := &recorder{}
		b := NewBuffer(r, BatchConfig{MaxRows: 1000, MaxBytes: 1 << 30, FlushInterval: 20 * time.Millisecond}, 2)
		defer b.Close(ctx)
		done := make(chan error, 1)
		if err := b.Add(ctx, rows(1), func(err error) { done <- err }); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("no flush after the interval")
		}
	})

	t.Run("a batch is sealed at max_bytes", func(t *testing.T) {
		r := &recorder{}
		b := NewBuffer(r, BatchConfig{MaxRows: 1000, MaxBytes: 2 * workcycleSize, FlushInterval: time.Hour}, 2)
		var errs []error
		for _, name := range []string{"a", "b", "c"} {
			if err := b.Add(ctx, rows(1), r.ack(name, &errs)); err != nil {
				t.Fatal(err)
			}
		}
		if err := b.Close(ctx); err != nil {
			t.Fatal(err)
		}
		if !equal(r.log, []string{"write", "a", "b", "write", "c"}) {
			t.Errorf("log %v", r.log)
		}
	})

	t.Run("add blocks while the queue is full", func(t *testing.T) {
		r := &recorder{gate: make(chan struct{})}
		b := NewBuffer(r, limits(1), 1)
		var errs []error
		// One batch in flight, one queued: the third Add must wait.
		for _, name := range []string{"a", "b"} {
			if err := b.Add(ctx, rows(1), r.ack(name, &errs)); err != nil {
				t.Fatal(err)
			}
		}
		added := make(chan error, 1)
		go func() { added <- b.Add(ctx, rows(1), r.ack("c", &errs)) }()
		select {
		case <-added:
			t.Fatal("Add returned while the queue was full")
		case <-time.After(50 * time.Millisecond):
		}
		r.gate <- struct{}{}
		if err := <-added; err != nil {
			t.Fatal(err)
		}
		close(r.gate)
		if err := b.Close(ctx); err != nil {
			t.Fatal(err)
		}
		if !equal(r.log, []string{"write", "a", "write", "b", "write", "c"}) {
			t.Errorf("log %v", r.log)
		}
	})

	t.Run("after a failed batch every later transaction fails", func(t *testing.T) {
		boom := &PermanentError{Table: "awus", Err: errors.New("boom")}
		r := &recorder{fail: boom}
		b := NewBuffer(r, limits(1), 4)
		var errs []error
		for _, name := range []string{"a", "b"} {
			if err := b.Add(ctx, rows(1), r.ack(name, &errs)); err != nil {
				t.Fatal(err)
			}
		}
		if err := b.Flush(ctx); !errors.Is(err, boom) {
			t.Fatalf("flush: %v", err)
		}
		if len(errs) != 2 || !errors.Is(errs[0], boom) || !errors.Is(errs[1], ErrBufferFailed) {
			t.Errorf("acks %v", errs)
		}
		if err := b.Add(ctx, rows(1), r.ack("c", &errs)); !errors.Is(err, ErrBufferFailed) {
			t.Errorf("add after failure: %v", err)
		}
		_ = b.Close(ctx)
	})

	t.Run("an empty transaction is acked in order", func(t *testing.T) {
		r := &recorder{}
		b := NewBuffer(r, limits(10), 2)
		var errs []error
		_ = b.Add(ctx, rows(1), r.ack("a", &errs))
		_ = b.Add(ctx, Batch{}, r.ack("b", &errs))
		if err := b.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		if !equal(r.log, []string{"write", "a", "b"}) {
			t.Errorf("log %v", r.log)
		}
		_ = b.Close(ctx)
	})

	t.Run("close cancels a write that cannot finish and fails its acks", func(t *testing.T) {
		r := &recorder{gate: make(chan struct{})} // never opened: ClickHouse is down
		b := NewBuffer(r, limits(10), 2)
		var errs []error
		_ = b.Add(ctx, rows(1), r.ack("a", &errs))
		cctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		defer cancel()
		if err := b.Close(cctx); err == nil {
			t.Fatal("close succeeded without writing")
		}
		if len(errs) != 1 || errs[0] == nil {
			t.Errorf("acks %v", errs)
		}
		if err := b.Add(ctx, rows(1), r.ack("b", &errs)); !errors.Is(err, ErrBufferClosed) && !errors.Is(err, ErrBufferFailed) {
			t.Errorf("add after close: %v", err)
		}
	})
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
