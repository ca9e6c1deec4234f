package guard

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/awumeter/awumeter/pipeline/engine"
)

// Expected ids were computed by hand with Python's own UUID implementation,
// independent of this package and of github.com/google/uuid:
//
//	import uuid
//	ns = uuid.UUID("ec0c3122-288d-442c-b21c-20e01be7b767")
//	uuid.uuid5(ns, "\0".join(["runaway-retries", "workcycle", "acme", "wc-8841", "", "0"]))
const (
	idRunawayRetries  = "e1a9f8c5-f06f-5cf2-9bb8-216a9ec02d45" // runaway-retries, workcycle, acme, wc-8841, "", 0
	idCostlyWorkcycle = "b4538c7b-e0e2-5513-9fa7-47d82979747c" // costly-workcycle, workcycle, acme, wc-8841, "", 0
	idAWURetries      = "c67b4af4-0422-5d44-979d-c026499429f9" // awu-retries, awu, acme, wc-8841, awu-3, 0
	idHourlySpend     = "ff1c1d76-f9bb-55a6-89ef-2b96ad5e8004" // tenant-hourly-spend, tenant_hour, acme, "", "", 1740837600 (2025-03-01T14:00:00Z)
	idDailySpend      = "b7cfbdc5-44da-5700-a28e-b8a6f5b6df8a" // tenant-daily-spend, tenant_day, acme, "", "", 1740787200 (2025-03-01T00:00:00Z)
)

var (
	hour14 = time.Date(2025, 3, 1, 14, 0, 0, 0, time.UTC)
	day1   = time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
)

func TestAlertIDGolden(t *testing.T) {
	for _, c := range []struct {
		rule, on, tenant, workcycle, awu string
		window                           time.Time
		want                             string
	}{
		{"runaway-retries", "workcycle", "acme", "wc-8841", "", time.Time{}, idRunawayRetries},
		{"costly-workcycle", "workcycle", "acme", "wc-8841", "", time.Time{}, idCostlyWorkcycle},
		{"awu-retries", "awu", "acme", "wc-8841", "awu-3", time.Time{}, idAWURetries},
		{"tenant-hourly-spend", "tenant_hour", "acme", "", "", hour14, idHourlySpend},
		// The same instant in another zone is the same window.
		{"tenant-daily-spend", "tenant_day", "acme", "", "", day1.In(time.FixedZone("EST", -5*3600)), idDailySpend},
	} {
		if got := AlertID(c.rule, c.on, c.tenant, c.workcycle, c.awu, c.window); got != c.want {
			t.Errorf("AlertID(%q, %q, %q, %q, %q, %v) = %s, want %s", c.rule, c.on, c.tenant, c.workcycle, c.awu, c.window, got, c.want)
		}
	}
	if v := uuid.MustParse(idRunawayRetries); v.Version() != 5 || v.Variant() != uuid.RFC4122 {
		t.Fatalf("version %d variant %v", v.Version(), v.Variant())
	}
}

// TestIDFastPath checks the allocation-free id against AlertID, which uses
// uuid.NewSHA1.
func TestIDFastPath(t *testing.T) {
	var buf []byte
	for _, c := range []struct {
		rule, on, tenant, workcycle, awu string
		sec                              int64
	}{
		{"r", "workcycle", "acme", "wc-1", "", 0},
		{"r", "awu", "acme", "wc-1", "a-1", 0},
		{"r", "tenant_day", "t\x00\xff", "", "", 1740787200},
		{"r", "tenant_hour", "", "", "", -3600},
	} {
		var id uuid.UUID
		id, buf = idOf(buf, c.rule, c.on, c.tenant, c.workcycle, c.awu, c.sec)
		var w time.Time
		if c.sec != 0 {
			w = time.Unix(c.sec, 0)
		}
		if want := AlertID(c.rule, c.on, c.tenant, c.workcycle, c.awu, w); id.String() != want {
			t.Errorf("%q %q %q %q %q %d: idOf %s, AlertID %s", c.rule, c.on, c.tenant, c.workcycle, c.awu, c.sec, id, want)
		}
	}
}

