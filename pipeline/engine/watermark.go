package engine

import "math"

// frontier is how far event time has got in a partition, in a way a single
// outlier cannot drag forward. It keeps the latest event times of the two
// workcycles that reached furthest (each workcycle counted once, at its
// latest event), and moves to the latest of them only when the other is
// within engine.corroboration_window of it; otherwise it moves to the
// second one. So one event dated far ahead, by a skewed clock or a hostile
// producer, holds the frontier back to where the rest of the partition is
// until another workcycle comes within the window of it, and a workcycle
// ahead by less than the window moves it as before. The frontier never
// goes back, is a function of the sequence of applied events only (no
// clock), and decides only when rows are emitted, never their content.
type frontier struct {
	first, second frontierEntry // first.t >= second.t
	// at is the frontier: math.MinInt64 until two workcycles were seen.
	at int64
}

// frontierEntry is one workcycle's latest event time. It points to the
// workcycle while it is held, so that the check on every event is a
// pointer comparison; an evicted workcycle is detached and known by its
// key, so that rebuilding it from History does not make it count twice.
type frontierEntry struct {
	t   int64 // math.MinInt64 when empty
	wc  *workcycle
	key wcKey // set while detached (wc nil)
}

// is reports whether the entry is wc's, attaching it again to a rebuilt wc.
func (f *frontierEntry) is(wc *workcycle) bool {
	if f.wc == wc {
		return true
	}
	if f.wc == nil && f.t != math.MinInt64 && f.key == wc.key {
		f.wc, f.key = wc, wcKey{}
		return true
	}
	return false
}

// detach is called when wc is evicted.
func (f *frontier) detach(wc *workcycle) {
	if f.first.wc == wc {
		f.first.wc, f.first.key = nil, wc.key
	}
	if f.second.wc == wc {
		f.second.wc, f.second.key = nil, wc.key
	}
}

func newFrontier() frontier {
	return frontier{first: frontierEntry{t: math.MinInt64}, second: frontierEntry{t: math.MinInt64}, at: math.MinInt64}
}

// observe takes event time t of workcycle wc into account; window is
// engine.corroboration_window in nanoseconds.
func (f *frontier) observe(wc *workcycle, t, window int64) {
	if t > f.second.t { // else it changes neither of the two latest workcycles
		f.advance(wc, t, window)
	}
}

func (f *frontier) advance(wc *workcycle, t, window int64) {
	switch {
	case f.first.is(wc):
		f.first.t = max(f.first.t, t)
	case f.second.is(wc):
		f.second.t = t
		if t > f.first.t {
			f.first, f.second = f.second, f.first
		}
	case t > f.first.t: // the common case of a stream in time order
		f.second = f.first
		f.first = frontierEntry{t: t, wc: wc}
	default:
		f.second = frontierEntry{t: t, wc: wc}
	}
	if f.second.t == math.MinInt64 {
		return
	}
	at := f.second.t
	if f.first.t <= satAdd(f.second.t, window) {
		at = f.first.t
	}
	f.at = max(f.at, at)
}
