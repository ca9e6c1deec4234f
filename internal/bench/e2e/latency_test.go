package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	ms := func(ns ...int) []time.Duration {
		out := make([]time.Duration, len(ns))
		for i, n := range ns {
			out[i] = time.Duration(n) * time.Millisecond
		}
		return out
	}
	if got := percentile(nil, 50); got != 0 {
		t.Errorf("no samples: %s", got)
	}
	one := ms(7)
	for _, p := range []float64{1, 50, 99, 100} {
		if got := percentile(one, p); got != 7*time.Millisecond {
			t.Errorf("p%.0f of one sample: %s", p, got)
		}
	}
	hundred := make([]int, 100)
	for i := range hundred {
		hundred[i] = i + 1
	}
	s := ms(hundred...)
	for p, want := range map[float64]time.Duration{50: 50 * time.Millisecond, 99: 99 * time.Millisecond, 100: 100 * time.Millisecond, 1: time.Millisecond} {
		if got := percentile(s, p); got != want {
			t.Errorf("p%v of 1..100 ms = %s, want %s (nearest rank)", p, got, want)
		}
	}
	st := summarize(ms(30, 10, 20))
	if st.n != 3 || st.p50 != 20*time.Millisecond || st.p99 != 30*time.Millisecond || st.max != 30*time.Millisecond {
		t.Errorf("summarize: %+v", st)
	}
}

func TestPacerOwesTheRate(t *testing.T) {
	t0 := time.Unix(1000, 0)
	p := pacer{rate: 1000, start: t0}
	if got := p.owed(t0); got != 0 {
		t.Errorf("owed at the start: %d", got)
	}
	if got := p.owed(t0.Add(10 * time.Millisecond)); got != 10 {
		t.Errorf("owed after 10 ms at 1000/s: %d", got)
	}
	p.produced = 15
	if got := p.owed(t0.Add(10 * time.Millisecond)); got != 0 {
		t.Errorf("ahead of the rate: owed %d", got)
	}
}

func TestLoadKeepsTheRateAndTheOrder(t *testing.T) {
	t0 := time.Unix(1000, 0)
	l := newLoad(newPlanner(7, "t", 50), 2000, t0, 2*time.Second)
	if n := l.warm(); n == 0 {
		t.Fatal("warm started no workcycle")
	}
	next := map[*plan]int{}
	var out []loadTick
	var runaways int
	for ms := 5; ms <= 10_000; ms += 5 {
		now := t0.Add(time.Duration(ms) * time.Millisecond)
		out = l.tick(now, out[:0])
		for _, d := range out {
			if d.i != next[d.w] {
				t.Fatalf("%s: event %d produced before event %d", d.w.id, d.i, next[d.w])
			}
			next[d.w]++
			if due := d.w.start.Add(d.w.events[d.i].at); due.After(now) {
				t.Fatalf("%s: event %d produced at %s, before it is due at %s", d.w.id, d.i, now, due)
			}
			if d.i == 0 && d.w.cross >= 0 {
				runaways++
			}
		}
	}
	if l.pace.produced != 20_000 {
		t.Errorf("produced %d records in 10 s at 2000/s", l.pace.produced)
	}
	if runaways != 5 {
		t.Errorf("%d runaways started in 10 s, want one every 2 s", runaways)
	}
}

func TestPlans(t *testing.T) {
	p := newPlanner(3, "x", 2)
	w := p.runaway(time.Unix(0, 0))
	if len(w.events) != runawayAttempts+2 || w.events[w.cross].attempt != runawayAbove+1 || w.events[w.cross].kind != evToolFail {
		t.Errorf("runaway: %d events, crossing %+v", len(w.events), w.events[w.cross])
	}
	var completed, sampled int
	for range 1000 {
		w := p.realistic(time.Unix(0, 0))
		if w.sampled {
			sampled++
		}
		if w.events[0].kind != evStarted || w.events[len(w.events)-1].at < 2*time.Second || w.events[len(w.events)-1].at > maxSpan {
			t.Fatalf("%s: %+v", w.id, w.events)
		}
		if w.events[len(w.events)-1].kind == evCompleted {
			completed++
		}
		for i := range w.events {
			var ev map[string]any
			b := appendEvent(nil, w, i, time.Unix(1, 5e6))
			if err := json.Unmarshal(b, &ev); err != nil {
				t.Fatalf("%s: %v", b, err)
			}
			if ev["workcycle_id"] != w.id || ev["time"] != "1970-01-01T00:00:01.005Z" {
				t.Fatalf("event %s", b)
			}
		}
	}
	if sampled != 500 {
		t.Errorf("%d of 1000 sampled, want one in 2", sampled)
	}
	if completed < 850 || completed > 950 {
		t.Errorf("%d of 1000 completed, want about 900", completed)
	}
	if m := meanEvents(); m < 4 || m > 10 {
		t.Errorf("mean events %.1f", m)
	}
}

func TestTrackerSeen(t *testing.T) {
	tr := newTracker()
	w := &plan{id: "w", sampled: true, cross: -1, events: make([]plannedEvent, 3)}
	t0 := time.Unix(0, 0)
	for i := range 3 {
		tr.produced(w, i, t0.Add(time.Duration(i)*time.Second))
	}
	tr.seen("w", 2, t0.Add(5*time.Second))
	if tr.unresolved() != 1 || len(tr.visible) != 2 || tr.visible[0] != 5*time.Second || tr.visible[1] != 4*time.Second {
		t.Errorf("after version 2: %d pending, visible %v", tr.unresolved(), tr.visible)
	}
	tr.seen("w", 3, t0.Add(6*time.Second))
	if tr.unresolved() != 0 || len(tr.ids()) != 0 || tr.visible[2] != 4*time.Second {
		t.Errorf("after version 3: %d pending, visible %v", tr.unresolved(), tr.visible)
	}
}

func TestLatencyConfigAndIntervals(t *testing.T) {
	cfg := latencyConfig("k:9092", "g", "t", "d", "a", "c:9000", "db", "127.0.0.1:1", time.Second, true)
	for _, want := range []string{"emit_interval: 1s", "topic: a", "name: bench-runaway", "metric: attempts", "above: 20"} {
		if !strings.Contains(cfg, want) {
			t.Errorf("config lacks %q:\n%s", want, cfg)
		}
	}
	if cfg := latencyConfig("k", "g", "t", "d", "a", "c", "db", "h", 0, false); strings.Contains(cfg, "guards") || !strings.Contains(cfg, "emit_interval: 0s") {
		t.Errorf("without guards:\n%s", cfg)
	}
	ds, err := parseEmitIntervals("5s, 1s,0")
	if err != nil || len(ds) != 3 || ds[0] != 5*time.Second || ds[2] != 0 {
		t.Errorf("parsed %v, %v", ds, err)
	}
	if _, err := parseEmitIntervals("-1s"); err == nil {
		t.Error("a negative interval: no error")
	}
}