func TestEncodeGolden(t *testing.T) {
	workcycle := Alert{
		ID: idRunawayRetries, Rule: "runaway-retries", On: "workcycle", Metric: "retries",
		Threshold: d("5"), Value: d("7"),
		TenantID: "acme", AgentID: "support-bot", WorkcycleID: "wc-8841",
		// 15:05:06.789123 at UTC+1: 14:05:06.789Z, the microseconds cut.
		EventTime: time.Date(2025, 3, 1, 15, 5, 6, 789123000, time.FixedZone("CET", 3600)),
	}
	awu := Alert{
		ID: idAWURetries, Rule: "awu-retries", On: "awu", Metric: "retries",
		Threshold: d("2"), Value: d("3"),
		TenantID: "acme", AgentID: "support-bot", WorkcycleID: "wc-8841", AWUID: "awu-3",
		EventTime: time.Date(2025, 3, 1, 14, 3, 0, 0, time.UTC),
	}
	hour := Alert{
		ID: idHourlySpend, Rule: "tenant-hourly-spend", On: "tenant_hour", Metric: "list_cost",
		Threshold: d("0.50"), Value: d("12.25"), TenantID: "acme",
		WindowStart: hour14, EventTime: hour14,
	}
	day := Alert{
		ID: idDailySpend, Rule: "tenant-daily-spend", On: "tenant_day", Metric: "token_cost",
		Threshold: d("100"), Value: d("100.000001"), TenantID: "acme",
		WindowStart: day1, EventTime: day1,
	}
	for _, c := range []struct {
		file        string
		alert       Alert
		format      string
		contentType string
	}{
		{"workcycle.json", workcycle, "json", "application/json"},
		{"workcycle_cloudevents.json", workcycle, "cloudevents", "application/cloudevents+json"},
		{"awu_cloudevents.json", awu, "cloudevents", "application/cloudevents+json"},
		{"tenant_hour.json", hour, "json", "application/json"},
		{"tenant_day_cloudevents.json", day, "cloudevents", "application/cloudevents+json"},
	} {
		t.Run(c.file, func(t *testing.T) {
			got, ct, err := c.alert.Encode(c.format)
			if err != nil {
				t.Fatal(err)
			}
			if ct != c.contentType {
				t.Errorf("content type %q, want %q", ct, c.contentType)
			}
			assertGolden(t, c.file, got)
		})
	}
}

// assertGolden compares value with the hand-written testdata file, byte
// for byte once the file's indentation is removed: key order included.
func assertGolden(t *testing.T, file string, value []byte) {
	t.Helper()
	golden, err := os.ReadFile(filepath.Join("testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	if err := json.Compact(&want, golden); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(value, want.Bytes()) {
		t.Fatalf("encoded\n%s\nwant (testdata/%s)\n%s", value, file, want.Bytes())
	}
}

func TestEncodeInvalidUTF8(t *testing.T) {
	a := Alert{
		ID: "x", Rule: "r", On: "awu", Metric: "attempts", Threshold: d("1"), Value: d("2"),
		TenantID: "ac\xffme", AgentID: "\xc3", WorkcycleID: "wc\x00\"\n", AWUID: "a\u2028<b>",
		EventTime: time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC),
	}
	for _, format := range []string{"json", "cloudevents"} {
		v, _, err := a.Encode(format)
		if err != nil {
			t.Fatal(err)
		}
		if !json.Valid(v) {
			t.Fatalf("%s: invalid JSON: %q", format, v)
		}
		var got struct {
			TenantID    string `json:"tenant_id"`
			AgentID     string `json:"agent_id"`
			WorkcycleID string `json:"workcycle_id"`
			AWUID       string `json:"awu_id"`
			Subject     string `json:"subject"`
			Data        *struct {
				TenantID string `json:"tenant_id"`
			} `json:"data"`
		}
		if err := json.Unmarshal(v, &got); err != nil {
			t.Fatal(err)
		}
		if format == "cloudevents" {
			if got.Subject != "ac\uFFFDme/wc\x00\"\n/a\u2028<b>" || got.Data.TenantID != "ac\uFFFDme" {
				t.Errorf("cloudevents: subject %q data.tenant_id %q", got.Subject, got.Data.TenantID)
			}
			continue
		}
		if got.TenantID != "ac\uFFFDme" || got.AgentID != "\uFFFD" || got.WorkcycleID != "wc\x00\"\n" || got.AWUID != "a\u2028<b>" {
			t.Errorf("json: decoded %+v", got)
		}
	}
}

func TestEncodeUnknownFormat(t *testing.T) {
	a := Alert{ID: "x"}
	if v, ct, err := a.Encode("avro"); err == nil || v != nil || ct != "" {
		t.Fatalf("Encode(avro) = %q, %q, %v", v, ct, err)
	}
	if v, _, err := a.Encode(""); err == nil || v != nil {
		t.Fatalf("Encode(\"\") = %q, %v", v, err)
	}
}

func TestKey(t *testing.T) {
	a := Alert{ID: idRunawayRetries}
	if got := string(a.Key()); got != "e1a9f8c5-f06f-5cf2-9bb8-216a9ec02d45" {
		t.Fatalf("Key() = %q", got)
	}
}

