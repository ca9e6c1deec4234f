package engine

import (
	"testing"
	"time"
)

// TestFrontierCountsARebuiltWorkcycleOnce checks that a workcycle evicted
// and rebuilt from History (a new state with the same key) is still one
// workcycle to the frontier, so that two events of one skewed workcycle
// cannot corroborate each other.
func TestFrontierCountsARebuiltWorkcycleOnce(t *testing.T) {
	const window = int64(15 * time.Minute)
	base := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC).UnixNano()
	ahead := base + int64(23*time.Hour+50*time.Minute)
	f := newFrontier()
	normal := newWorkcycle(wcKey{tenant: "t", id: "normal"})
	skewed := newWorkcycle(wcKey{tenant: "t", id: "skewed"})
	f.observe(normal, base, window)
	f.observe(skewed, ahead, window)
	if f.at != base {
		t.Fatalf("frontier %d, want the normal workcycle's %d", f.at, base)
	}
	f.detach(skewed) // evicted
	rebuilt := newWorkcycle(wcKey{tenant: "t", id: "skewed"})
	f.observe(rebuilt, ahead+int64(time.Second), window)
	if f.at != base {
		t.Fatalf("frontier %d after the rebuilt workcycle's event, want %d: it counted twice", f.at, base)
	}
	if f.first.wc != rebuilt || f.second.wc != normal {
		t.Fatal("the rebuilt workcycle did not take its entry back")
	}
	other := newWorkcycle(wcKey{tenant: "t", id: "other"})
	f.observe(other, ahead, window) // corroborates it
	if want := ahead + int64(time.Second); f.at != want {
		t.Fatalf("frontier %d, want %d once another workcycle corroborates", f.at, want)
	}
}
