package engine

import (
	"strconv"
	"testing"
)

// TestIDSetShrinks checks that deleting most entries returns the table's
// space, which would otherwise stay at its peak after a burst of events is
// evicted, and that every remaining entry is still found.
func TestIDSetShrinks(t *testing.T) {
	var s idSet
	keys := make([]idKey, 100_000)
	for i := range keys {
		keys[i] = fingerprint("t", strconv.Itoa(i)+"-event")
		s.add(keys[i], uint64(i))
	}
	peak := len(s.slots)
	for _, k := range keys[100:] {
		s.del(k)
	}
	if len(s.slots) > peak/64 {
		t.Fatalf("%d slots for %d entries after deletes, peak %d: the table did not shrink", len(s.slots), s.len(), peak)
	}
	for i, k := range keys[:100] {
		if c, ok := s.get(k); !ok || c != uint64(i) {
			t.Fatalf("entry %d lost after shrinking", i)
		}
	}
	for _, k := range keys[:100] {
		s.del(k)
	}
	if s.len() != 0 || len(s.slots) != idSetMinSlots {
		t.Fatalf("%d entries, %d slots after deleting all; want 0 and %d", s.len(), len(s.slots), idSetMinSlots)
	}
}
