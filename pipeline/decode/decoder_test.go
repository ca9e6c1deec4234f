package decode

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/awumeter/awumeter/pipeline/format"
)

// The registry, Formats() and format.All() are one list, in one order: a
// format named in package format has a decoder, and a decoder has a name
// there.
func TestRegistryHoldsEveryFormat(t *testing.T) {
	for _, f := range format.All() {
		if decoders[f] == nil {
			t.Errorf("format %q has no decoder", f)
		}
	}
	for f := range decoders {
		if !slices.Contains(format.All(), f) {
			t.Errorf("decoder %q is not in format.All()", f)
		}
	}
	if got, want := Formats(), format.All(); !slices.Equal(got, want) {
		t.Errorf("Formats() = %v, want %v", got, want)
	}
	f := Formats()
	f[0] = "mutated"
	if Formats()[0] != format.JSON {
		t.Error("Formats() returns the registry's own slice")
	}
}

// Each format gets its own decoder; none falls through to another.
func TestNewBuildsTheFormatsDecoder(t *testing.T) {
	want := map[string]Decoder{
		format.JSON:        (*jsonDecoder)(nil),
		format.CloudEvents: (*cloudEventsDecoder)(nil),
		format.OTLPProto:   (*otlpProtoDecoder)(nil),
		format.OTLPJSON:    (*otlpJSONDecoder)(nil),
	}
	for _, f := range Formats() {
		w, ok := want[f]
		if !ok {
			t.Errorf("format %q: no expected decoder type in this test", f)
			continue
		}
		d, err := New(f, DefaultConfig(), testSettings())
		if err != nil {
			t.Fatalf("New(%q): %v", f, err)
		}
		if reflect.TypeOf(d) != reflect.TypeOf(w) {
			t.Errorf("New(%q) = %T, want %T", f, d, w)
		}
	}
}

// A name that is not in the registry is refused, however close it is to one
// that is.
func TestNewRefusesNamesOutsideTheRegistry(t *testing.T) {
	for _, name := range []string{"", "otlp", "OTLP_JSON", "otlp_json ", "cloudevents-binary", "protobuf"} {
		d, err := New(name, DefaultConfig(), testSettings())
		if err == nil || d != nil {
			t.Errorf("New(%q) = %T, %v; want an error", name, d, err)
			continue
		}
		if !strings.Contains(err.Error(), strings.Join(format.All(), ", ")) {
			t.Errorf("New(%q): error %q does not list the formats", name, err)
		}
		if ValidateFormat(name) == nil {
			t.Errorf("ValidateFormat(%q) accepted it", name)
		}
	}
	for _, f := range format.All() {
		if err := ValidateFormat(f); err != nil {
			t.Errorf("ValidateFormat(%q): %v", f, err)
		}
	}
}

// The decode package's names are the leaf package's.
func TestFormatNamesAreTheLeafPackages(t *testing.T) {
	got := []string{FormatJSON, FormatCloudEvents, FormatOTLPProto, FormatOTLPJSON}
	if !slices.Equal(got, format.All()) {
		t.Errorf("decode format names %v, package format %v", got, format.All())
	}
}

// ReasonInvalidEvent is a reason code like the decoders', so that its metric
// series is registered with theirs; its spelling is released.
func TestReasonsIncludeInvalidEvent(t *testing.T) {
	if ReasonInvalidEvent != "invalid_event" {
		t.Errorf("ReasonInvalidEvent = %q", ReasonInvalidEvent)
	}
	seen := map[Reason]bool{}
	for _, r := range Reasons() {
		if seen[r] {
			t.Errorf("reason %q listed twice", r)
		}
		seen[r] = true
	}
	if !seen[ReasonInvalidEvent] {
		t.Error("Reasons() lacks invalid_event")
	}
}

// The rejections table of docs/contract.md lists exactly Reasons().
func TestContractListsEveryReason(t *testing.T) {
	doc := string(readFile(t, "../../docs/contract.md"))
	const head = "## Rejections and dead letters"
	i := strings.Index(doc, head)
	if i < 0 {
		t.Fatalf("docs/contract.md has no section %q", head)
	}
	section := doc[i+len(head):]
	if end := strings.Index(section, "\n## "); end >= 0 {
		section = section[:end]
	}
	documented := map[Reason]bool{}
	inTable := false
	for line := range strings.Lines(section) {
		switch {
		case strings.HasPrefix(line, "| reason |"):
			inTable = true
		case inTable && !strings.HasPrefix(line, "|"):
			inTable = false
		case inTable && strings.HasPrefix(line, "| `"):
			cell := strings.Split(line, "|")[1]
			for j, code := range strings.Split(cell, "`") {
				if j%2 == 1 {
					documented[Reason(code)] = true
				}
			}
		}
	}
	for _, r := range Reasons() {
		if !documented[r] {
			t.Errorf("reason %q is not in the rejections table of docs/contract.md", r)
		}
		delete(documented, r)
	}
	for r := range documented {
		t.Errorf("docs/contract.md lists reason %q, which Reasons() does not", r)
	}
}
