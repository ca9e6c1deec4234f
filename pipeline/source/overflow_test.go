package source_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/awumeter/awumeter/pipeline/deadletter"
	"github.com/awumeter/awumeter/pipeline/price"
	"github.com/awumeter/awumeter/pipeline/source"
)

// An event the engine refuses because a sum would pass int64 goes to the
// dead-letter topic with reason sum_overflow and its bytes intact, the
// offset moves past it, and the workcycle's rows keep what fits. The sum
// here is credits: at 2^62 credits per text action a workcycle holds one
// billable AWU; a second would make 2^63, which wrapped to a negative
// number.
func TestSumOverflowIsDeadLetteredAndCommittedPast(t *testing.T) {
	yaml := bytes.Replace(price.DefaultYAML(), []byte("action_credits: 20"), []byte("action_credits: 4611686018427387904"), 1)
	book, err := price.Parse(yaml)
	if err != nil {
		t.Fatal(err)
	}
	c, cl := newKfake(t, 1)
	second := []byte(`{"event_id":"e2","type":"tool_invocation","time":"2026-11-02T09:00:02Z","tenant_id":"acme","workcycle_id":"wc-1","awu_id":"b","attempt":1,"tool":"crm.update","status":"succeeded"}`)
	recs := []*kgo.Record{
		{Key: []byte("acme/wc-1"), Value: []byte(`{"event_id":"e1","type":"tool_invocation","time":"2026-11-02T09:00:01Z","tenant_id":"acme","workcycle_id":"wc-1","awu_id":"a","attempt":1,"tool":"crm.update","status":"succeeded"}`)},
		{Key: []byte("acme/wc-1"), Value: second},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}

	cfg := kfakeConfig(c)
	ms := newMemSink()
	src, stopped, stop := runSource(t, cfg, source.Settings{Sink: ms, History: ms, Prices: book})
	caughtUp(t, src, 1)

	// The offset is committed past the refused record.
	at := waitCommitted(t, kadm.NewClient(cl), cfg.Group, 2, stopped, 10*time.Second)
	stop()
	if at < 2 {
		t.Errorf("committed offset %d, want 2, past the refused record", at)
	}

	dl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.ConsumeTopics("dlq"))
	if err != nil {
		t.Fatal(err)
	}
	defer dl.Close()
	var letters []*kgo.Record
	for len(letters) == 0 && ctx.Err() == nil {
		dl.PollFetches(ctx).EachRecord(func(r *kgo.Record) { letters = append(letters, r) })
	}
	if len(letters) != 1 {
		t.Fatalf("got %d dead letters, want 1", len(letters))
	}
	reason := ""
	for _, h := range letters[0].Headers {
		if h.Key == deadletter.HeaderReason {
			reason = string(h.Value)
		}
	}
	if reason != string(deadletter.ReasonSumOverflow) || !bytes.Equal(letters[0].Value, second) {
		t.Errorf("dead letter reason %q, value %s; want sum_overflow and the second record's bytes", reason, letters[0].Value)
	}

	ms.mu.Lock()
	defer ms.mu.Unlock()
	w, ok := ms.wcs["acme/wc-1"]
	if !ok {
		t.Fatalf("no workcycle row: %v", ms.wcs)
	}
	if w.Credits != 4611686018427387904 || w.AWUs != 1 {
		t.Errorf("workcycle credits %d, AWUs %d; want 4611686018427387904 and 1", w.Credits, w.AWUs)
	}
}
