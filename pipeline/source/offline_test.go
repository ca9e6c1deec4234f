package source_test

import (
	"fmt"
	"testing"

	"github.com/awumeter/awumeter/internal/gen"
	"github.com/awumeter/awumeter/pipeline/decode"
	"github.com/awumeter/awumeter/pipeline/engine"
	"github.com/awumeter/awumeter/pipeline/event"
)

type offlineRows struct {
	wcs  map[string]engine.WorkcycleRow
	awus map[string]engine.AWURow
}

// offline runs one engine over the stream in delivery order, as `awumeter
// process` does.
func offline(t *testing.T, s *gen.Stream, cfg engine.Config) offlineRows {
	t.Helper()
	dec, _ := decode.New(decode.FormatJSON, decode.DefaultConfig(), decode.Settings{})
	ledger := engine.NewMemoryHistory()
	eng, err := engine.New(cfg, engine.Settings{History: ledger})
	if err != nil {
		t.Fatal(err)
	}
	out := offlineRows{wcs: map[string]engine.WorkcycleRow{}, awus: map[string]engine.AWURow{}}
	keep := func(r engine.Rows) {
		for _, w := range r.Workcycles {
			out.wcs[w.TenantID+"/"+w.WorkcycleID] = w
		}
		for _, a := range r.AWUs {
			out.awus[a.TenantID+"/"+a.WorkcycleID+"/"+a.AWUID] = a
		}
	}
	var evs []event.Event
	for i, r := range s.Records {
		rec := decode.Record{Offset: int64(i), Value: r.Line}
		evs, _ = dec.Decode(&rec, evs[:0])
		for j := range evs {
			if o, _ := eng.Apply(&evs[j]); o.Accepted() {
				ledger.Add(&evs[j])
			}
		}
		keep(eng.Emit())
	}
	keep(eng.Flush())
	return out
}

func diffRows(want offlineRows, got *memSink) string {
	if len(want.wcs) != len(got.wcs) || len(want.awus) != len(got.awus) {
		return fmt.Sprintf("%d workcycles and %d AWUs, want %d and %d", len(got.wcs), len(got.awus), len(want.wcs), len(want.awus))
	}
	for k, w := range want.wcs {
		if g := got.wcs[k]; fmt.Sprint(g) != fmt.Sprint(w) {
			return fmt.Sprintf("workcycle %s:\n got %+v\nwant %+v", k, g, w)
		}
	}
	for k, w := range want.awus {
		if g := got.awus[k]; fmt.Sprint(g) != fmt.Sprint(w) {
			return fmt.Sprintf("AWU %s:\n got %+v\nwant %+v", k, g, w)
		}
	}
	return ""
}
