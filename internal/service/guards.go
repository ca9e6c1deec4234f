package service

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"go.uber.org/zap"

	"github.com/awumeter/awumeter/internal/metrics"
	"github.com/awumeter/awumeter/pipeline/guard"
)

// raiseTimeout bounds one produce of window alerts; the refresh retries.
const raiseTimeout = 30 * time.Second

// windowGuard checks the guards' tenant_hour and tenant_day rules for the
// sink after each rollup refresh, and produces their alerts with the
// source's Kafka client. It is safe for concurrent use.
type windowGuard struct {
	cfg    guard.Config
	log    *zap.Logger
	m      *metrics.Metrics
	client atomic.Pointer[kgo.Client] // set once the source exists

	mu   sync.Mutex
	eval *guard.Evaluator
}

func newWindowGuard(cfg guard.Config, log *zap.Logger, m *metrics.Metrics) (*windowGuard, error) {
	eval, err := guard.New(cfg)
	if err != nil {
		return nil, err
	}
	return &windowGuard{cfg: cfg, log: log, m: m, eval: eval}, nil
}

// CheckSpend implements sink.WindowGuard.
func (g *windowGuard) CheckSpend(sums []guard.WindowSum) []guard.Alert {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.eval.Windows(sums)
}

// remember seeds the evaluator with alert ids raised before.
func (g *windowGuard) remember(ids []string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.eval.Remember(ids)
}

// Forget implements sink.WindowGuard.
func (g *windowGuard) Forget(alerts []guard.Alert) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.eval.Forget(alerts)
}

// Raise produces the alerts to guards.topic and returns once the broker
// acknowledged them all.
func (g *windowGuard) Raise(ctx context.Context, alerts []guard.Alert) error {
	cl := g.client.Load()
	if cl == nil {
		return errors.New("the Kafka client is not started yet")
	}
	recs := make([]*kgo.Record, len(alerts))
	for i := range alerts {
		a := &alerts[i]
		value, contentType, err := a.Encode(g.cfg.Format)
		if err != nil {
			return err
		}
		recs[i] = &kgo.Record{Topic: g.cfg.Topic, Key: a.Key(), Value: value,
			Headers: []kgo.RecordHeader{{Key: "content-type", Value: []byte(contentType)}}}
	}
	// Bounded, so that an unreachable topic shows as retried errors
	// (alert_errors_total, the refresh's flush_errors_total) rather than
	// a silent stall.
	ctx, cancel := context.WithTimeout(ctx, raiseTimeout)
	defer cancel()
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		g.m.AlertErrors.Inc()
		return fmt.Errorf("cannot produce %d alerts to %s: %w", len(recs), g.cfg.Topic, err)
	}
	for i := range alerts {
		a := &alerts[i]
		g.m.Alerts.WithLabelValues(a.Rule).Inc()
		g.log.Info("guard alert", zap.String("rule", a.Rule), zap.String("alert_id", a.ID),
			zap.String("tenant_id", a.TenantID), zap.Time("window_start", a.WindowStart), zap.String("value", a.Value.String()))
	}
	return nil
}
