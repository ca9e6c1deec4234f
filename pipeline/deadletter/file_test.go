package deadletter

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"testing"

	"github.com/awumeter/awumeter/pipeline/decode"
)

func TestFileWriterRoundTripsRecords(t *testing.T) {
	values := [][]byte{
		[]byte(`{"event_id":"e2","type":"token_usage","note":"<a & b>"}`),
		[]byte("line one\nline two\t\"quoted\" \u2028 é"),
		{0xff, 0xfe, 'a', 0x00, 0x80},
		{},
	}
	var buf bytes.Buffer
	fw := NewFileWriter(&buf)
	for i, v := range values {
		rec := sampleRecord()
		rec.Value = v
		if i == 2 {
			rec.Key = []byte{0xc3}
		}
		l, _ := New(rec, []decode.Rejection{{Reason: decode.ReasonNotJSON, Detail: fmt.Sprintf("record %d", i)}})
		if err := fw.Write(&l); err != nil {
			t.Fatal(err)
		}
	}
	if err := fw.Flush(); err != nil {
		t.Fatal(err)
	}

	sc := bufio.NewScanner(&buf)
	i := 0
	for sc.Scan() {
		var ln Line
		if err := json.Unmarshal(sc.Bytes(), &ln); err != nil {
			t.Fatalf("line %d is not JSON: %v", i, err)
		}
		got, err := ln.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, values[i]) {
			t.Errorf("line %d: record %q, want %q", i, got, values[i])
		}
		if ln.Reason != "not_json" || ln.Detail != fmt.Sprintf("record %d", i) || ln.Topic != "agent-events" || *ln.Offset != 1234567 || *ln.Partition != 4 {
			t.Errorf("line %d: %+v", i, ln)
		}
		if (ln.RecordBase64 != "") != (i == 2) {
			t.Errorf("line %d: record_base64 %q set only for invalid UTF-8", i, ln.RecordBase64)
		}
		if i == 2 && ln.KeyBase64 != "ww==" {
			t.Errorf("key_base64 = %q", ln.KeyBase64)
		}
		i++
	}
	if i != len(values) {
		t.Fatalf("got %d lines, want %d", i, len(values))
	}
}

func TestFileLineShape(t *testing.T) {
	rec := &decode.Record{Value: []byte(`{"a":1}`)} // offline: no topic, no key
	l, _ := New(rec, []decode.Rejection{{Reason: decode.ReasonMissingField, Detail: "missing field type"}})
	var buf bytes.Buffer
	fw := NewFileWriter(&buf)
	_ = fw.Write(&l)
	_ = fw.Flush()
	want := `{"reason":"missing_field","detail":"missing field type","record":"{\"a\":1}"}` + "\n"
	if buf.String() != want {
		t.Errorf("got  %s\nwant %s", buf.String(), want)
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestFileWriterReportsWriteErrors(t *testing.T) {
	fw := NewFileWriter(failingWriter{})
	l, _ := New(sampleRecord(), []decode.Rejection{{Reason: decode.ReasonNotJSON, Detail: "x"}})
	_ = fw.Write(&l)
	if err := fw.Flush(); err == nil || err.Error() != "cannot flush dead letters: disk full" {
		t.Errorf("got %v", err)
	}
}

func ExampleFileWriter() {
	var buf bytes.Buffer
	fw := NewFileWriter(&buf)
	rec := &decode.Record{Value: []byte(`{"event_id":"e1","type":"token_usage","input_tokens":-3}`)}
	l, _ := New(rec, []decode.Rejection{{Reason: decode.ReasonMissingField, Detail: "missing field time"}})
	_ = fw.Write(&l)
	_ = fw.Flush()
	fmt.Print(buf.String())
	// Output:
	// {"reason":"missing_field","detail":"missing field time","record":"{\"event_id\":\"e1\",\"type\":\"token_usage\",\"input_tokens\":-3}"}
}
