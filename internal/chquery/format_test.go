package chquery

import (
	"bytes"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
)

func sample() *Result {
	name := "x\u202e"
	return &Result{
		Columns: []Column{
			{"day", "Date"}, {"tenant_id", "LowCardinality(String)"}, {"n", "UInt64"},
			{"delta", "Int64"}, {"cost", "Decimal(38, 12)"}, {"rate", "Float64"},
			{"at", "DateTime64(3, 'UTC')"}, {"note", "Nullable(String)"},
		},
		Rows: [][]any{
			{time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC), "-acme", uint64(18446744073709551615), int64(-5),
				decimal.RequireFromString("0.000000000001"), 0.25,
				time.Date(2026, 10, 1, 9, 0, 0, 250e6, time.UTC), &name},
			{time.Date(2026, 10, 2, 0, 0, 0, 0, time.UTC), "b\n\x1b[2J", uint64(7), int64(12),
				decimal.RequireFromString("12.5"), math.NaN(),
				time.Date(2026, 10, 2, 0, 0, 0, 0, time.UTC), (*string)(nil)},
		},
	}
}

func write(t *testing.T, format string) string {
	t.Helper()
	var b bytes.Buffer
	if err := Write(&b, format, sample()); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestWriteTable(t *testing.T) {
	want := "" +
		"day         tenant_id                      n  delta            cost  rate  at                       note\n" +
		"2026-10-01  -acme       18446744073709551615     -5  0.000000000001  0.25  2026-10-01 09:00:00.250  x\\u202e\n" +
		"2026-10-02  b\\n\\x1b[2J                     7     12            12.5  NaN   2026-10-02 00:00:00.000  NULL\n"
	if got := write(t, "table"); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestWriteCSV(t *testing.T) {
	want := "" +
		"day,tenant_id,n,delta,cost,rate,at,note\n" +
		"2026-10-01,'-acme,18446744073709551615,-5,0.000000000001,0.25,2026-10-01 09:00:00.250,x\u202e\n" +
		"2026-10-02,\"b\n\x1b[2J\",7,12,12.5,NaN,2026-10-02 00:00:00.000,\n"
	if got := write(t, "csv"); got != want {
		t.Errorf("got\n%q\nwant\n%q", got, want)
	}
}

func TestWriteJSON(t *testing.T) {
	want := "" +
		`{"day":"2026-10-01","tenant_id":"-acme","n":18446744073709551615,"delta":-5,"cost":"0.000000000001","rate":0.25,"at":"2026-10-01 09:00:00.250","note":"x‮"}` + "\n" +
		`{"day":"2026-10-02","tenant_id":"b\n\u001b[2J","n":7,"delta":12,"cost":"12.5","rate":"NaN","at":"2026-10-02 00:00:00.000","note":null}` + "\n"
	if got := write(t, "json"); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestWriteRefusesAnUnknownFormat(t *testing.T) {
	if err := Write(new(bytes.Buffer), "xml", sample()); err == nil || !strings.Contains(err.Error(), "table, csv, json") {
		t.Error(err)
	}
}
