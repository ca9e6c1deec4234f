package engine

// schedule is a min-heap of (deadline, workcycle): when to look at a
// workcycle again, to close it or to evict it. Entries are never removed
// early; a workcycle's next field names its live entry, and Emit skips the
// others when they surface.
type schedule struct {
	items []scheduled
}

type scheduled struct {
	at int64
	wc *workcycle
}

// at asks for wc to be looked at when the watermark reaches d, unless it is
// already due earlier.
func (s *schedule) at(wc *workcycle, d int64) {
	if d >= wc.next {
		return
	}
	wc.next = d
	s.items = append(s.items, scheduled{at: d, wc: wc})
	s.up(len(s.items) - 1)
}

// popDue removes and returns the earliest entry due at wm.
func (s *schedule) popDue(wm int64) (scheduled, bool) {
	if len(s.items) == 0 || s.items[0].at > wm {
		return scheduled{}, false
	}
	top := s.items[0]
	n := len(s.items) - 1
	s.items[0] = s.items[n]
	s.items[n] = scheduled{}
	s.items = s.items[:n]
	if n > 0 {
		s.down(0)
	}
	return top, true
}

func (s *schedule) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if s.items[p].at <= s.items[i].at {
			return
		}
		s.items[p], s.items[i] = s.items[i], s.items[p]
		i = p
	}
}

func (s *schedule) down(i int) {
	n := len(s.items)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		c := l
		if r := l + 1; r < n && s.items[r].at < s.items[l].at {
			c = r
		}
		if s.items[i].at <= s.items[c].at {
			return
		}
		s.items[i], s.items[c] = s.items[c], s.items[i]
		i = c
	}
}

// offsetQueue holds the workcycles with unemitted changes in the order of
// their first unemitted offset. Offsets only grow within a partition, so a
// FIFO is sorted; entries whose workcycle was emitted since are dropped
// lazily from the front.
type offsetQueue struct {
	items []pendingItem
	head  int
	live  int // workcycles with pendingAt >= 0
}

type pendingItem struct {
	off int64
	wc  *workcycle
}

func (q *offsetQueue) push(off int64, wc *workcycle) {
	q.items = append(q.items, pendingItem{off: off, wc: wc})
	q.live++
}

// done records that wc's pending changes were emitted.
func (q *offsetQueue) done(wc *workcycle) {
	if wc.pendingAt >= 0 {
		wc.pendingAt = -1
		q.live--
	}
}

// min returns the first offset still pending.
func (q *offsetQueue) min() (int64, bool) {
	for q.head < len(q.items) {
		it := q.items[q.head]
		if it.wc.pendingAt == it.off {
			return it.off, true
		}
		q.items[q.head] = pendingItem{}
		q.head++
	}
	q.items, q.head = q.items[:0], 0
	return 0, false
}

// compact drops emitted entries from the front and reclaims their space
// once they are the larger part of the queue.
func (q *offsetQueue) compact() {
	q.min()
	if q.head > 1024 && q.head > len(q.items)/2 {
		n := copy(q.items, q.items[q.head:])
		clear(q.items[n:])
		q.items, q.head = q.items[:n], 0
	}
}

// each calls f for every workcycle with pending changes, in the order of
// their first unemitted offset, until f returns false.
func (q *offsetQueue) each(f func(*workcycle) bool) {
	for _, it := range q.items[q.head:] {
		if it.wc.pendingAt == it.off && !f(it.wc) {
			return
		}
	}
}
