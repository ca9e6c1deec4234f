package engine

import (
	"math/bits"
	"unsafe"
)

// arrayPool recycles the backing arrays of per-workcycle slices (AWUs, event
// fingerprints). They grow by doubling and are dropped whole when a
// workcycle is evicted; without recycling, that garbage is the largest
// part of what the engine allocates (about 40% of the bytes), and the
// garbage collector's work grows with it. Arrays have a power-of-two capacity, at least minCap; each size
// keeps at most poolLimit free arrays and poolClassBytes of them (but at
// least one), so a burst of evictions, or a few huge workcycles, do not pin
// memory for long. An array is cleared when it is put back, so that it
// holds no strings alive and get returns it zeroed.
type arrayPool[T any] struct {
	minCap int
	free   [][][]T // free[k] holds arrays of capacity minCap<<k
}

const (
	poolLimit      = 1024
	poolClassBytes = 1 << 20
)

// class is the index into free of capacity c, a power of two >= minCap.
func (p *arrayPool[T]) class(c int) int {
	return bits.Len(uint(c)) - bits.Len(uint(p.minCap))
}

// get returns an empty slice of capacity c, a power of two >= minCap.
func (p *arrayPool[T]) get(c int) []T {
	if k := p.class(c); k < len(p.free) {
		if f := p.free[k]; len(f) > 0 {
			s := f[len(f)-1]
			f[len(f)-1] = nil
			p.free[k] = f[:len(f)-1]
			return s
		}
	}
	return make([]T, 0, c)
}

// put recycles s, which no one may use afterwards.
func (p *arrayPool[T]) put(s []T) {
	c := cap(s)
	if c < p.minCap || c&(c-1) != 0 {
		return
	}
	k := p.class(c)
	for len(p.free) <= k {
		p.free = append(p.free, nil)
	}
	var zero T
	if n := len(p.free[k]); n >= poolLimit || n > 0 && (n+1)*c*int(unsafe.Sizeof(zero)) > poolClassBytes {
		return
	}
	s = s[:c]
	clear(s)
	p.free[k] = append(p.free[k], s[:0])
}

// appendTo appends v to s, taking a twice larger array from the pool when s is
// full and recycling the old one.
func (p *arrayPool[T]) appendTo(s []T, v T) []T {
	if len(s) == cap(s) {
		t := p.get(max(2*cap(s), p.minCap))
		t = append(t, s...)
		p.put(s)
		s = t
	}
	return append(s, v)
}
