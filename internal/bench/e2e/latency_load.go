package main

import (
	"container/heap"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"
)

// The live telemetry of the latency phase: workcycles planned as events at
// offsets from their start, produced in wall-clock order at a fixed rate,
// each event timed when it is produced. Everything here is pure, so that
// the pacing and the plans can be tested without servers.

const (
	// runawayAttempts failed attempts of one tool AWU make a runaway
	// workcycle; runawayAbove is the guard's threshold, so the attempt
	// runawayAbove+1 crosses it.
	runawayAttempts = 30
	runawayAbove    = 20
	// runawaySpread is the time over which a runaway's attempts are spread.
	runawaySpread = 3 * time.Second
	// runawayRule names the guard rule of the latency phase.
	runawayRule = "bench-runaway"
)

// eventKind is what a planned event is.
type eventKind uint8

const (
	evStarted eventKind = iota
	evCompleted
	evPrompt    // token_usage
	evTool      // tool_invocation, succeeded
	evToolFail  // tool_invocation, failed
	evAbandoned // workcycle completed with outcome abandoned
)

// plannedEvent is one event of a plan, at an offset from the workcycle's
// start.
type plannedEvent struct {
	at      time.Duration
	kind    eventKind
	awu     int // index of the AWU within the workcycle
	attempt int
}

// plan is one workcycle of the live load.
type plan struct {
	id      string
	tenant  string
	agent   string
	start   time.Time
	events  []plannedEvent
	next    int  // index of the next event to produce
	sampled bool // its events' latencies to visible are measured
	// cross is the index of the event that makes a runaway cross the
	// guard's threshold; -1 for other workcycles.
	cross int
}

// planner makes the workcycles: realistic ones (a started event, two to
// six AWUs, prompts and tool calls, a few retried, a completed event for
// 90% of them, lasting 2 to 60 s) and runaways (a started event, 30
// failed attempts of one tool AWU over 3 s, a completed event with
// outcome abandoned).
type planner struct {
	rng         *rand.Rand
	prefix      string
	sampleEvery int
	n           int // workcycles planned
	normal      int // realistic workcycles planned
}

func newPlanner(seed uint64, prefix string, sampleEvery int) *planner {
	return &planner{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), prefix: prefix, sampleEvery: max(sampleEvery, 1)}
}

func (p *planner) base(kind string, start time.Time) *plan {
	p.n++
	return &plan{
		id:     p.prefix + "-" + kind + "-" + strconv.Itoa(p.n),
		tenant: "tenant-0" + strconv.Itoa(1+p.rng.IntN(3)),
		agent:  "agent-0" + strconv.Itoa(1+p.rng.IntN(4)),
		start:  start,
		cross:  -1,
	}
}

// realistic plans a realistic workcycle starting at start.
func (p *planner) realistic(start time.Time) *plan {
	w := p.base("wc", start)
	w.sampled = p.normal%p.sampleEvery == 0
	p.normal++
	ev := []plannedEvent{{kind: evStarted}}
	awus := 2 + p.rng.IntN(5)
	for a := range awus {
		switch r := p.rng.Float64(); {
		case r < 0.5: // a model call, one in ten retried
			ev = append(ev, plannedEvent{kind: evPrompt, awu: a, attempt: 1})
			if p.rng.IntN(10) == 0 {
				ev = append(ev, plannedEvent{kind: evPrompt, awu: a, attempt: 2})
			}
		case r < 0.9: // a tool call, one in ten failing once first
			if p.rng.IntN(10) == 0 {
				ev = append(ev, plannedEvent{kind: evToolFail, awu: a, attempt: 1})
				ev = append(ev, plannedEvent{kind: evTool, awu: a, attempt: 2})
			} else {
				ev = append(ev, plannedEvent{kind: evTool, awu: a, attempt: 1})
			}
		default: // a model call and a tool call serving the same task
			ev = append(ev, plannedEvent{kind: evPrompt, awu: a, attempt: 1}, plannedEvent{kind: evTool, awu: a, attempt: 1})
		}
	}
	if p.rng.IntN(10) != 0 {
		ev = append(ev, plannedEvent{kind: evCompleted})
	}
	span := 2*time.Second + time.Duration(p.rng.Int64N(int64(58*time.Second)))
	for i := range ev {
		ev[i].at = span * time.Duration(i) / time.Duration(len(ev)-1)
	}
	w.events = ev
	return w
}

