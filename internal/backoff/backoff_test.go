package backoff

import (
	"context"
	"math/rand/v2"
	"sync"
	"testing"
	"time"
)

func seeded() *Rand { return NewRand(rand.NewPCG(1, 2)) }

// The ceiling starts at Initial, grows by Multiplier and stops at Max.
func TestCeilingGrowsToMax(t *testing.T) {
	for _, c := range []struct {
		p    Policy
		want []time.Duration
	}{
		{Policy{Initial: 100 * time.Millisecond, Max: time.Second, Multiplier: 2},
			[]time.Duration{100e6, 200e6, 400e6, 800e6, time.Second, time.Second}},
		{Policy{Initial: 100 * time.Millisecond, Max: time.Second}, // default multiplier 2
			[]time.Duration{100e6, 200e6, 400e6, 800e6, time.Second}},
		{Policy{Initial: 10 * time.Millisecond, Max: time.Second, Multiplier: 3},
			[]time.Duration{10e6, 30e6, 90e6, 270e6, 810e6, time.Second}},
		{Policy{Initial: time.Second, Max: time.Millisecond}, // max below initial
			[]time.Duration{time.Second, time.Second}},
	} {
		for n, want := range c.want {
			if got := c.p.Ceiling(n); got != want {
				t.Errorf("%+v: Ceiling(%d) = %s, want %s", c.p, n, got, want)
			}
		}
	}
}

// A huge retry count neither overflows nor loops long.
func TestCeilingOfManyRetriesIsMax(t *testing.T) {
	p := Policy{Initial: time.Nanosecond, Max: time.Duration(1<<63 - 1), Multiplier: 2}
	if got := p.Ceiling(1 << 30); got != p.Max {
		t.Errorf("Ceiling(2^30) = %s, want %s", got, p.Max)
	}
}

// Every delay lies in [ceiling/2, ceiling], the draws spread over that
// range, and the same seed gives the same delays.
func TestDelayIsJitteredWithinBounds(t *testing.T) {
	p := Policy{Initial: 100 * time.Millisecond, Max: 10 * time.Second, Multiplier: 2}
	r := seeded()
	for n := range 10 {
		c := p.Ceiling(n)
		lo, hi := c, time.Duration(0)
		seen := map[time.Duration]bool{}
		for range 1000 {
			d := p.Delay(n, r)
			if d < c-c/2 || d > c {
				t.Fatalf("Delay(%d) = %s, outside [%s, %s]", n, d, c-c/2, c)
			}
			lo, hi = min(lo, d), max(hi, d)
			seen[d] = true
		}
		// 1000 uniform draws cover nearly all of the range.
		if spread := hi - lo; spread < c/2*9/10 {
			t.Errorf("retry %d: delays span %s..%s, want most of [%s, %s]", n, lo, hi, c-c/2, c)
		}
		if len(seen) < 900 {
			t.Errorf("retry %d: %d distinct delays of 1000", n, len(seen))
		}
	}
	a, b := seeded(), seeded()
	for n := range 20 {
		if da, db := p.Delay(n, a), p.Delay(n, b); da != db {
			t.Fatalf("same seed, retry %d: %s and %s", n, da, db)
		}
	}
}

// The mean delay grows with the ceiling until Max.
func TestDelayGrows(t *testing.T) {
	p := Policy{Initial: 50 * time.Millisecond, Max: time.Second}
	r := seeded()
	mean := func(n int) time.Duration {
		var sum time.Duration
		for range 200 {
			sum += p.Delay(n, r)
		}
		return sum / 200
	}
	prev := mean(0)
	for n := 1; n < 5; n++ {
		m := mean(n)
		if m < prev*3/2 {
			t.Errorf("mean delay of retry %d is %s, of retry %d %s: not growing", n, m, n-1, prev)
		}
		prev = m
	}
	if m := mean(20); m < 700*time.Millisecond || m > time.Second {
		t.Errorf("mean delay at the cap is %s, want about 750ms", m)
	}
}

// A tiny ceiling still works: 1ns gives 1ns, never a panic.
func TestDelayOfOneNanosecond(t *testing.T) {
	p := Policy{Initial: time.Nanosecond, Max: time.Nanosecond}
	if d := p.Delay(0, seeded()); d != time.Nanosecond {
		t.Errorf("Delay = %s, want 1ns", d)
	}
	if d := (Policy{}).Delay(3, seeded()); d != time.Nanosecond {
		t.Errorf("zero Policy: Delay = %s, want 1ns", d)
	}
}

// Rand is safe for concurrent use (run with -race).
func TestRandConcurrent(t *testing.T) {
	p := Policy{Initial: time.Millisecond, Max: time.Second}
	r := NewRandom()
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for n := range 100 {
				p.Delay(n%12, r)
			}
		})
	}
	wg.Wait()
}

func TestWait(t *testing.T) {
	if !Wait(context.Background(), time.Millisecond) {
		t.Error("Wait of 1ms did not wait it")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	start := time.Now()
	if Wait(ctx, time.Hour) {
		t.Error("Wait under an ended context reported a full wait")
	}
	if time.Since(start) > time.Second {
		t.Error("Wait did not return when its context ended")
	}
}