func newEvaluator(t testing.TB, remember int, rules ...Rule) *Evaluator {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Rules = rules
	if remember > 0 {
		cfg.Remember = remember
	}
	e, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

var endedAt = time.Date(2025, 3, 1, 14, 5, 6, 789000000, time.UTC)

func wc(tenant, agent, id string) engine.WorkcycleRow {
	return engine.WorkcycleRow{TenantID: tenant, AgentID: agent, WorkcycleID: id, EndedAt: endedAt}
}

func awuRow(tenant, agent, workcycle, id string, attempts int64) engine.AWURow {
	return engine.AWURow{TenantID: tenant, AgentID: agent, WorkcycleID: workcycle, AWUID: id, Attempts: attempts, LastSeen: endedAt}
}

func ids(alerts []Alert) []string {
	var out []string
	for _, a := range alerts {
		out = append(out, a.ID)
	}
	return out
}

func TestRowsMetrics(t *testing.T) {
	type c struct {
		name   string
		rule   Rule
		w      *engine.WorkcycleRow
		a      *engine.AWURow
		want   string // the alert's value; "" for no alert
		reason string
	}
	w := func(f func(*engine.WorkcycleRow)) *engine.WorkcycleRow {
		r := wc("acme", "bot", "wc-1")
		f(&r)
		return &r
	}
	a := func(attempts int64, cost string) *engine.AWURow {
		r := awuRow("acme", "bot", "wc-1", "awu-1", attempts)
		if cost != "" {
			r.TokenCost = d(cost)
		}
		return &r
	}
	wcRule := func(metric, above string) Rule {
		return Rule{Name: "r", On: "workcycle", Metric: metric, Above: d(above)}
	}
	awuRule := func(metric, above string) Rule {
		return Rule{Name: "r", On: "awu", Metric: metric, Above: d(above)}
	}
	cost := func(s string) decimal.Decimal { return d(s) }
	cases := []c{
		{"awus equal", wcRule("awus", "10"), w(func(r *engine.WorkcycleRow) { r.AWUs = 10 }), nil, "", ""},
		{"awus above", wcRule("awus", "10"), w(func(r *engine.WorkcycleRow) { r.AWUs = 11 }), nil, "11", ""},
		{"attempts equal", wcRule("attempts", "20"), w(func(r *engine.WorkcycleRow) { r.Attempts = 20 }), nil, "", ""},
		{"attempts above", wcRule("attempts", "20"), w(func(r *engine.WorkcycleRow) { r.Attempts = 21 }), nil, "21", ""},
		{"retries equal", wcRule("retries", "5"), w(func(r *engine.WorkcycleRow) { r.Retries = 5 }), nil, "", ""},
		{"retries above", wcRule("retries", "5"), w(func(r *engine.WorkcycleRow) { r.Retries = 6 }), nil, "6", ""},
		{"retries above 0", wcRule("retries", "0"), w(func(r *engine.WorkcycleRow) { r.Retries = 1 }), nil, "1", ""},
		{"retries 0 above 0", wcRule("retries", "0"), w(func(r *engine.WorkcycleRow) { r.Retries = 0 }), nil, "", ""},
		{"credits equal", wcRule("credits", "1000"), w(func(r *engine.WorkcycleRow) { r.Credits = 1000 }), nil, "", ""},
		{"credits above", wcRule("credits", "1000"), w(func(r *engine.WorkcycleRow) { r.Credits = 1001 }), nil, "1001", ""},
		{"whole above written 5.00", wcRule("retries", "5.00"), w(func(r *engine.WorkcycleRow) { r.Retries = 6 }), nil, "6", ""},
		{"above past int64", wcRule("awus", "9223372036854775808"), w(func(r *engine.WorkcycleRow) { r.AWUs = 9223372036854775807 }), nil, "", ""},
		{"above int64 max", wcRule("awus", "9223372036854775807"), w(func(r *engine.WorkcycleRow) { r.AWUs = 9223372036854775807 }), nil, "", ""},
		{"above int64 max - 1", wcRule("awus", "9223372036854775806"), w(func(r *engine.WorkcycleRow) { r.AWUs = 9223372036854775807 }), nil, "9223372036854775807", ""},

		{"token_cost equal", wcRule("token_cost", "1.50"), w(func(r *engine.WorkcycleRow) { r.TokenCost = cost("1.5") }), nil, "", ""},
		{"token_cost equal, more digits", wcRule("token_cost", "1.5"), w(func(r *engine.WorkcycleRow) { r.TokenCost = cost("1.500000000") }), nil, "", ""},
		{"token_cost equal, whole", wcRule("token_cost", "2.000"), w(func(r *engine.WorkcycleRow) { r.TokenCost = decimal.New(2, 0) }), nil, "", ""},
		{"token_cost just above", wcRule("token_cost", "1.5"), w(func(r *engine.WorkcycleRow) { r.TokenCost = cost("1.500000001") }), nil, "1.500000001", ""},
		{"token_cost just below", wcRule("token_cost", "1.5"), w(func(r *engine.WorkcycleRow) { r.TokenCost = cost("1.499999999") }), nil, "", ""},
		{"token_cost coarser value above", wcRule("token_cost", "1.4999"), w(func(r *engine.WorkcycleRow) { r.TokenCost = cost("1.5") }), nil, "1.5", ""},
		{"token_cost coarser value below", wcRule("token_cost", "1.5001"), w(func(r *engine.WorkcycleRow) { r.TokenCost = cost("1.5") }), nil, "", ""},
		{"token_cost whole value above fraction", wcRule("token_cost", "1.9"), w(func(r *engine.WorkcycleRow) { r.TokenCost = decimal.New(2, 0) }), nil, "2", ""},
		{"token_cost positive exponent", wcRule("token_cost", "1999.99"), w(func(r *engine.WorkcycleRow) { r.TokenCost = decimal.New(2, 3) }), nil, "2000", ""},
		{"token_cost positive exponent below", wcRule("token_cost", "2000.01"), w(func(r *engine.WorkcycleRow) { r.TokenCost = decimal.New(2, 3) }), nil, "", ""},
		{"token_cost zero value", wcRule("token_cost", "0"), w(func(*engine.WorkcycleRow) {}), nil, "", ""},
		{"token_cost tiny above 0", wcRule("token_cost", "0"), w(func(r *engine.WorkcycleRow) { r.TokenCost = cost("0.000000001") }), nil, "0.000000001", ""},
		{"token_cost far finer exponent", wcRule("token_cost", "1"), w(func(r *engine.WorkcycleRow) { r.TokenCost = decimal.New(2, -100) }), nil, "", ""},
		{"token_cost far coarser exponent", wcRule("token_cost", "1"), w(func(r *engine.WorkcycleRow) { r.TokenCost = decimal.New(2, 100) }), nil, "2" + strings.Repeat("0", 100), ""},
		{"list_cost equal", wcRule("list_cost", "0.25"), w(func(r *engine.WorkcycleRow) { r.ListCost = cost("0.25") }), nil, "", ""},
		{"list_cost above", wcRule("list_cost", "0.25"), w(func(r *engine.WorkcycleRow) { r.ListCost = cost("0.250001") }), nil, "0.250001", ""},
		{"list_cost ignores token_cost", wcRule("list_cost", "0.25"), w(func(r *engine.WorkcycleRow) { r.TokenCost = cost("9") }), nil, "", ""},

		{"awu attempts equal", awuRule("attempts", "3"), nil, a(3, ""), "", ""},
		{"awu attempts above", awuRule("attempts", "3"), nil, a(4, ""), "4", ""},
		{"awu retries equal", awuRule("retries", "2"), nil, a(3, ""), "", "3 attempts are 2 retries"},
		{"awu retries above", awuRule("retries", "2"), nil, a(4, ""), "3", "4 attempts are 3 retries"},
		{"awu retries of a first attempt", awuRule("retries", "0"), nil, a(1, ""), "", ""},
		{"awu token_cost equal", awuRule("token_cost", "0.1"), nil, a(1, "0.10"), "", ""},
		{"awu token_cost above", awuRule("token_cost", "0.1"), nil, a(1, "0.11"), "0.11", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEvaluator(t, 0, c.rule)
			var ws []engine.WorkcycleRow
			var as []engine.AWURow
			if c.w != nil {
				ws = append(ws, *c.w)
			}
			if c.a != nil {
				as = append(as, *c.a)
			}
			got := e.Rows(ws, as)
			if c.want == "" {
				if got != nil {
					t.Fatalf("alerted %+v, want none", got)
				}
				return
			}
			if len(got) != 1 {
				t.Fatalf("got %d alerts, want 1: %+v", len(got), got)
			}
			al := got[0]
			if al.Value.String() != c.want {
				t.Errorf("value %s, want %s %s", al.Value, c.want, c.reason)
			}
			if al.Rule != "r" || al.On != c.rule.On || al.Metric != c.rule.Metric || !al.Threshold.Equal(c.rule.Above) ||
				al.TenantID != "acme" || al.AgentID != "bot" || al.WorkcycleID != "wc-1" || !al.EventTime.Equal(endedAt) || !al.WindowStart.IsZero() {
				t.Errorf("alert %+v", al)
			}
			if c.a != nil && al.AWUID != "awu-1" || c.w != nil && al.AWUID != "" {
				t.Errorf("awu id %q", al.AWUID)
			}
		})
	}
}

