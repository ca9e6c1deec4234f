package decode

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/awumeter/awumeter/pipeline/event"
)

const ceData = `{"tenant_id":"acme","workcycle_id":"wc-1","awu_id":"call_9","tool":"create_ticket","status":"succeeded","event_id":"ignored","type":"ignored"}`

func binaryRecord(value string, headers ...string) *Record {
	rec := &Record{Topic: "ce", Value: []byte(value)}
	for i := 0; i+1 < len(headers); i += 2 {
		rec.Headers = append(rec.Headers, Header{Key: headers[i], Value: []byte(headers[i+1])})
	}
	return rec
}

func TestCloudEventsModes(t *testing.T) {
	want := event.Event{
		EventID: "//crm.example.com/agents/7 a1b2", Type: event.TypeToolInvocation,
		Time: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC), TenantID: "acme", WorkcycleID: "wc-1",
		AWUID: "call_9", Attempt: 1, Tool: "create_ticket", Status: event.StatusSucceeded,
		Source: event.Position{Topic: "ce"},
	}
	for _, tc := range []struct {
		name string
		rec  *Record
	}{
		{"structured", binaryRecord(`{"specversion":"1.0","id":"a1b2","source":"//crm.example.com/agents/7","type":"io.awumeter.tool_invocation.v1","time":"2026-03-01T12:00:00Z","datacontenttype":"application/json","data":`+ceData+`}`,
			"content-type", "application/cloudevents+json; charset=UTF-8")},
		{"structured without content-type", binaryRecord(`{"specversion":"1.0","id":"a1b2","source":"//crm.example.com/agents/7","type":"io.awumeter.tool_invocation.v1","time":"2026-03-01T12:00:00Z","data":` + ceData + `}`)},
		{"structured with the time in data", binaryRecord(`{"specversion":"1.0","id":"a1b2","source":"//crm.example.com/agents/7","type":"io.awumeter.tool_invocation.v1","data":{"time":"2026-03-01T13:00:00+01:00",` + ceData[1:] + `}`)},
		{"binary", binaryRecord(ceData, "ce_specversion", "1.0", "ce_id", "a1b2", "ce_source", "//crm.example.com/agents/7",
			"ce_type", "io.awumeter.tool_invocation.v1", "ce_time", "2026-03-01T12:00:00Z", "content-type", "application/json")},
		{"binary without content-type", binaryRecord(ceData, "ce_specversion", "1.0", "ce_id", "a1b2", "ce_source", "//crm.example.com/agents/7",
			"ce_type", "io.awumeter.tool_invocation.v1", "ce_time", "2026-03-01T12:00:00Z")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, rejs := decodeOne(t, newDecoder(t, FormatCloudEvents), tc.rec)
			if rejs != nil {
				t.Fatalf("rejected: %v", rejs[0])
			}
			if got != want {
				t.Errorf("got  %+v\nwant %+v", got, want)
			}
		})
	}
}

func TestCloudEventsRejections(t *testing.T) {
	env := func(attrs string) string {
		return `{"specversion":"1.0",` + attrs + `,"data":` + ceData + `}`
	}
	ok := `"id":"1","source":"/s","type":"io.awumeter.tool_invocation.v1","time":"2026-03-01T12:00:00Z"`
	for _, tc := range []struct {
		name   string
		rec    *Record
		reason Reason
		detail string
	}{
		{"missing id", binaryRecord(env(`"source":"/s","type":"io.awumeter.workcycle.v1"`)), ReasonBadCloudEvent, "missing context attribute id"},
		{"missing specversion", binaryRecord(`{"id":"1","source":"/s","type":"io.awumeter.workcycle.v1","data":{}}`), ReasonBadCloudEvent, "specversion"},
		{"specversion 0.3", binaryRecord(`{"specversion":"0.3",` + ok + `,"data":` + ceData + `}`), ReasonUnsupportedVersion, `"0.3"`},
		{"unknown type", binaryRecord(env(`"id":"1","source":"/s","type":"com.example.order.created"`)), ReasonUnknownType, "com.example.order.created"},
		{"id not a string", binaryRecord(env(`"id":1,"source":"/s","type":"io.awumeter.workcycle.v1"`)), ReasonBadCloudEvent, "id must be a string, got number"},
		{"source with a space", binaryRecord(env(`"id":"1","source":"/a b","type":"io.awumeter.workcycle.v1"`)), ReasonBadCloudEvent, "contains a space"},
		{"missing data", binaryRecord(`{"specversion":"1.0",` + ok + `}`), ReasonMissingField, "missing CloudEvents data"},
		{"data not an object", binaryRecord(`{"specversion":"1.0",` + ok + `,"data":"text"}`), ReasonNotObject, "got string"},
		{"data_base64", binaryRecord(`{"specversion":"1.0",` + ok + `,"data_base64":"e30="}`), ReasonUnsupportedContent, "data_base64"},
		{"xml data", binaryRecord(`{"specversion":"1.0",` + ok + `,"datacontenttype":"application/xml","data":{}}`), ReasonUnsupportedContent, "application/xml"},
		{"batch mode", binaryRecord(`[`+env(ok)+`]`, "content-type", "application/cloudevents-batch+json"), ReasonUnsupportedContent, "cloudevents-batch"},
		{"bad time attribute", binaryRecord(env(`"id":"1","source":"/s","type":"io.awumeter.tool_invocation.v1","time":"yesterday"`)), ReasonBadTime, "yesterday"},
		{"field error inside data", binaryRecord(`{"specversion":"1.0",` + ok + `,"data":{"tenant_id":"acme","workcycle_id":"w","awu_id":"a","tool":"t","status":"done"}}`), ReasonBadStatus, `"done"`},
		{"binary with text payload", binaryRecord(`hello`, "ce_specversion", "1.0", "ce_id", "1", "ce_source", "/s", "ce_type", "io.awumeter.workcycle.v1"), ReasonNotJSON, "CloudEvents data is not JSON"},
		{"binary with non-JSON content-type", binaryRecord(ceData, "ce_specversion", "1.0", "content-type", "text/plain"), ReasonUnsupportedContent, "text/plain"},
		{"binary without ce_id", binaryRecord(ceData, "ce_specversion", "1.0", "ce_source", "/s", "ce_type", "io.awumeter.workcycle.v1"), ReasonBadCloudEvent, "missing context attribute id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, rejs := decodeOne(t, newDecoder(t, FormatCloudEvents), tc.rec)
			if rejs == nil {
				t.Fatal("accepted, want a rejection")
			}
			if rejs[0].Reason != tc.reason || !strings.Contains(rejs[0].Detail, tc.detail) {
				t.Errorf("got %v, want %s with detail containing %q", rejs[0], tc.reason, tc.detail)
			}
		})
	}
}

// TestCloudEventsSamples decodes the structured samples in
// testdata/decode/cloudevents and compares them with their golden output.
func TestCloudEventsSamples(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(testdataDir, "cloudevents", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no samples: %v", err)
	}
	d := newDecoder(t, FormatCloudEvents)
	got := map[string]goldenResult{}
	for _, f := range files {
		evs, res := d.Decode(&Record{Value: readFile(t, f)}, nil)
		got[filepath.Base(f)] = toGoldenResult(evs, res)
	}
	checkGolden(t, "cloudevents.golden.json", got)
}