// runaway plans a runaway workcycle starting at start.
func (p *planner) runaway(start time.Time) *plan {
	w := p.base("runaway", start)
	ev := []plannedEvent{{kind: evStarted}}
	for a := 1; a <= runawayAttempts; a++ {
		ev = append(ev, plannedEvent{at: runawaySpread * time.Duration(a) / runawayAttempts, kind: evToolFail, attempt: a})
	}
	ev = append(ev, plannedEvent{at: runawaySpread + 100*time.Millisecond, kind: evAbandoned})
	w.events = ev
	w.cross = runawayAbove + 1 // the started event is index 0, attempt a is index a
	return w
}

// appendEvent appends the v1 JSON of w's event i, timed t, to b.
func appendEvent(b []byte, w *plan, i int, t time.Time) []byte {
	e := w.events[i]
	b = append(b, `{"event_id":"`...)
	b = append(b, w.id...)
	b = append(b, '-')
	b = strconv.AppendInt(b, int64(i), 10)
	b = append(b, `","type":"`...)
	switch e.kind {
	case evPrompt:
		b = append(b, "token_usage"...)
	case evTool, evToolFail:
		b = append(b, "tool_invocation"...)
	default:
		b = append(b, "workcycle"...)
	}
	b = append(b, `","time":"`...)
	b = t.UTC().AppendFormat(b, "2006-01-02T15:04:05.000Z")
	b = append(b, `","tenant_id":"`...)
	b = append(b, w.tenant...)
	b = append(b, `","workcycle_id":"`...)
	b = append(b, w.id...)
	b = append(b, `","agent_id":"`...)
	b = append(b, w.agent...)
	b = append(b, '"')
	switch e.kind {
	case evStarted:
		b = append(b, `,"phase":"started"`...)
	case evCompleted:
		b = append(b, `,"phase":"completed","outcome":"resolved","outcome_type":"case"`...)
	case evAbandoned:
		b = append(b, `,"phase":"completed","outcome":"abandoned","outcome_type":"case"`...)
	default:
		b = append(b, `,"awu_id":"awu-`...)
		b = strconv.AppendInt(b, int64(e.awu), 10)
		b = append(b, `","attempt":`...)
		b = strconv.AppendInt(b, int64(e.attempt), 10)
		if e.kind == evPrompt {
			b = append(b, `,"model":"claude-sonnet-4.6","provider":"anthropic","input_tokens":`...)
			b = strconv.AppendInt(b, int64(1000+31*(i+e.awu)%4000), 10)
			b = append(b, `,"output_tokens":`...)
			b = strconv.AppendInt(b, int64(100+17*(i+e.awu)%700), 10)
		} else {
			b = append(b, `,"tool":"kb.search","channel":"text","status":"`...)
			if e.kind == evToolFail {
				b = append(b, "failed"...)
			} else {
				b = append(b, "succeeded"...)
			}
			b = append(b, '"')
		}
	}
	return append(b, '}')
}

// schedule is the workcycles with events still to produce, by the due
// time of their next event (a min-heap).
type schedule []*plan

func (s schedule) Len() int { return len(s) }
func (s schedule) Less(i, j int) bool {
	return s[i].start.Add(s[i].events[s[i].next].at).Before(s[j].start.Add(s[j].events[s[j].next].at))
}
func (s schedule) Swap(i, j int) { s[i], s[j] = s[j], s[i] }
func (s *schedule) Push(x any)   { *s = append(*s, x.(*plan)) }
func (s *schedule) Pop() any {
	old := *s
	w := old[len(old)-1]
	*s = old[:len(old)-1]
	return w
}

// due reports whether the schedule's first workcycle has an event due at now.
func (s schedule) due(now time.Time) bool {
	return len(s) > 0 && !s[0].start.Add(s[0].events[s[0].next].at).After(now)
}

