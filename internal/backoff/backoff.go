// Package backoff is the one capped exponential backoff, with jitter, that
// every retry loop of the service uses, and the wait between attempts.
package backoff

import (
	"context"
	"math/rand/v2"
	"sync"
	"time"
)

// Policy is capped exponential backoff: the wait before the first retry is
// at most Initial, each later one at most Multiplier times the one before,
// and none more than Max.
type Policy struct {
	// Initial is the ceiling of the wait before retry 0; at least 1ns.
	Initial time.Duration
	// Max caps every wait; below Initial it counts as Initial.
	Max time.Duration
	// Multiplier is the growth per retry; 1 or less means 2.
	Multiplier float64
}

// Ceiling returns the wait before retry n (0-based) without jitter:
// Initial·Multiplierⁿ, capped at Max.
func (p Policy) Ceiling(n int) time.Duration {
	initial := max(p.Initial, 1)
	limit := max(p.Max, initial)
	m := p.Multiplier
	if m <= 1 {
		m = 2
	}
	d := float64(initial)
	for i := 0; i < n && d < float64(limit); i++ {
		d *= m
	}
	if d >= float64(limit) {
		return limit
	}
	return time.Duration(d)
}

// Delay returns the wait before retry n (0-based) with equal jitter: a
// uniform draw from [c/2, c], where c is Ceiling(n). The upper half is
// random so that many clients failing together do not retry in step; the
// lower half keeps the wait from collapsing to nothing.
func (p Policy) Delay(n int, r *Rand) time.Duration {
	c := p.Ceiling(n)
	half := c / 2
	return c - half + time.Duration(r.int64N(int64(half)+1))
}

// Rand draws the jitter. It is safe for concurrent use. Each user holds its
// own: tests give it a seeded source, so that their waits are reproducible.
type Rand struct {
	mu sync.Mutex
	r  *rand.Rand
}

// NewRand draws from src, for example rand.NewPCG(1, 2) in a test.
func NewRand(src rand.Source) *Rand {
	return &Rand{r: rand.New(src)}
}

// NewRandom returns a Rand with a random seed, for production use.
func NewRandom() *Rand {
	return NewRand(rand.NewPCG(rand.Uint64(), rand.Uint64()))
}

// int64N returns a uniform draw from [0, n); n must be positive.
func (r *Rand) int64N(n int64) int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.r.Int64N(n)
}

// Wait waits d or until ctx ends, reporting whether it waited the whole d.
func Wait(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