// TestThresholdExponents runs one rule over values of more exponents (11)
// than the threshold caches (8), each compared by hand with 1.5.
func TestThresholdExponents(t *testing.T) {
	tr := &threshold{above: d("1.5")}
	for i, c := range []struct {
		v    decimal.Decimal
		want bool
	}{
		{d("1.6"), true}, {d("1.4"), false}, {d("1.50"), false}, {d("1.51"), true},
		{d("1.500"), false}, {d("1.501"), true}, {d("1.4999"), false}, {d("1.5001"), true},
		{decimal.New(1, 0), false}, {decimal.New(2, 0), true}, {decimal.New(1, 1), true},
		{d("1.50000"), false}, {d("1.50001"), true}, {d("1.6"), true}, {d("1.5"), false},
		{d("-2"), false}, {d("-0.000001"), false}, {decimal.Decimal{}, false},
		{d("1.5000000000000000000000000000000000001"), true},
		{d("1.499999"), false}, {d("1.5000001"), true}, {d("1.50000000"), false},
		{d("1.4"), false}, {d("1.500"), false}, {d("1.5001"), true}, {decimal.New(15, -1), false},
	} {
		if got := tr.exceeded(c.v); got != c.want {
			t.Errorf("%d: %s > 1.5 = %v, want %v", i, c.v, got, c.want)
		}
	}
}