// pacer decides how many records are owed at each moment to keep a fixed
// rate from a start time.
type pacer struct {
	rate     float64 // records per second
	start    time.Time
	produced int64
}

// owed is how many records to produce now to be back on rate.
func (p *pacer) owed(now time.Time) int64 {
	target := int64(math.Floor(p.rate * now.Sub(p.start).Seconds()))
	return max(target-p.produced, 0)
}

// loadTick is what a tick of the producer hands on: the events to produce
// now, as (workcycle, event index) pairs.
type loadTick struct {
	w *plan
	i int
}

// load is the live workload: the schedule, the planner, and the runaways'
// clock.
type load struct {
	pl          *planner
	sched       schedule
	pace        pacer
	runawayGap  time.Duration // 0: no runaways
	nextRunaway time.Time
	started     int // workcycles started
}

func newLoad(pl *planner, rate float64, start time.Time, runawayGap time.Duration) *load {
	return &load{pl: pl, pace: pacer{rate: rate, start: start}, runawayGap: runawayGap, nextRunaway: start.Add(runawayGap / 2)}
}

// maxSpan is the longest a realistic workcycle lasts.
const maxSpan = 60 * time.Second

// meanEvents is the mean number of events of a realistic workcycle, from
// a thousand plans of a planner of its own.
func meanEvents() float64 {
	pl := newPlanner(1, "m", 1)
	n := 0
	for range 1000 {
		n += len(pl.realistic(time.Time{}).events)
	}
	return float64(n) / 1000
}

// warm starts the load in its steady state: the realistic workcycles that
// would have started in the maxSpan before it at the rate, each with only
// its events still to come (the earlier ones count as produced before the
// run and are left out, so versions still count what was produced).
// Without it the first minute would start far more workcycles, with
// fewer events each, to make up the rate. It returns the workcycles added.
func (l *load) warm() int {
	n := int(l.pace.rate / meanEvents() * maxSpan.Seconds())
	for j := range n {
		ago := time.Duration(float64(maxSpan) * (float64(j) + 0.5) / float64(n))
		w := l.pl.realistic(l.pace.start.Add(-ago))
		k := 0
		for k < len(w.events) && w.events[k].at < ago {
			k++
		}
		if k == len(w.events) {
			continue
		}
		w.events = w.events[k:]
		l.sched = append(l.sched, w)
		l.started++
	}
	heap.Init(&l.sched)
	return len(l.sched)
}

// tick returns the events owed at now, appended to out: due events of
// started workcycles first, earliest first, then the first events of new
// realistic workcycles for the rest; a runaway starts every runawayGap.
// The caller produces them in order and timestamps them when it does.
func (l *load) tick(now time.Time, out []loadTick) []loadTick {
	for l.runawayGap > 0 && !l.nextRunaway.After(now) {
		heap.Push(&l.sched, l.pl.runaway(now))
		l.started++
		l.nextRunaway = l.nextRunaway.Add(l.runawayGap)
	}
	for n := l.pace.owed(now); n > 0; n-- {
		if !l.sched.due(now) {
			heap.Push(&l.sched, l.pl.realistic(now))
			l.started++
		}
		w := l.sched[0]
		out = append(out, loadTick{w: w, i: w.next})
		w.next++
		if w.next == len(w.events) {
			heap.Pop(&l.sched)
		} else {
			heap.Fix(&l.sched, 0)
		}
		l.pace.produced++
	}
	return out
}

// percentile is the nearest-rank p-th percentile (0 < p <= 100) of sorted
// durations; 0 for none.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	return sorted[min(max(rank, 1), len(sorted))-1]
}

// latencyStats summarises samples: p50, p99, max and their count.
type latencyStats struct {
	n             int
	p50, p99, max time.Duration
}

func summarize(samples []time.Duration) latencyStats {
	s := slices.Clone(samples)
	slices.Sort(s)
	st := latencyStats{n: len(s), p50: percentile(s, 50), p99: percentile(s, 99)}
	if len(s) > 0 {
		st.max = s[len(s)-1]
	}
	return st
}
