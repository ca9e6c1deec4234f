package price

import (
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
)

func TestUnknownModelsWarnsOncePerName(t *testing.T) {
	var u UnknownModels
	var warnings []string
	for _, m := range []string{"gpt-x", "gpt-x", "llama-9", "gpt-x", "llama-9"} {
		if u.Seen(m) {
			warnings = append(warnings, m)
		}
	}
	if want := []string{"gpt-x", "llama-9"}; !slices.Equal(warnings, want) {
		t.Errorf("warned for %v, want %v", warnings, want)
	}
	if got := u.Names(); !slices.Equal(got, []string{"gpt-x", "llama-9"}) {
		t.Errorf("Names() = %v", got)
	}
}

func TestUnknownModelsIsBounded(t *testing.T) {
	u := UnknownModels{Limit: 3}
	firsts := 0
	for i := range 10 {
		if u.Seen(fmt.Sprintf("m%d", i)) {
			firsts++
		}
	}
	if firsts != 3 || len(u.Names()) != 3 || u.Overflow() != 7 {
		t.Errorf("firsts %d, names %d, overflow %d; want 3, 3, 7", firsts, len(u.Names()), u.Overflow())
	}
}

func TestUnknownModelsConcurrentFirstIsUnique(t *testing.T) {
	var u UnknownModels
	var firsts atomic.Int64
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for i := range 100 {
				if u.Seen(fmt.Sprintf("m%d", i)) {
					firsts.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if firsts.Load() != 100 {
		t.Errorf("%d first sightings of 100 names", firsts.Load())
	}
}
