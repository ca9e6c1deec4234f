package deadletter

import (
	"strings"
	"testing"
	"time"

	"github.com/awumeter/awumeter/pipeline/decode"
)

func sampleRecord() *decode.Record {
	return &decode.Record{
		Topic: "agent-events", Partition: 4, Offset: 1234567,
		Key:       []byte("wc-8841"),
		Value:     []byte(`{"event_id":"e2","type":"token_usage"}`),
		Headers:   []decode.Header{{Key: "traceparent", Value: []byte("00-4bf9-01")}, {Key: HeaderReason, Value: []byte("stale")}},
		Timestamp: time.Date(2026, 3, 1, 12, 0, 0, 123456789, time.FixedZone("CET", 3600)),
	}
}

func TestKafkaHeaders(t *testing.T) {
	rec := sampleRecord()
	l, ok := New(rec, []decode.Rejection{
		{Reason: decode.ReasonMissingField, Detail: "missing field time"},
		{Reason: decode.ReasonNegative, Detail: "other"},
	})
	if !ok {
		t.Fatal("no letter")
	}
	var got []string
	for _, h := range l.KafkaHeaders() {
		got = append(got, h.Key+"="+string(h.Value))
	}
	want := []string{
		"traceparent=00-4bf9-01",
		"awumeter.dlq.reason=missing_field",
		"awumeter.dlq.detail=missing field time",
		"awumeter.dlq.rejections=2",
		"awumeter.dlq.source.topic=agent-events",
		"awumeter.dlq.source.partition=4",
		"awumeter.dlq.source.offset=1234567",
		"awumeter.dlq.source.timestamp=2026-03-01T11:00:00.123Z",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("headers:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if string(l.Key) != "wc-8841" || &l.Value[0] != &rec.Value[0] {
		t.Error("key and value are not the original bytes")
	}
	if len(rec.Headers) != 2 || rec.Headers[1].Key != HeaderReason {
		t.Error("the record's own headers were modified")
	}
}

func TestNewWithoutRejections(t *testing.T) {
	if _, ok := New(sampleRecord(), nil); ok {
		t.Error("letter made for a record with no rejection")
	}
}

func TestDetailHeaderIsBoundedAndValidUTF8(t *testing.T) {
	l, _ := New(sampleRecord(), []decode.Rejection{{Reason: decode.ReasonBadStatus, Detail: strings.Repeat("é", 600) + "\xff"}})
	for _, h := range l.KafkaHeaders() {
		if h.Key == HeaderDetail {
			if len(h.Value) > maxDetailBytes || !strings.HasPrefix(string(h.Value), "éé") || strings.ContainsRune(string(h.Value), '\uFFFD') {
				t.Errorf("detail header: %d bytes, %q...", len(h.Value), h.Value[:8])
			}
			if !utf8Valid(h.Value) {
				t.Error("detail header is not valid UTF-8")
			}
		}
	}
}

func utf8Valid(b []byte) bool { return strings.ToValidUTF8(string(b), "") == string(b) }
