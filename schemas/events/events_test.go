package events_test

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/awumeter/awumeter/pipeline/decode"
	"github.com/awumeter/awumeter/schemas/events"
)

// The examples are dated 2026-03-01; both sides judge them on the next day.
var now = time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)

// schemaBlind lists the reasons JSON Schema cannot express: a comparison of
// two fields, a comparison with the clock. The schema must accept examples
// rejected for them, which pins the gap down instead of hiding it.
var schemaBlind = map[decode.Reason]bool{
	decode.ReasonCacheInput:   true,
	decode.ReasonReasoningOut: true,
	decode.ReasonTimeBounds:   true,
}

// schemaKeywords lists, for each reason the schema can express, the
// keywords whose failure means the same thing.
var schemaKeywords = map[decode.Reason][]string{
	decode.ReasonMissingField: {"required", "minLength", "type"}, // type: null in a required field
	decode.ReasonWrongType:    {"type"},
	decode.ReasonUnknownType:  {"enum"},
	decode.ReasonBadTime:      {"format"},
	decode.ReasonBadInteger:   {"type", "maximum", "minimum"},
	decode.ReasonNegative:     {"minimum"},
	decode.ReasonTokensBound:  {"maximum"},
	decode.ReasonIDTooLong:    {"maxLength"},
	decode.ReasonFieldTooLong: {"maxLength"},
	decode.ReasonBadAttempt:   {"minimum", "maximum", "type"},
	decode.ReasonBadChannel:   {"enum"},
	decode.ReasonBadStatus:    {"enum"},
	decode.ReasonBadPhase:     {"enum"},
	decode.ReasonNotObject:    {"type"},

	decode.ReasonBadHumanMinutes: {"type", "minimum", "maximum", "multipleOf"}, // type: null off completed events
	decode.ReasonBadCSAT:         {"type", "minimum", "maximum"},
	decode.ReasonBadResolvedBy:   {"enum", "type"},
	decode.ReasonBadBy:           {"enum", "type"}, // type: null on succeeded and failed reports
}

func compile(t *testing.T) *jsonschema.Schema {
	t.Helper()
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	names, err := fs.Glob(events.FS, "*.schema.json")
	if err != nil || len(names) != 5 {
		t.Fatalf("embedded schemas: %v %v", names, err)
	}
	for _, n := range names {
		b, _ := events.FS.ReadFile(n)
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%s: %v", n, err)
		}
		if err := c.AddResource(events.BaseURL+n, doc); err != nil {
			t.Fatalf("%s: %v", n, err)
		}
	}
	sch, err := c.Compile(events.BaseURL + events.Event)
	if err != nil {
		t.Fatal(err)
	}
	return sch
}

// leafKeywords returns the last keyword of every leaf validation error.
func leafKeywords(err error) []string {
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return nil
	}
	var out []string
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) == 0 {
			if kp := e.ErrorKind.KeywordPath(); len(kp) > 0 {
				out = append(out, kp[len(kp)-1])
			}
		}
		for _, c := range e.Causes {
			walk(c)
		}
	}
	walk(ve)
	return out
}

func TestExamplesAgreeWithDecoder(t *testing.T) {
	sch := compile(t)
	dec, err := decode.New(decode.FormatJSON, decode.DefaultConfig(), decode.Settings{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob("examples/*/*.json")
	if len(files) < 30 {
		t.Fatalf("only %d examples", len(files))
	}
	seen := map[decode.Reason]bool{}
	for _, f := range files {
		t.Run(filepath.ToSlash(f), func(t *testing.T) {
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			wantValid := filepath.Base(filepath.Dir(f)) == "valid"
			var wantReason decode.Reason
			if !wantValid {
				r, _, ok := strings.Cut(filepath.Base(f), "__")
				if !ok {
					t.Fatal("invalid example names must be <reason>__<description>.json")
				}
				wantReason = decode.Reason(r)
				seen[wantReason] = true
			}

			// The Go decoder.
			evs, res := dec.Decode(&decode.Record{Value: raw}, nil)
			switch {
			case wantValid && len(evs) != 1:
				t.Fatalf("decoder rejected a valid example: %v", res.Rejections)
			case !wantValid && (len(res.Rejections) != 1 || res.Rejections[0].Reason != wantReason):
				t.Fatalf("decoder gave %v, want %s", res.Rejections, wantReason)
			}

			// The JSON Schema.
			doc, perr := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
			if wantReason == decode.ReasonNotJSON {
				if perr == nil {
					t.Fatal("encoding/json parsed a not_json example")
				}
				return
			}
			if perr != nil {
				t.Fatal(perr)
			}
			verr := sch.Validate(doc)
			switch {
			case wantValid || schemaBlind[wantReason]:
				if verr != nil {
					t.Fatalf("schema rejected it: %v", verr)
				}
			case verr == nil:
				t.Fatalf("schema accepted an example the decoder rejects as %s", wantReason)
			default:
				got := leafKeywords(verr)
				if !slices.ContainsFunc(got, func(k string) bool { return slices.Contains(schemaKeywords[wantReason], k) }) {
					t.Errorf("schema failed on %v, none of which means %s (%v)", got, wantReason, schemaKeywords[wantReason])
				}
			}
		})
	}
	for r := range schemaKeywords {
		if !seen[r] {
			t.Errorf("no invalid example for %s", r)
		}
	}
	for r := range schemaBlind {
		if !seen[r] {
			t.Errorf("no invalid example for %s", r)
		}
	}
}