func TestRowsFilters(t *testing.T) {
	rows := []engine.WorkcycleRow{wc("acme", "bot-a", "wc-1"), wc("acme", "bot-b", "wc-2"), wc("globex", "bot-a", "wc-3"), wc("globex", "bot-b", "wc-4")}
	for i := range rows {
		rows[i].Retries = 9
	}
	awus := []engine.AWURow{awuRow("acme", "bot-a", "wc-1", "u-1", 5), awuRow("acme", "bot-b", "wc-2", "u-2", 5), awuRow("globex", "bot-a", "wc-3", "u-3", 5)}
	for _, c := range []struct {
		name, tenant, agent string
		wantWorkcycles      []string
		wantAWUs            []string
	}{
		{"no filter", "", "", []string{"wc-1", "wc-2", "wc-3", "wc-4"}, []string{"u-1", "u-2", "u-3"}},
		{"tenant", "acme", "", []string{"wc-1", "wc-2"}, []string{"u-1", "u-2"}},
		{"agent", "", "bot-a", []string{"wc-1", "wc-3"}, []string{"u-1", "u-3"}},
		{"tenant and agent", "globex", "bot-b", []string{"wc-4"}, nil},
		{"unknown tenant", "initech", "", nil, nil},
		{"tenant is exact", "ACME", "", nil, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newEvaluator(t, 0,
				Rule{Name: "w", On: "workcycle", Metric: "retries", Above: d("5"), Tenant: c.tenant, Agent: c.agent},
				Rule{Name: "a", On: "awu", Metric: "attempts", Above: d("4"), Tenant: c.tenant, Agent: c.agent})
			var gotW, gotA []string
			for _, al := range e.Rows(rows, awus) {
				if al.On == "workcycle" {
					gotW = append(gotW, al.WorkcycleID)
				} else {
					gotA = append(gotA, al.AWUID)
				}
			}
			slices.Sort(gotW)
			slices.Sort(gotA)
			if !reflect.DeepEqual(gotW, c.wantWorkcycles) || !reflect.DeepEqual(gotA, c.wantAWUs) {
				t.Fatalf("workcycles %v awus %v, want %v %v", gotW, gotA, c.wantWorkcycles, c.wantAWUs)
			}
		})
	}
}

func TestRowsOncePerSubject(t *testing.T) {
	e := newEvaluator(t, 0, Rule{Name: "runaway-retries", On: "workcycle", Metric: "retries", Above: d("5")})
	row := func(retries int64) engine.WorkcycleRow {
		r := wc("acme", "support-bot", "wc-8841")
		r.Retries = retries
		return r
	}
	// Provisional rows while the workcycle is open, then the final row,
	// then a re-emission for a late event.
	steps := []struct {
		rows []engine.WorkcycleRow
		want []string
	}{
		{[]engine.WorkcycleRow{row(2)}, nil},
		{[]engine.WorkcycleRow{row(5)}, nil},
		{[]engine.WorkcycleRow{row(7), row(8)}, []string{idRunawayRetries}},
		{[]engine.WorkcycleRow{row(8)}, nil},
		{[]engine.WorkcycleRow{row(9)}, nil},
		{[]engine.WorkcycleRow{row(9)}, nil},
	}
	for i, s := range steps {
		got := e.Rows(s.rows, nil)
		if !reflect.DeepEqual(ids(got), s.want) {
			t.Fatalf("step %d: ids %v, want %v", i, ids(got), s.want)
		}
		if got != nil {
			if got[0].Value.String() != "7" {
				t.Fatalf("value %s, want the first crossing, 7", got[0].Value)
			}
			v, _, err := got[0].Encode("json")
			if err != nil {
				t.Fatal(err)
			}
			assertGolden(t, "workcycle.json", v)
		}
	}
}

func TestRowsSecondRule(t *testing.T) {
	e := newEvaluator(t, 0,
		Rule{Name: "runaway-retries", On: "workcycle", Metric: "retries", Above: d("5")},
		Rule{Name: "costly-workcycle", On: "workcycle", Metric: "token_cost", Above: d("2.50")})
	r := wc("acme", "support-bot", "wc-8841")
	r.Retries = 6
	got := e.Rows([]engine.WorkcycleRow{r}, nil)
	if !reflect.DeepEqual(ids(got), []string{idRunawayRetries}) {
		t.Fatalf("first rule: %v", ids(got))
	}
	r.TokenCost = d("2.51")
	got = e.Rows([]engine.WorkcycleRow{r}, nil)
	if !reflect.DeepEqual(ids(got), []string{idCostlyWorkcycle}) || got[0].Rule != "costly-workcycle" || got[0].Value.String() != "2.51" {
		t.Fatalf("second rule: %+v", got)
	}
	// Both at once, fresh: sorted by id (b4… before e1…).
	e = newEvaluator(t, 0,
		Rule{Name: "runaway-retries", On: "workcycle", Metric: "retries", Above: d("5")},
		Rule{Name: "costly-workcycle", On: "workcycle", Metric: "token_cost", Above: d("2.50")})
	if got := ids(e.Rows([]engine.WorkcycleRow{r}, nil)); !reflect.DeepEqual(got, []string{idCostlyWorkcycle, idRunawayRetries}) {
		t.Fatalf("both rules: %v", got)
	}
}

