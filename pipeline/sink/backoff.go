package sink

import (
	"context"
	"math/rand/v2"
	"time"
)

// backoff returns the wait before retry n (0-based): exponential from
// initial, capped at max, with the upper half jittered so many writers do not
// retry in step.
func (r RetryConfig) backoff(n int) time.Duration {
	d := r.InitialBackoff
	for i := 0; i < n && d < r.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, r.MaxBackoff)
	half := d / 2
	return half + rand.N(half+1)
}

// sleep waits d or until ctx ends, reporting whether it waited fully.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
