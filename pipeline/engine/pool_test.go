package engine

import "testing"

func TestArrayPool(t *testing.T) {
	p := arrayPool[string]{minCap: 2}
	var s []string
	for i := range 9 {
		s = p.appendTo(s, string(rune('a'+i)))
	}
	if len(s) != 9 || cap(s) != 16 || s[0] != "a" || s[8] != "i" {
		t.Fatalf("appendTo: %q, cap %d", s, cap(s))
	}
	// The arrays of capacity 2, 4 and 8 were recycled, cleared.
	for _, c := range []int{2, 4, 8} {
		a := p.get(c)
		if len(a) != 0 || cap(a) != c {
			t.Fatalf("get(%d): len %d cap %d", c, len(a), cap(a))
		}
		for i, v := range a[:c] {
			if v != "" {
				t.Fatalf("get(%d): element %d is %q, want cleared", c, i, v)
			}
		}
	}
	p.put(s)
	if a := p.get(16); cap(a) != 16 || a[:16][8] != "" {
		t.Fatalf("get(16) after put: cap %d, not cleared", cap(a))
	}
	p.put(make([]string, 0, 3)) // not a pool size: dropped
	if a := p.get(4); cap(a) != 4 {
		t.Fatalf("get(4): cap %d", cap(a))
	}
	for range poolLimit + 10 {
		p.put(make([]string, 0, 2))
	}
	if n := len(p.free[0]); n != poolLimit {
		t.Fatalf("%d free arrays kept, want %d", n, poolLimit)
	}
}
