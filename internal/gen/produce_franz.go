package gen

import (
	"context"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// franzProducer produces with franz-go. Records are produced asynchronously
// and acknowledged through callbacks; the first failure stops the run.
type franzProducer struct {
	cl    *kgo.Client
	acked func(int)

	mu  sync.Mutex
	err error
}

func newFranzProducer(cfg ProduceConfig, acked func(int)) (*franzProducer, error) {
	cl, err := kgo.NewClient(
		kgo.SeedBrokers(cfg.Brokers...),
		kgo.DefaultProduceTopic(cfg.Topic),
		kgo.ProducerLinger(5*time.Millisecond),
		kgo.RecordDeliveryTimeout(2*time.Minute),
		// A topic created just before gen runs may be missing from the
		// first metadata response; look again soon rather than in 5s.
		kgo.MetadataMinAge(250*time.Millisecond),
	)
	if err != nil {
		return nil, err
	}
	return &franzProducer{cl: cl, acked: acked}, nil
}

func (p *franzProducer) failed() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

func (p *franzProducer) done(_ *kgo.Record, err error) {
	if err == nil {
		p.acked(1)
		return
	}
	p.mu.Lock()
	if p.err == nil {
		p.err = err
	}
	p.mu.Unlock()
}

func (p *franzProducer) send(ctx context.Context, msgs []Message) error {
	if err := p.failed(); err != nil {
		return err
	}
	for i := range msgs {
		m := &msgs[i]
		rec := &kgo.Record{Key: m.Key, Value: m.Value}
		if len(m.Headers) > 0 {
			rec.Headers = make([]kgo.RecordHeader, len(m.Headers))
			for j, h := range m.Headers {
				rec.Headers[j] = kgo.RecordHeader{Key: h.Key, Value: h.Value}
			}
		}
		p.cl.Produce(ctx, rec, p.done)
	}
	return nil
}

func (p *franzProducer) flush(ctx context.Context) error {
	if err := p.cl.Flush(ctx); err != nil {
		return err
	}
	return p.failed()
}

func (p *franzProducer) close() { p.cl.Close() }
