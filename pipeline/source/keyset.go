package source

import (
	"maps"
	"slices"
)

// keySet is the set of workcycle key hashes (sink.KeyHash) that a
// partition has stored events of: loaded from table workcycle_keys when the
// partition is assigned, and grown by every workcycle the engine meets
// afterwards. A hash absent from it means the workcycle has no stored
// events, so its first event needs no ledger read. It holds 8 bytes per
// workcycle once merged.
type keySet struct {
	sorted []uint64            // loaded and merged hashes, ascending, distinct
	added  map[uint64]struct{} // hashes added since the last merge
}

// mergeAt is the smallest number of added hashes that are merged into the
// sorted slice; above it they are merged once they are an eighth of it,
// which keeps merging linear overall.
const mergeAt = 4096

func newKeySet(loaded []uint64) *keySet {
	slices.Sort(loaded)
	return &keySet{sorted: slices.Clip(slices.Compact(loaded)), added: map[uint64]struct{}{}}
}

func (k *keySet) has(h uint64) bool {
	if _, ok := k.added[h]; ok {
		return true
	}
	_, ok := slices.BinarySearch(k.sorted, h)
	return ok
}

// add records h and reports whether it was absent.
func (k *keySet) add(h uint64) bool {
	if k.has(h) {
		return false
	}
	k.added[h] = struct{}{}
	if n := len(k.added); n >= mergeAt && n >= len(k.sorted)/8 {
		k.merge()
	}
	return true
}

func (k *keySet) merge() {
	add := slices.Sorted(maps.Keys(k.added))
	out := make([]uint64, 0, len(k.sorted)+len(add))
	i, j := 0, 0
	for i < len(k.sorted) && j < len(add) {
		if k.sorted[i] < add[j] {
			out = append(out, k.sorted[i])
			i++
		} else {
			out = append(out, add[j])
			j++
		}
	}
	out = append(append(out, k.sorted[i:]...), add[j:]...)
	k.sorted = out
	clear(k.added)
}

// len is the number of distinct hashes held.
func (k *keySet) len() int { return len(k.sorted) + len(k.added) }
