package sink

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// AckFunc is called once for a transaction given to Buffer.Add: with nil
// after ClickHouse acknowledged all of its rows, or with the error that
// stopped them. Acks are called in Add order from the Buffer's flushing
// goroutine; they must not block for long and must not call the Buffer.
type AckFunc func(err error)

// Buffer merges transactions into batches sealed by row count, byte size or
// interval, writes the batches one at a time, in order, and calls each
// transaction's ack after the batch holding it was written. It never splits
// a transaction: a transaction larger than a limit makes a larger batch.
// The work overlaps without reordering anything: Add fills the next batch
// while the flushing goroutine writes the current one, and Writer inserts a
// batch's tables at once; a batch is written only after the one before it
// was acknowledged and its acks were called.
//
// Memory is bounded: at most max_pending_batches sealed batches wait, plus
// the one being written and the one filling. When ClickHouse is down the
// writer retries, the queue fills and Add blocks, which pauses the consumer.
// A batch keeps the transactions' own slices rather than copies (Writer
// reads them in place), so a row is held once, however many batches it
// took to merge.
//
// After a failed batch the Buffer fails for good: that batch's and every
// later transaction's ack gets the error (later ones wrapped in
// ErrBufferFailed), so no offset is committed past unwritten rows. The
// service should then stop and restart from its last commit.
type Buffer struct {
	w     BatchWriter
	limit BatchConfig

	sealMu sync.Mutex // held while sealing and enqueueing, so batches keep Add order
	mu     sync.Mutex // guards the fields below
	cur    pending
	gen    int // counts sealed batches; the flush timer seals only its own
	closed bool
	err    error // sticky failure

	queue chan pending
	// written carries the batches written, in order, to the rollup
	// refresher (refreshLoop), which acks them; nil when w refreshes no
	// rollups and run acks them itself.
	written         chan written
	refreshInterval time.Duration
	ctx             context.Context // the writer's context, ended by Close's deadline
	cancel          context.CancelFunc
	stopped         chan struct{}
}

// partsWriter is a BatchWriter that writes the transactions of a batch as
// they were added, without merging them first. Writer is one.
type partsWriter interface {
	writeParts(ctx context.Context, parts []Batch) error
}

type pending struct {
	parts []Batch // the transactions with rows, in Add order
	rows  int
	acks  []AckFunc
	bytes int
	done  chan struct{} // closed after the acks ran; set by Flush
}

// write writes p's rows with one call of w.
func (p *pending) write(ctx context.Context, w BatchWriter) error {
	if pw, ok := w.(partsWriter); ok {
		return pw.writeParts(ctx, p.parts)
	}
	var b Batch
	for _, part := range p.parts {
		b.Merge(part)
	}
	return w.Write(ctx, b)
}

// written is a batch written to ClickHouse whose acks wait for the refresh
// of the rollups it changed; err is the write's failure, if any.
type written struct {
	acks   []AckFunc
	done   chan struct{}
	slices sliceSet
	err    error
}

// maxWrittenWaiting bounds the written batches waiting for a refresh; at
// it, writing waits too.
const maxWrittenWaiting = 1024

// BufferOption configures a Buffer.
type BufferOption func(*Buffer)

// WithRollupRefresh sets how often, at most, the rollups are refreshed when
// the Buffer's writer keeps rollup tables (Writer does): the batches written
// meanwhile are acked together after one refresh of every day they changed.
// Default 0: after every batch.
func WithRollupRefresh(interval time.Duration) BufferOption {
	return func(b *Buffer) { b.refreshInterval = interval }
}

// NewBuffer starts a Buffer over w. Call Close to flush and stop it.
func NewBuffer(w BatchWriter, limit BatchConfig, maxPendingBatches int, opts ...BufferOption) *Buffer {
	ctx, cancel := context.WithCancel(context.Background())
	b := &Buffer{w: w, limit: limit, queue: make(chan pending, max(maxPendingBatches, 1)),
		ctx: ctx, cancel: cancel, stopped: make(chan struct{})}
	for _, o := range opts {
		o(b)
	}
	if _, ok := w.(rollupRefresher); ok {
		// Batches written while a refresh runs wait here with only their
		// acks and days, so the writer goes on; the rows they came from
		// stay held by their sources until the acks.
		b.written = make(chan written, maxWrittenWaiting)
	}
	go b.run()
	return b
}

