package source_test

import (
	"fmt"
	"testing"

	"github.com/awumeter/awumeter/internal/gen"
	"github.com/awumeter/awumeter/pipeline/decode"
	"github.com/awumeter/awumeter/pipeline/engine"
	"github.com/awumeter/awumeter/pipeline/offline"
)

type offlineRows struct {
	wcs  map[string]engine.WorkcycleRow
	awus map[string]engine.AWURow
}

// runOffline runs one engine over the stream in delivery order, as `awumeter
// process` does.
func runOffline(t *testing.T, s *gen.Stream, cfg engine.Config) offlineRows {
	t.Helper()
	dec, _ := decode.New(decode.FormatJSON, decode.DefaultConfig(), decode.Settings{})
	recs := make([]decode.Record, len(s.Records))
	for i, r := range s.Records {
		recs[i] = decode.Record{Offset: int64(i), Value: r.Line}
	}
	rows, err := offline.Run(dec, cfg, nil, recs)
	if err != nil {
		t.Fatal(err)
	}
	out := offlineRows{wcs: map[string]engine.WorkcycleRow{}, awus: map[string]engine.AWURow{}}
	for _, w := range rows.Workcycles {
		out.wcs[w.TenantID+"/"+w.WorkcycleID] = w
	}
	for _, a := range rows.AWUs {
		out.awus[a.TenantID+"/"+a.WorkcycleID+"/"+a.AWUID] = a
	}
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
