package offline_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/awumeter/awumeter/internal/gen"
	"github.com/awumeter/awumeter/internal/gen/truth"
	"github.com/awumeter/awumeter/pipeline/decode"
	"github.com/awumeter/awumeter/pipeline/engine"
	"github.com/awumeter/awumeter/pipeline/offline"
	"github.com/awumeter/awumeter/pipeline/price"
)

// The rows of a generated stream, with duplicates, retries, late and
// malformed records, equal the generator's truth, which computes them from
// the set of distinct valid events without the engine.
func TestRunEqualsTheTruth(t *testing.T) {
	cfg := gen.DefaultConfig()
	cfg.Workcycles = 300
	s, err := gen.Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	now := func() time.Time { return cfg.Start.Add(48 * time.Hour) }
	dec, err := decode.New(decode.FormatJSON, decode.DefaultConfig(), decode.Settings{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	recs := make([]decode.Record, len(s.Records))
	for i, r := range s.Records {
		recs[i] = decode.Record{Topic: "telemetry", Offset: int64(i), Value: r.Line}
	}
	got, err := offline.Run(dec, engine.DefaultConfig(), price.Default(), recs)
	if err != nil {
		t.Fatal(err)
	}
	wantW, wantA := truth.Rows(s.Events(), price.Default())
	if len(got.Workcycles) != len(wantW) || len(got.AWUs) != len(wantA) {
		t.Fatalf("%d workcycles and %d AWUs, want %d and %d", len(got.Workcycles), len(got.AWUs), len(wantW), len(wantA))
	}
	byKey := map[string]string{}
	for _, w := range got.Workcycles {
		byKey[w.TenantID+"/"+w.WorkcycleID] = fmt.Sprintf("%+v", w)
	}
	for _, w := range wantW {
		if g := byKey[w.TenantID+"/"+w.WorkcycleID]; g != fmt.Sprintf("%+v", w) {
			t.Fatalf("workcycle %s/%s:\n got %s\nwant %+v", w.TenantID, w.WorkcycleID, g, w)
		}
	}
}

// A record's rejections are the decoder's; an event the engine refuses is
// one more, as the service dead-letters it.
func TestRecordReportsRejections(t *testing.T) {
	dec, _ := decode.New(decode.FormatJSON, decode.DefaultConfig(), decode.Settings{})
	r, err := offline.New(dec, engine.DefaultConfig(), nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := r.Record(&decode.Record{Value: []byte(`{"type":"token_usage"}`)})
	if err != nil || len(res.Events) != 0 || len(res.Rejections) != 1 || res.Rejections[0].Reason != decode.ReasonMissingField {
		t.Errorf("%+v %v", res, err)
	}
}
