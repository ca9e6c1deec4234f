package source_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// A quiet, caught-up partition is advanced from the engine's frontier, not
// from its latest event time: one event dated 23h50m ahead (inside the
// decoders' 24h future bound) must not close the partition's other open
// workcycles when the partition goes quiet.
func TestIdleAdvanceIsNotDraggedByOneEventFarAhead(t *testing.T) {
	c, cl := newKfake(t, 1)
	now := time.Now().UTC().Truncate(time.Millisecond)
	line := func(wc string, at time.Time) *kgo.Record {
		return &kgo.Record{Key: []byte("acme/" + wc), Value: fmt.Appendf(nil,
			`{"event_id":"%s-e1","type":"tool_invocation","time":%q,"tenant_id":"acme","workcycle_id":%q,"awu_id":"a","attempt":1,"tool":"crm.update","status":"succeeded"}`,
			wc, at.Format(time.RFC3339Nano), wc)}
	}
	var recs []*kgo.Record
	for i := range 5 {
		recs = append(recs, line(fmt.Sprintf("wc-%d", i), now.Add(-time.Minute)))
	}
	recs = append(recs, line("far-ahead", now.Add(23*time.Hour+50*time.Minute)))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}

	cfg := kfakeConfig(c)
	cfg.IdleAdvance = 100 * time.Millisecond
	ms := newMemSink()
	src, stop := startWith(t, cfg, ms, ms)
	caughtUp(t, src, 1)
	time.Sleep(time.Second) // ten idle-advance periods
	stop()

	ms.mu.Lock()
	defer ms.mu.Unlock()
	// engine.idle_timeout is 5m in these tests: a minute-old workcycle is
	// still open at the wall clock, and only a watermark dragged a day
	// ahead would have emitted it.
	if len(ms.wcs) != 0 {
		for k := range ms.wcs {
			t.Errorf("workcycle %s emitted: the idle advance followed the event far ahead", k)
		}
	}
}
