package gen_test

import (
	"fmt"
	"reflect"
	"regexp"
	"testing"
	"time"

	"github.com/awumeter/awumeter/internal/gen"
	"github.com/awumeter/awumeter/internal/gen/truth"
	"github.com/awumeter/awumeter/pipeline/decode"
	"github.com/awumeter/awumeter/pipeline/event"
	"github.com/awumeter/awumeter/pipeline/price"
)

// roundTripConfig mixes in everything the decoders must get right:
// duplicates, conflicting re-sends and plenty of malformed records.
func roundTripConfig() gen.Config {
	cfg := gen.DefaultConfig()
	cfg.Seed = 5
	cfg.Workcycles = 400
	cfg.ConflictRate = 0.02
	cfg.MalformedRate = 0.03
	return cfg
}

var otlpEventID = regexp.MustCompile(`^[0-9a-f]{32}-[0-9a-f]{16}$`)

// TestEncodeRoundTrip encodes a generated stream in every format, decodes it
// with pipeline/decode and checks that every record decodes to the event it
// was made from (only the event id is the format's own), that malformed
// records are rejected, and that the distinct events, and so the final rows,
// are the same as the generator's.
func TestEncodeRoundTrip(t *testing.T) {
	s, err := gen.Generate(roundTripConfig())
	if err != nil {
		t.Fatal(err)
	}
	book, err := price.LoadOrDefault("")
	if err != nil {
		t.Fatal(err)
	}
	now := func() time.Time { return time.Date(2026, 11, 3, 0, 0, 0, 0, time.UTC) }
	for _, format := range gen.Formats() {
		t.Run(format, func(t *testing.T) {
			enc, err := gen.NewEncoder(format)
			if err != nil {
				t.Fatal(err)
			}
			dec, err := decode.New(gen.DecoderFormat(format), decode.DefaultConfig(), decode.Settings{Now: now})
			if err != nil {
				t.Fatal(err)
			}
			otlp := format == gen.FormatOTLPProto || format == gen.FormatOTLPJSON
			var decoded, carried []event.Event
			ids := map[string]string{} // decoded id -> generated id, to prove the mapping one-to-one
			var skipped, rejected int
			reasons := map[decode.Reason]int{}
			for i, r := range s.Records {
				msg, ok := enc.Encode(&r)
				if !ok {
					if !otlp || !notInOTLP(r.Event) {
						t.Fatalf("record %d (%s %s) was not encoded", i, r.Event.Type, r.Event.Status)
					}
					skipped++
					continue
				}
				if r.Kind != gen.KindMalformed && string(msg.Key) != r.Event.WorkcycleID {
					t.Fatalf("record %d: key %q, want the workcycle id %q", i, msg.Key, r.Event.WorkcycleID)
				}
				rec := &decode.Record{Topic: "t", Offset: int64(i), Key: msg.Key, Value: msg.Value}
				for _, h := range msg.Headers {
					rec.Headers = append(rec.Headers, decode.Header{Key: h.Key, Value: h.Value})
				}
				evs, res := dec.Decode(rec, nil)
				if r.Kind == gen.KindMalformed {
					if len(evs) != 0 || len(res.Rejections) == 0 {
						t.Fatalf("malformed record %d decoded to %d events and %d rejections:\n%s", i, len(evs), len(res.Rejections), msg.Value)
					}
					rejected++
					reasons[res.Rejections[0].Reason]++
					continue
				}
				if len(evs) != 1 || len(res.Rejections) != 0 || res.Ignored.Total() != 0 {
					t.Fatalf("record %d decoded to %d events, rejections %v, ignored %+v:\n%s", i, len(evs), res.Rejections, res.Ignored, msg.Value)
				}
				got := evs[0]
				if got.Source.Offset != int64(i) {
					t.Fatalf("record %d: source offset %d", i, got.Source.Offset)
				}
				got.Source = event.Position{}
				want := *r.Event
				want.EventID = got.EventID
				if !sameEvent(got, want) {
					t.Fatalf("record %d:\n got %+v\nwant %+v", i, got, want)
				}
				switch {
				case otlp:
					if !otlpEventID.MatchString(got.EventID) {
						t.Fatalf("record %d: OTLP event id %q is not trace-span hex", i, got.EventID)
					}
				case format == gen.FormatJSON:
					if got.EventID != r.Event.EventID {
						t.Fatalf("record %d: event id %q, want %q", i, got.EventID, r.Event.EventID)
					}
				default:
					if got.EventID != gen.CloudEventsSource+" "+r.Event.EventID {
						t.Fatalf("record %d: event id %q, want source + \" \" + id", i, got.EventID)
					}
				}
				if prev, ok := ids[got.EventID]; ok && prev != r.Event.EventID {
					t.Fatalf("events %s and %s both decode to id %s", prev, r.Event.EventID, got.EventID)
				}
				ids[got.EventID] = r.Event.EventID
				if p, _ := enc.Project(r.Event); !sameEvent(p, got) {
					t.Fatalf("record %d: Project gives\n%+v\nthe decoder\n%+v", i, p, got)
				}
				decoded = append(decoded, got)
				carried = append(carried, *r.Event)
			}
			if rejected == 0 || (otlp && skipped == 0) || (!otlp && skipped != 0) {
				t.Fatalf("rejected %d malformed records, skipped %d events", rejected, skipped)
			}
			if len(reasons) < 3 {
				t.Errorf("malformed records exercise only %v", reasons)
			}

			// The distinct events, and so the rows, are the generator's.
			gotW, gotA := truth.Rows(decoded, book)
			wantW, wantA := truth.Rows(carried, book)
			if !reflect.DeepEqual(gotW, wantW) || !reflect.DeepEqual(gotA, wantA) {
				t.Fatal("the decoded events give other rows than the generated ones")
			}
			projW, projA := truth.Rows(enc.Events(s), book)
			if !reflect.DeepEqual(gotW, projW) || !reflect.DeepEqual(gotA, projA) {
				t.Fatal("Encoder.Events gives other rows than the decoder")
			}
			if !otlp {
				natW, natA := truth.Rows(s.Events(), book)
				if !reflect.DeepEqual(gotW, natW) || !reflect.DeepEqual(gotA, natA) {
					t.Fatal("the format changed the rows")
				}
			}
			t.Logf("%d records: %d decoded, %d malformed rejected %v, %d not expressible", len(s.Records), len(decoded), rejected, reasons, skipped)
		})
	}
}