func TestRowsAWUAlert(t *testing.T) {
	e := newEvaluator(t, 0, Rule{Name: "awu-retries", On: "awu", Metric: "retries", Above: d("2")})
	a := awuRow("acme", "support-bot", "wc-8841", "awu-3", 4)
	a.LastSeen = time.Date(2025, 3, 1, 14, 3, 0, 0, time.UTC)
	got := e.Rows(nil, []engine.AWURow{a, a})
	if len(got) != 1 {
		t.Fatalf("got %d alerts", len(got))
	}
	v, _, err := got[0].Encode("cloudevents")
	if err != nil {
		t.Fatal(err)
	}
	assertGolden(t, "awu_cloudevents.json", v)
}

func TestRowsReplay(t *testing.T) {
	rules := []Rule{
		{Name: "retries", On: "workcycle", Metric: "retries", Above: d("3")},
		{Name: "cost", On: "workcycle", Metric: "token_cost", Above: d("1")},
		{Name: "awu-attempts", On: "awu", Metric: "attempts", Above: d("2")},
	}
	var ws []engine.WorkcycleRow
	var as []engine.AWURow
	for i, id := range []string{"wc-1", "wc-2", "wc-3", "wc-4"} {
		for retries := int64(0); retries < 6; retries++ {
			r := wc("acme", "bot", id)
			r.Retries = retries
			r.TokenCost = decimal.New(int64(i)*retries, -1) // wc-3 and wc-4 cross 1
			ws = append(ws, r)
		}
		as = append(as, awuRow("acme", "bot", id, "u-"+id, int64(i+1)))
	}
	run := func(ws []engine.WorkcycleRow, as []engine.AWURow, batch int) []string {
		e := newEvaluator(t, 0, rules...)
		var out []string
		for i := 0; i < len(ws) || i < len(as); i += batch {
			out = append(out, ids(e.Rows(ws[min(i, len(ws)):min(i+batch, len(ws))], as[min(i, len(as)):min(i+batch, len(as))]))...)
		}
		slices.Sort(out)
		return out
	}
	first := run(ws, as, 5)
	rw, ra := slices.Clone(ws), slices.Clone(as)
	slices.Reverse(rw)
	slices.Reverse(ra)
	second := run(rw, ra, 3)
	// By hand: retries > 3 for every workcycle (retries reach 5). Costs
	// reach 0 (wc-1), 0.5 (wc-2), 1.0 (wc-3, not above 1) and 1.5 (wc-4):
	// cost > 1 for wc-4 only. AWU attempts are 1 to 4: > 2 for u-wc-3 and
	// u-wc-4. Ids from Python's uuid.uuid5, as above.
	want := []string{
		"6101b64b-43a7-5a11-baf0-5a73042b6186", // retries, wc-1
		"da4f4678-7e1d-54da-a5d4-fdcceef02f53", // retries, wc-2
		"021a2e62-3af4-5b91-b9b0-2d6e29fcbbcb", // retries, wc-3
		"7833831e-c19b-507a-ac52-8cb9d1e7e66d", // retries, wc-4
		"b20c57df-c88f-5a55-8329-8e3e321a7029", // cost, wc-4
		"84cf6d58-2149-5eed-a16e-b404bb1dde9c", // awu-attempts, wc-3, u-wc-3
		"5a6c5e77-ea5e-5c67-8f34-a1814e6c7f42", // awu-attempts, wc-4, u-wc-4
	}
	slices.Sort(want)
	if !reflect.DeepEqual(first, want) || !reflect.DeepEqual(second, want) {
		t.Fatalf("in order %v\nreversed %v\nwant %v", first, second, want)
	}
}