// Add hands one transaction's rows to the Buffer; ack is called when they
// are written. The Buffer keeps rows' slices until then: the caller must
// not change them after Add. Add blocks while the queue is full. It fails with
// ErrBufferClosed or ErrBufferFailed when it refuses the rows (ack is then
// not called), or with ctx's error when ctx ended while it waited for room
// (ack has then been called with that error, and the Buffer has failed).
func (b *Buffer) Add(ctx context.Context, rows Batch, ack AckFunc) error {
	b.sealMu.Lock()
	defer b.sealMu.Unlock()
	b.mu.Lock()
	if err := b.refuse(); err != nil {
		b.mu.Unlock()
		return err
	}
	first := len(b.cur.acks) == 0
	if n := rows.Rows(); n > 0 {
		b.cur.parts = append(b.cur.parts, rows)
		b.cur.rows += n
		b.cur.bytes += rows.approxBytes()
	}
	b.cur.acks = append(b.cur.acks, ack)
	full := b.cur.rows >= b.limit.MaxRows || b.cur.bytes >= b.limit.MaxBytes
	gen := b.gen
	b.mu.Unlock()
	if full {
		return b.sealLocked(ctx, nil)
	}
	if first {
		time.AfterFunc(b.limit.FlushInterval, func() { b.sealByTimer(gen) })
	}
	return nil
}

func (b *Buffer) refuse() error {
	switch {
	case b.err != nil:
		return fmt.Errorf("%w: %w", ErrBufferFailed, b.err)
	case b.closed:
		return ErrBufferClosed
	}
	return nil
}

// sealLocked moves the filling batch to the queue; b.sealMu must be held.
// If ctx ends while the queue is full, the sealed transactions are acked
// with ctx's error, and the Buffer fails.
func (b *Buffer) sealLocked(ctx context.Context, done chan struct{}) error {
	b.mu.Lock()
	p := b.cur
	b.cur = pending{}
	b.gen++
	b.mu.Unlock()
	p.done = done
	if len(p.acks) == 0 && done == nil {
		return nil
	}
	select {
	case b.queue <- p:
		return nil
	case <-ctx.Done():
		err := fmt.Errorf("cannot queue batch: %w", ctx.Err())
		b.fail(err)
		p.finish(err)
		return err
	}
}

func (b *Buffer) sealByTimer(gen int) {
	b.sealMu.Lock()
	defer b.sealMu.Unlock()
	b.mu.Lock()
	stale := gen != b.gen || b.closed
	b.mu.Unlock()
	if !stale {
		_ = b.sealLocked(b.ctx, nil)
	}
}

func (b *Buffer) fail(err error) {
	b.mu.Lock()
	if b.err == nil {
		b.err = err
	}
	b.mu.Unlock()
}

func (p pending) finish(err error) {
	for _, ack := range p.acks {
		ack(err)
	}
	if p.done != nil {
		close(p.done)
	}
}

func (b *Buffer) run() {
	defer close(b.stopped)
	refreshed := make(chan struct{})
	if b.written != nil {
		go b.refreshLoop(b.w.(rollupRefresher), refreshed)
	} else {
		close(refreshed)
	}
	for p := range b.queue {
		b.mu.Lock()
		failed := b.err
		b.mu.Unlock()
		var err error
		switch {
		case failed != nil:
			err = fmt.Errorf("%w: %w", ErrBufferFailed, failed)
		case p.rows > 0:
			if err = p.write(b.ctx, b.w); err != nil {
				b.fail(err)
			}
		}
		if b.written == nil {
			p.finish(err)
			continue
		}
		wr := written{acks: p.acks, done: p.done, err: err}
		if err == nil {
			wr.slices = sliceSet{}
			wr.slices.addRows(p.parts)
		}
		b.written <- wr // p's rows are no longer held
	}
	if b.written != nil {
		close(b.written)
	}
	<-refreshed
}

