package sink

import (
	"context"
	"time"

	"github.com/awumeter/awumeter/internal/backoff"
)

// retrier is the Writer's wait between attempts: clickhouse.retry's
// backoff, doubling from initial_backoff to max_backoff, with the service's
// one jitter (internal/backoff) so that many writers do not retry in step.
type retrier struct {
	policy backoff.Policy
	rand   *backoff.Rand
}

func newRetrier(c RetryConfig, r *backoff.Rand) retrier {
	return retrier{policy: backoff.Policy{Initial: c.InitialBackoff, Max: c.MaxBackoff, Multiplier: 2}, rand: r}
}

// backoff returns the wait before retry n (0-based).
func (r retrier) backoff(n int) time.Duration { return r.policy.Delay(n, r.rand) }

// sleep waits d or until ctx ends, reporting whether it waited fully.
func sleep(ctx context.Context, d time.Duration) bool { return backoff.Wait(ctx, d) }