func TestRowsRemember(t *testing.T) {
	e := newEvaluator(t, 2, Rule{Name: "r", On: "workcycle", Metric: "awus", Above: d("0")})
	row := func(id string) []engine.WorkcycleRow {
		r := wc("acme", "bot", id)
		r.AWUs = 1
		return []engine.WorkcycleRow{r}
	}
	const idA = "9d8a2062-bc51-542a-94c0-a5f65f626c13" // r, workcycle, acme, A, "", 0 (Python)
	for i, s := range []struct {
		wc    string
		alert bool
	}{
		{"A", true}, {"A", false}, {"B", true}, {"A", false}, // A, B remembered
		{"C", true},  // A forgotten
		{"A", true},  // sent again, with the same id; B forgotten
		{"C", false}, // still remembered
		{"B", true},
		{"A", false},
	} {
		got := e.Rows(row(s.wc), nil)
		if (len(got) == 1) != s.alert || len(got) > 1 {
			t.Fatalf("step %d (%s): %d alerts, want alert %v", i, s.wc, len(got), s.alert)
		}
		if s.wc == "A" && s.alert && got[0].ID != idA {
			t.Fatalf("A's id changed: %s, want %s", got[0].ID, idA)
		}
	}
	// Remember 1 and one batch crossing A, B, A: A is forgotten within the
	// batch, yet returned once.
	e = newEvaluator(t, 1, Rule{Name: "r", On: "workcycle", Metric: "awus", Above: d("0")})
	batch := append(append(row("A"), row("B")...), row("A")...)
	got := ids(e.Rows(batch, nil))
	want := []string{"71c65b44-0810-55a4-83fa-acd27f95c2a9" /* B */, idA} // sorted
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("ids %v, want %v", got, want)
	}
}

func TestWindows(t *testing.T) {
	e := newEvaluator(t, 0,
		Rule{Name: "tenant-hourly-spend", On: "tenant_hour", Metric: "list_cost", Above: d("0.50")},
		Rule{Name: "tenant-daily-spend", On: "tenant_day", Metric: "token_cost", Above: d("100")},
		Rule{Name: "globex-daily", On: "tenant_day", Metric: "list_cost", Above: d("1"), Tenant: "globex"},
		Rule{Name: "rows-only", On: "workcycle", Metric: "awus", Above: d("0")})
	steps := []struct {
		name  string
		sums  []WindowSum
		want  []string
		check func(t *testing.T, got []Alert)
	}{
		{"hour at its limit, day below",
			[]WindowSum{
				{TenantID: "acme", On: "tenant_hour", Start: hour14, ListCost: d("0.5"), TokenCost: d("1000")},
				{TenantID: "acme", On: "tenant_day", Start: day1, TokenCost: d("100"), ListCost: d("1000")},
			}, nil, nil},
		{"hour above, named by an instant inside it",
			[]WindowSum{{TenantID: "acme", On: "tenant_hour", Start: time.Date(2025, 3, 1, 14, 37, 12, 5, time.UTC), ListCost: d("12.25")}},
			[]string{idHourlySpend},
			func(t *testing.T, got []Alert) {
				v, _, err := got[0].Encode("json")
				if err != nil {
					t.Fatal(err)
				}
				assertGolden(t, "tenant_hour.json", v)
			}},
		{"hour again", []WindowSum{{TenantID: "acme", On: "tenant_hour", Start: hour14, ListCost: d("13")}}, nil, nil},
		{"day above, given in another zone",
			[]WindowSum{{TenantID: "acme", On: "tenant_day", Start: time.Date(2025, 3, 1, 9, 0, 0, 0, time.FixedZone("EST", -5*3600)), TokenCost: d("100.000001")}},
			[]string{idDailySpend},
			func(t *testing.T, got []Alert) {
				if !got[0].WindowStart.Equal(day1) || !got[0].EventTime.Equal(day1) {
					t.Fatalf("window %v event %v", got[0].WindowStart, got[0].EventTime)
				}
				v, _, err := got[0].Encode("cloudevents")
				if err != nil {
					t.Fatal(err)
				}
				assertGolden(t, "tenant_day_cloudevents.json", v)
			}},
		{"next hour, next day, other tenant, unknown window",
			[]WindowSum{
				{TenantID: "acme", On: "tenant_hour", Start: hour14.Add(time.Hour), ListCost: d("0.51")},
				{TenantID: "acme", On: "tenant_day", Start: day1.AddDate(0, 0, 1), TokenCost: d("101")},
				{TenantID: "globex", On: "tenant_day", Start: day1, TokenCost: d("1"), ListCost: d("2")},
				{TenantID: "acme", On: "tenant_week", Start: day1, TokenCost: d("1e9"), ListCost: d("1e9")},
			},
			[]string{ // from Python's uuid.uuid5
				"6789b4b0-4763-5cab-a848-db2d73b98505", // tenant-hourly-spend, acme, 1740841200 (2025-03-01T15:00:00Z)
				"0e3a6665-3e79-5468-87db-0ecbf5fc73f7", // tenant-daily-spend, acme, 1740873600 (2025-03-02T00:00:00Z)
				"b607424a-c6f0-50ce-a2c3-4f0b6682b905", // globex-daily, globex, 1740787200 (2025-03-01T00:00:00Z)
			}, nil},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			got := e.Windows(s.sums)
			want := slices.Clone(s.want)
			slices.Sort(want)
			if !reflect.DeepEqual(ids(got), want) {
				t.Fatalf("ids %v, want %v", ids(got), want)
			}
			if s.check != nil {
				s.check(t, got)
			}
		})
	}
	if got := e.Windows(nil); got != nil {
		t.Fatalf("Windows(nil) = %v", got)
	}
	rowsOnly := newEvaluator(t, 0, Rule{Name: "r", On: "workcycle", Metric: "awus", Above: d("0")})
	if got := rowsOnly.Windows([]WindowSum{{TenantID: "acme", On: "tenant_day", Start: day1, TokenCost: d("1e9")}}); got != nil {
		t.Fatalf("no window rules: %v", got)
	}
}