// refreshSpacing is the least pause after a refresh, in multiples of its
// duration.
const refreshSpacing = 3

// refreshLoop acks the batches written, in order, each after a refresh of
// the rollups it changed that began after it was written. Refreshes start
// at most every refreshInterval, and pause at least refreshSpacing times
// their duration; the batches written in between share one.
// A batch that changed no rollup waits only for those before it. A failed
// refresh fails the Buffer: its batches, and every later one, are acked
// with the error, so no offset is committed before the rollups hold it.
func (b *Buffer) refreshLoop(r rollupRefresher, stopped chan<- struct{}) {
	defer close(stopped)
	var held []written
	set := sliceSet{}
	// next is when the next refresh may start: refreshInterval after the
	// last one started, and no sooner than refreshSpacing times its
	// duration after it ended, so that refreshes, which grow with the days
	// a catch-up touches, take at most a quarter of ClickHouse's time.
	var next time.Time
	flush := func() {
		var err error
		if len(set) > 0 {
			b.mu.Lock()
			failed := b.err
			b.mu.Unlock()
			start := time.Now()
			if failed != nil {
				err = fmt.Errorf("%w: %w", ErrBufferFailed, failed)
			} else if err = r.refreshRollups(b.ctx, set); err != nil {
				b.fail(err)
			}
			end := time.Now()
			next = start.Add(b.refreshInterval)
			if n := end.Add(refreshSpacing * end.Sub(start)); n.After(next) {
				next = n
			}
		}
		for _, h := range held {
			pending{acks: h.acks, done: h.done}.finish(err)
		}
		held, set = held[:0], sliceSet{}
	}
	var timer *time.Timer
	for {
		var wr written
		var ok bool
		if len(held) == 0 {
			wr, ok = <-b.written
		} else {
			wait := time.Until(next)
			if wait <= 0 || len(set) == 0 {
				flush()
				continue
			}
			if timer == nil {
				timer = time.NewTimer(wait)
			} else {
				timer.Reset(wait)
			}
			select {
			case wr, ok = <-b.written:
				timer.Stop()
			case <-timer.C:
				flush()
				continue
			}
		}
		if !ok {
			flush()
			return
		}
		if wr.err != nil {
			flush()
			pending{acks: wr.acks, done: wr.done}.finish(wr.err)
			continue
		}
		held = append(held, wr)
		for sl := range wr.slices {
			set[sl] = struct{}{}
		}
		if wr.done != nil { // Flush or Close waits for it
			flush()
		}
	}
}

// Flush seals the filling batch and waits until every transaction added
// before it was acked. It returns the Buffer's failure, if any.
func (b *Buffer) Flush(ctx context.Context) error {
	done := make(chan struct{})
	b.sealMu.Lock()
	b.mu.Lock()
	closed := b.closed
	b.mu.Unlock()
	if closed {
		b.sealMu.Unlock()
		return ErrBufferClosed
	}
	err := b.sealLocked(ctx, done)
	b.sealMu.Unlock()
	if err != nil {
		return err
	}
	select {
	case <-done:
	case <-ctx.Done():
		return fmt.Errorf("cannot flush: %w", ctx.Err())
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.err
}

// Close flushes, then stops the Buffer. If ctx ends first, the write in
// progress is cancelled and the transactions not yet written are acked with
// the error. Add fails after Close.
func (b *Buffer) Close(ctx context.Context) error {
	err := b.Flush(ctx)
	if errors.Is(err, ErrBufferClosed) {
		return nil
	}
	b.sealMu.Lock()
	b.mu.Lock()
	already := b.closed
	b.mu.Unlock()
	if !already {
		_ = b.sealLocked(ctx, nil) // rows added since the flush
		b.mu.Lock()
		b.closed = true
		b.mu.Unlock()
		close(b.queue)
	}
	b.sealMu.Unlock()
	select {
	case <-b.stopped:
	case <-ctx.Done():
		b.fail(fmt.Errorf("closing: %w", ctx.Err()))
		b.cancel()
		<-b.stopped
	}
	b.cancel()
	return err
}