// notInOTLP: OTLP spans cannot carry workcycle events or validated and
// rolled_back reports.
func notInOTLP(ev *event.Event) bool {
	return ev.Type == event.TypeWorkcycle || ev.Status == event.StatusValidated || ev.Status == event.StatusRolledBack
}

func sameEvent(a, b event.Event) bool {
	if !a.Time.Equal(b.Time) {
		return false
	}
	a.Time, b.Time = time.Time{}, time.Time{}
	return a == b
}

func TestNewEncoderRejectsUnknownFormats(t *testing.T) {
	if _, err := gen.NewEncoder("avro"); err == nil {
		t.Fatal("want an error naming the formats")
	}
	for _, f := range gen.Formats() {
		if err := decode.ValidateFormat(gen.DecoderFormat(f)); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}

func ExampleEncoder_Encode() {
	cfg := gen.DefaultConfig()
	cfg.Workcycles, cfg.MalformedRate = 1, 0
	s, _ := gen.Generate(cfg)
	enc, _ := gen.NewEncoder(gen.FormatCloudEventsBinary)
	msg, _ := enc.Encode(&s.Records[0])
	for _, h := range msg.Headers[:4] {
		if h.Key == "ce_id" {
			continue
		}
		fmt.Printf("%s: %s\n", h.Key, h.Value)
	}
	fmt.Printf("key: %s\n", msg.Key)
	// Output:
	// ce_specversion: 1.0
	// ce_source: /awumeter/gen
	// ce_type: io.awumeter.token_usage.v1
	// key: wc-000000-e6e217b9
}
