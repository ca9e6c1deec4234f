package engine

import (
	"math/rand/v2"
	"testing"
)

// TestIDSet checks the table against a map under random inserts, lookups
// and deletes, with keys crowded into few home slots so that probe runs
// wrap around and deletions shift entries back.
func TestIDSet(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var s idSet
	want := map[idKey]uint64{}
	var keys []idKey
	key := func() idKey {
		// Low bits from a small range: long runs and wrap-around.
		return idKey{a: rng.Uint64()&^0xffff | rng.Uint64N(8) | uint64(rng.IntN(2))<<15, b: rng.Uint64N(4)}
	}
	for step := range 30_000 {
		switch op := rng.IntN(10); {
		case op < 5:
			k := key()
			if step%1000 == 0 {
				k.a = 0 // the key that shares its slot with k.a == 1
			}
			if _, ok := want[k]; ok {
				continue
			}
			c := rng.Uint64()
			want[k] = c
			keys = append(keys, k)
			s.add(k, c)
		case op < 8 && len(keys) > 0:
			i := rng.IntN(len(keys))
			k := keys[i]
			keys[i] = keys[len(keys)-1]
			keys = keys[:len(keys)-1]
			delete(want, k)
			s.del(k)
		default:
			k := key()
			if len(keys) > 0 && rng.IntN(2) == 0 {
				k = keys[rng.IntN(len(keys))]
			}
			c, ok := s.get(k)
			wc, wok := want[k]
			if ok != wok || c != wc {
				t.Fatalf("step %d: get(%v) = %d, %v; want %d, %v", step, k, c, ok, wc, wok)
			}
		}
		if s.len() != len(want) {
			t.Fatalf("step %d: len %d, want %d", step, s.len(), len(want))
		}
	}
	for k, c := range want {
		if got, ok := s.get(k); !ok || got != c {
			t.Fatalf("get(%v) = %d, %v; want %d", k, got, ok, c)
		}
	}
}