func TestRowsAllocations(t *testing.T) {
	ws := make([]engine.WorkcycleRow, 100)
	as := make([]engine.AWURow, 100)
	for i := range ws {
		ws[i] = wc("acme", "bot", "wc-"+string(rune('a'+i%26))+strings.Repeat("x", i/26))
		ws[i].Retries = 9
		ws[i].TokenCost = decimal.New(int64(i), -int32(i%3)) // three exponents
		as[i] = awuRow("acme", "bot", ws[i].WorkcycleID, "u", 3)
	}
	none := newEvaluator(t, 0)
	if n := testing.AllocsPerRun(100, func() {
		if none.Rows(ws, as) != nil {
			t.Fatal("alert without rules")
		}
	}); n != 0 {
		t.Errorf("no rules: %v allocations", n)
	}
	quiet := newEvaluator(t, 0,
		Rule{Name: "retries", On: "workcycle", Metric: "retries", Above: d("100")},
		Rule{Name: "cost", On: "workcycle", Metric: "token_cost", Above: d("1000.5")},
		Rule{Name: "attempts", On: "awu", Metric: "attempts", Above: d("10")})
	if n := testing.AllocsPerRun(100, func() {
		if quiet.Rows(ws, as) != nil {
			t.Fatal("alert")
		}
	}); n != 0 {
		t.Errorf("no crossing: %v allocations", n)
	}
	loud := newEvaluator(t, 0,
		Rule{Name: "retries", On: "workcycle", Metric: "retries", Above: d("1")},
		Rule{Name: "cost", On: "workcycle", Metric: "token_cost", Above: d("0.5")},
		Rule{Name: "attempts", On: "awu", Metric: "attempts", Above: d("1")})
	// By hand: retries 9 > 1 for all 100 workcycles; attempts 3 > 1 for
	// all 100 AWUs; token cost i·10^-(i%3) > 0.5 for i%3 == 0, i > 0 (33
	// of them), i%3 == 1, i/10 > 0.5, i >= 7 (31) and i%3 == 2, i/100 >
	// 0.5, i >= 53 (16): 80.
	if got := loud.Rows(ws, as); len(got) != 100+100+80 {
		t.Fatalf("first crossing: %d alerts, want 280", len(got))
	}
	if n := testing.AllocsPerRun(100, func() {
		if loud.Rows(ws, as) != nil {
			t.Fatal("alert already sent")
		}
	}); n != 0 {
		t.Errorf("crossing, remembered: %v allocations", n)
	}
}

// An alert that could not be delivered is returned again once forgotten.
func TestForgottenAlertsAreReturnedAgain(t *testing.T) {
	e, err := New(Config{Topic: DefaultTopic, Format: FormatJSON, Remember: 8, Rules: []Rule{
		{Name: "hourly", On: OnTenantHour, Metric: MetricTokenCost, Above: d("100")},
	}})
	if err != nil {
		t.Fatal(err)
	}
	sums := []WindowSum{{TenantID: "acme", On: OnTenantHour, Start: time.Date(2026, 11, 30, 10, 15, 0, 0, time.UTC), TokenCost: d("100.01")}}
	first := e.Windows(sums)
	if len(first) != 1 || len(e.Windows(sums)) != 0 {
		t.Fatalf("first %v, then again", first)
	}
	e.Forget(first)
	again := e.Windows(sums)
	if len(again) != 1 || again[0].ID != first[0].ID {
		t.Fatalf("after Forget: %v, want %v", again, first)
	}
}

// Ids remembered from an earlier run are not returned again.
func TestRememberedAlertsAreNotReturned(t *testing.T) {
	e, err := New(Config{Topic: DefaultTopic, Format: FormatJSON, Remember: 8, Rules: []Rule{
		{Name: "hourly", On: OnTenantHour, Metric: MetricTokenCost, Above: d("100")},
	}})
	if err != nil {
		t.Fatal(err)
	}
	hour := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	e.Remember([]string{AlertID("hourly", OnTenantHour, "acme", "", "", hour), "not a uuid"})
	sums := []WindowSum{
		{TenantID: "acme", On: OnTenantHour, Start: hour, TokenCost: d("150")},
		{TenantID: "bigco", On: OnTenantHour, Start: hour, TokenCost: d("150")},
	}
	got := e.Windows(sums)
	if len(got) != 1 || got[0].TenantID != "bigco" {
		t.Fatalf("got %v, want bigco's alert only", got)
	}
}
