package commit

import (
	"context"
	"sync"
)

// Partition tracks one assigned partition. Create a new one for every
// assignment, so that acknowledgements from an earlier ownership of the same
// partition cannot move the new one's offsets. It is safe for concurrent use.
type Partition struct {
	mu          sync.Mutex
	issued      uint64              // tickets begun
	low         uint64              // every ticket below low is done
	done        map[uint64]struct{} // done tickets at or above low
	marks       []mark              // in order of tickets and offsets
	committable int64               // highest offset reached, or -1
	committed   int64               // highest offset committed, or -1
	changed     chan struct{}       // closed and replaced when a ticket is done
}

type mark struct {
	tickets uint64 // tickets begun before the mark
	offset  int64
}

// NewPartition returns a tracker for a partition whose committed offset is
// committed (-1 if none).
func NewPartition(committed int64) *Partition {
	return &Partition{done: map[uint64]struct{}{}, committable: committed, committed: committed, changed: make(chan struct{})}
}

// Ticket is one unit of work in flight. Call Done exactly once, and only
// after the work was acknowledged; a failed ticket is never done, which
// holds the partition's commits back for good.
type Ticket struct {
	p  *Partition
	id uint64
}

// Begin starts a unit of work.
func (p *Partition) Begin() Ticket {
	p.mu.Lock()
	defer p.mu.Unlock()
	t := Ticket{p: p, id: p.issued}
	p.issued++
	return t
}

// Done records that the ticket's work was acknowledged.
func (t Ticket) Done() {
	p := t.p
	p.mu.Lock()
	defer p.mu.Unlock()
	if t.id < p.low {
		return
	}
	p.done[t.id] = struct{}{}
	for {
		if _, ok := p.done[p.low]; !ok {
			break
		}
		delete(p.done, p.low)
		p.low++
	}
	p.advance()
	close(p.changed)
	p.changed = make(chan struct{})
}

// Mark records that offset may be committed once every ticket begun so far
// is done. Offsets lower than an earlier mark are ignored: commits never go
// backwards.
func (p *Partition) Mark(offset int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if n := len(p.marks); n > 0 {
		last := &p.marks[n-1]
		if offset <= last.offset {
			return
		}
		if last.tickets == p.issued {
			last.offset = offset // same work outstanding: keep only the latest
			p.advance()
			return
		}
	} else if offset <= p.committable {
		return
	}
	p.marks = append(p.marks, mark{tickets: p.issued, offset: offset})
	p.advance()
}

// advance moves committable past every mark whose tickets are all done.
func (p *Partition) advance() {
	i := 0
	for ; i < len(p.marks) && p.marks[i].tickets <= p.low; i++ {
		p.committable = max(p.committable, p.marks[i].offset)
	}
	if i > 0 {
		p.marks = append(p.marks[:0], p.marks[i:]...)
	}
}

// Committable returns the offset to commit, and false if it is not above
// the last one committed.
func (p *Partition) Committable() (int64, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.committable, p.committable > p.committed
}

// Committed records a successful commit of offset.
func (p *Partition) Committed(offset int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.committed = max(p.committed, offset)
}

// LastCommitted returns the highest offset committed, or -1.
func (p *Partition) LastCommitted() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.committed
}

// Outstanding is the number of tickets begun and not done.
func (p *Partition) Outstanding() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return int(p.issued-p.low) - len(p.done)
}

// Wait blocks until every ticket begun so far is done, or ctx ends.
func (p *Partition) Wait(ctx context.Context) error {
	p.mu.Lock()
	target := p.issued
	for p.low < target {
		ch := p.changed
		p.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
		p.mu.Lock()
	}
	p.mu.Unlock()
	return nil
}
