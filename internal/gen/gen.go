package gen

import (
	"bufio"
	"cmp"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/awumeter/awumeter/pipeline/event"
)

// Kind says how a record came to be in the stream.
type Kind uint8

const (
	KindOriginal  Kind = iota // the first copy of an event
	KindDuplicate             // an identical re-send
	KindConflict              // a re-send of an id with different content
	KindMalformed             // a record no decoder accepts
)

// Record is one generated Kafka record.
type Record struct {
	Line  []byte       // the native v1 JSON line, without newline
	Event *event.Event // the event the line decodes to; nil for malformed
	Kind  Kind
}

// Stream is the generated records in delivery order.
type Stream struct {
	Records []Record
}

// UnknownModel is the model name the price book does not know.
const UnknownModel = "acme-agent-large-2"

var models = []struct{ name, provider string }{
	{"gemini-3-flash", "google"},
	{"gemini-3-pro", "google"},
	{"claude-sonnet-4.6", "anthropic"},
}

var (
	tools = []string{"crm.update_case", "crm.lookup", "billing.refund", "calendar.book", "email.send", "kb.search"}
	// flakiness scales RetryRate per tool, so that success rates differ
	// the way real integrations do; the mean is about 1.
	flakiness = map[string]float64{
		"crm.update_case": 1, "crm.lookup": 0.5, "billing.refund": 2,
		"calendar.book": 1.5, "email.send": 0.8, "kb.search": 0.3,
	}
	outcomes = []string{"resolved", "resolved", "resolved", "escalated", "abandoned"}
	types    = []string{"case", "lead", "invoice", ""}
)

// Generate builds the stream described by cfg.
func Generate(cfg Config) (*Stream, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("invalid generator configuration: %w", err)
	}
	g := &generator{cfg: cfg, rng: rand.New(rand.NewPCG(uint64(cfg.Seed), 0x9e3779b97f4a7c15))}
	for i := range cfg.Workcycles {
		g.workcycle(i)
	}
	return g.deliver(), nil
}

// Events returns the decodable events in delivery order, duplicates and
// conflicting copies included.
func (s *Stream) Events() []event.Event {
	out := make([]event.Event, 0, len(s.Records))
	for _, r := range s.Records {
		if r.Event != nil {
			out = append(out, *r.Event)
		}
	}
	return out
}

// WriteTo writes the records as JSON lines.
func (s *Stream) WriteTo(w io.Writer) (int64, error) {
	bw := bufio.NewWriter(w)
	var n int64
	for _, r := range s.Records {
		m, err := bw.Write(r.Line)
		n += int64(m)
		if err != nil {
			return n, err
		}
		if err := bw.WriteByte('\n'); err != nil {
			return n, err
		}
		n++
	}
	return n, bw.Flush()
}

type generator struct {
	cfg    Config
	rng    *rand.Rand
	events []event.Event
	nextID int
}

func (g *generator) chance(p float64) bool { return p > 0 && g.rng.Float64() < p }

func (g *generator) id(prefix string) string {
	g.nextID++
	return fmt.Sprintf("%s-%08x-%06d", prefix, g.rng.Uint32(), g.nextID)
}

// workcycle appends the events of workcycle i in time order.
func (g *generator) workcycle(i int) {
	cfg := g.cfg
	tenant := fmt.Sprintf("tenant-%02d", g.rng.IntN(cfg.Tenants)+1)
	agent := fmt.Sprintf("agent-%02d", g.rng.IntN(cfg.AgentsPerTenant)+1)
	base := event.Event{
		TenantID:    tenant,
		WorkcycleID: fmt.Sprintf("wc-%06d-%08x", i, g.rng.Uint32()),
		AgentID:     agent,
	}
	if g.chance(0.7) {
		base.ConversationID = g.id("conv")
	}
	t := cfg.Start.Add(time.Duration(g.rng.Int64N(int64(cfg.Span))))
	t = t.Truncate(time.Millisecond)
	step := func() time.Time {
		t = t.Add(time.Duration(200+g.rng.IntN(15000)) * time.Millisecond)
		return t
	}
	add := func(ev event.Event) {
		ev.EventID = g.id("evt")
		g.events = append(g.events, ev)
	}

	if g.chance(0.9) {
		ev := base
		ev.Type, ev.Time, ev.Phase = event.TypeWorkcycle, t, event.PhaseStarted
		add(ev)
	}
	// Skewed sizes: most workcycles are small, a few use all MaxAWUs.
	n := 1 + int(float64(cfg.MaxAWUs)*g.rng.Float64()*g.rng.Float64())
	for range min(n, cfg.MaxAWUs) {
		awu := base
		awu.AWUID = g.id("awu")
		if !g.chance(cfg.ToolRate) {
			attempts := 1
			for attempts < cfg.MaxAttempts && g.chance(cfg.RetryRate/2) {
				attempts++
			}
			for a := 1; a <= attempts; a++ {
				add(g.usage(awu, int32(a), step()))
			}
			continue
		}
		tool := tools[g.rng.IntN(len(tools))]
		channel := event.ChannelText
		if g.chance(cfg.VoiceRate) {
			channel = event.ChannelVoice
		}
		succeeded := false
		a := int32(1)
		for ; ; a++ {
			add(g.usage(awu, a, step()))
			ev := awu
			ev.Type, ev.Time, ev.Attempt, ev.Tool, ev.Channel = event.TypeToolInvocation, step(), a, tool, channel
			ev.Status = event.StatusFailed
			retry := g.chance(min(1, cfg.RetryRate*flakiness[tool]))
			if !retry {
				ev.Status, succeeded = event.StatusSucceeded, true
			}
			add(ev)
			if !retry || int(a) >= cfg.MaxAttempts {
				break
			}
		}
		if !succeeded {
			continue
		}
		for _, s := range []struct {
			p      float64
			status event.ToolStatus
		}{{cfg.ValidateRate, event.StatusValidated}, {cfg.RollbackRate, event.StatusRolledBack}} {
			if g.chance(s.p) {
				ev := awu
				ev.Type, ev.Time, ev.Attempt, ev.Tool, ev.Channel, ev.Status = event.TypeToolInvocation, step(), a, tool, channel, s.status
				add(ev)
			}
		}
	}
	if g.chance(cfg.CompleteRate) {
		ev := base
		ev.Type, ev.Time, ev.Phase = event.TypeWorkcycle, step(), event.PhaseCompleted
		ev.Outcome = outcomes[g.rng.IntN(len(outcomes))]
		ev.OutcomeType = types[g.rng.IntN(len(types))]
		add(ev)
	}
}

