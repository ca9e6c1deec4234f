package source

import (
	"math/rand/v2"
	"testing"
)

// The set answers exactly across loads, additions and the merges that
// fold additions into the sorted slice.
func TestKeySetIsExactAcrossMerges(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	loaded := make([]uint64, 3000)
	for i := range loaded {
		loaded[i] = r.Uint64()
	}
	loaded = append(loaded, loaded[:100]...) // duplicates, as the table may hold
	want := map[uint64]bool{}
	for _, h := range loaded {
		want[h] = true
	}
	k := newKeySet(append([]uint64(nil), loaded...))
	for range 50_000 {
		h := r.Uint64()
		if got := k.add(h); got == want[h] {
			t.Fatalf("add(%d) = %v with the hash already present: %v", h, got, want[h])
		}
		want[h] = true
	}
	if len(k.sorted) == 3000 {
		t.Fatal("no merge happened; the test needs more additions")
	}
	if k.len() != len(want) {
		t.Errorf("len %d, want %d", k.len(), len(want))
	}
	for h := range want {
		if !k.has(h) || k.add(h) {
			t.Fatalf("%d is missing", h)
		}
	}
	for range 10_000 {
		if h := r.Uint64(); !want[h] && k.has(h) {
			t.Fatalf("%d is present but was never added", h)
		}
	}
}