// usage is one model call of an AWU attempt.
func (g *generator) usage(awu event.Event, attempt int32, at time.Time) event.Event {
	ev := awu
	ev.Type, ev.Time, ev.Attempt = event.TypeTokenUsage, at, attempt
	if g.chance(g.cfg.UnknownModelRate) {
		ev.Model, ev.Provider = UnknownModel, "acme"
	} else {
		m := models[g.rng.IntN(len(models))]
		ev.Model, ev.Provider = m.name, m.provider
	}
	ev.InputTokens = int64(200 + g.rng.IntN(20000))
	if g.chance(g.cfg.LongContextRate) {
		ev.InputTokens = int64(200_001 + g.rng.IntN(100_000))
	}
	if g.chance(0.4) {
		ev.CacheReadInputTokens = g.rng.Int64N(ev.InputTokens/2 + 1)
	}
	if g.chance(0.1) {
		ev.CacheCreationInputTokens = g.rng.Int64N(ev.InputTokens/4 + 1)
	}
	ev.OutputTokens = int64(20 + g.rng.IntN(3000))
	if g.chance(0.3) {
		ev.ReasoningTokens = g.rng.Int64N(ev.OutputTokens + 1)
	}
	return ev
}

// deliver turns the events into records in delivery order: late events move
// back by LateDelay, duplicates and conflicting copies follow their original
// within minutes, records move at most ReorderWindow positions, and
// malformed records are sprinkled in.
func (g *generator) deliver() *Stream {
	cfg := g.cfg
	type pending struct {
		at  int64 // delivery time
		seq int
		rec Record
	}
	var ps []pending
	push := func(at time.Time, ev *event.Event, kind Kind) {
		ps = append(ps, pending{at: at.UnixNano(), seq: len(ps), rec: Record{Line: encode(ev), Event: ev, Kind: kind}})
	}
	for i := range g.events {
		ev := &g.events[i]
		at := ev.Time
		if g.chance(cfg.LateRate) {
			at = at.Add(cfg.LateDelay)
		}
		push(at, ev, KindOriginal)
		if g.chance(cfg.DuplicateRate) {
			push(at.Add(time.Duration(g.rng.Int64N(int64(10*time.Minute)))), ev, KindDuplicate)
		}
		if g.chance(cfg.ConflictRate) {
			c := *ev
			c.AgentID += "-resent"
			push(at.Add(time.Duration(1+g.rng.Int64N(int64(10*time.Minute)))), &c, KindConflict)
		}
	}
	slices.SortStableFunc(ps, func(a, b pending) int { return cmp.Compare(a.at, b.at) })
	// Bounded reordering: record i sorts at i + U[0, W], so it ends up at
	// most W positions from where it was.
	if w := cfg.ReorderWindow; w > 0 {
		for i := range ps {
			ps[i].at = int64(i) + g.rng.Int64N(int64(w)+1)
			ps[i].seq = i
		}
		slices.SortStableFunc(ps, func(a, b pending) int { return cmp.Or(cmp.Compare(a.at, b.at), cmp.Compare(a.seq, b.seq)) })
	}
	s := &Stream{Records: make([]Record, 0, len(ps)+len(ps)/50)}
	for _, p := range ps {
		s.Records = append(s.Records, p.rec)
		if g.chance(cfg.MalformedRate) {
			s.Records = append(s.Records, Record{Line: g.malformed(), Kind: KindMalformed})
		}
	}
	// Lateness or reordering may deliver a conflicting copy before its
	// original; whichever is delivered first stands, in truth as in the
	// engine.
	return s
}
