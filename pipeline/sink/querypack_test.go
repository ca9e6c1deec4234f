package sink

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/shopspring/decimal"

	"github.com/awumeter/awumeter/internal/testenv"
	"github.com/awumeter/awumeter/pipeline/migrate"
	"github.com/awumeter/awumeter/schemas/chschema"
)

// Every query of the pack runs on the known data, written with duplicates,
// replays and superseded versions, and returns exactly the hand-computed
// rows in testdata/querypack.
func TestQueryPack(t *testing.T) {
	conn, schema := migrated(t)
	writeKnown(t, conn, schema)
	// conn's default database is schema.Database: the pack names tables
	// without a database, as clickhouse-client --database runs it.
	for _, name := range chschema.QueryNames() {
		t.Run(name, func(t *testing.T) {
			sql, err := chschema.Query(name)
			if err != nil {
				t.Fatal(err)
			}
			got, err := queryTSV(t, conn, sql)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			compareTSV(t, name, got)
		})
	}
}

// filteredCase is a query of the pack run with filters on the known data,
// and the rows it must return, worked out by hand from the fixture (see
// knownFinal): t1's workcycles and AWUs are all in January 2026, wc3 and
// u4 on 31 January although a superseded version put them on 1 February;
// t2's are all on 2 February.
type filteredCase struct {
	query  string
	filter chschema.FilterValues
	want   [][]string
}

func filteredCases() []filteredCase {
	row := func(cells ...string) []string { return cells }
	return []filteredCase{
		// The superseded February version of wc3 is not February's.
		{"cost_per_workcycle", chschema.FilterValues{"month": "2026-02"}, [][]string{
			row("2026-02-01", "t2", "b1", "", "1", "0.1", "0.012", "0.1", "0.012", "0.088"),
		}},
		{"most_expensive_workcycles", chschema.FilterValues{"month": "2026-02"}, [][]string{
			row("t2", "wc4", "b1", "", "closed", "2026-02-02 08:00:00", "2", "2", "4000", "0.012", "0.1"),
		}},
		{"most_expensive_workcycles", chschema.FilterValues{"month": "2026-01", "tenant": "t2"}, nil},
		// wc3's superseded version started in February; its final one in January.
		{"work_outcomes", chschema.FilterValues{"month": "2026-02"}, nil},
		{"work_outcomes", chschema.FilterValues{"month": "2026-01", "tenant": "t1"}, [][]string{
			row("2026-01-01", "t1", "a1", "", "3", "2", "0.6667", "0.3333", "60", "300", "0.001", "0.05", "2", "0.002", "0.1", "487.5", "1", "0.25", "11.5", "3"),
			row("2026-01-01", "t1", "a2", "", "1", "1", "1", "0", "601", "601", "0.0025", "0.15", "1", "0.0025", "0.15", "2500", "0", "0", "0", `\N`),
		}},
		{"escalation_rate", chschema.FilterValues{"month": "2026-01", "tenant": "t1"}, [][]string{
			row("2026-01-01", "t1", "a1", "3", "1", "0.3333"),
			row("2026-01-01", "t1", "a2", "1", "0", "0"),
		}},
		{"awu_funnel", chschema.FilterValues{"tenant": "t2"}, [][]string{
			row("2026-02-01", "t2", "b1", "2", "2", "0", "1", "0", "2"),
		}},
		{"awu_funnel", chschema.FilterValues{"month": "2026-02", "tenant": "t1"}, nil},
		{"inference_to_work", chschema.FilterValues{"month": "2026-01"}, [][]string{
			row("2026-01-01", "t1", "a1", "3", "1950", "650", "0.000666666666"),
			row("2026-01-01", "t1", "a2", "1", "2500", "2500", "0.0025"),
		}},
		{"tool_success_rate", chschema.FilterValues{"tenant": "t1"}, [][]string{
			row("2026-01-01", "t1", "refund", "2", "1", "0.5", "3", "0.3333"),
			row("2026-01-01", "t1", "search", "1", "1", "1", "2", "0.5"),
		}},
		// u4's day is 31 January, not the superseded 1 February.
		{"tenant_daily_totals", chschema.FilterValues{"month": "2026-02"}, [][]string{
			row("2026-02-02", "t2", "2", "2", "2", "1", "0", "3000", "1000", "0.012", "20", "0.1"),
		}},
		// wc3 started on 31 January although a superseded version said 1 February.
		{"workcycle_cost_distribution", chschema.FilterValues{"month": "2026-02"}, [][]string{
			row("2026-02-01", "t2", "list", "0.1", "1"),
			row("2026-02-01", "t2", "token", "0.01", "1"),
		}},
		{"workcycle_cost_distribution", chschema.FilterValues{"tenant": "t2", "month": "2026-01"}, nil},
		{"tenant_monthly_totals", chschema.FilterValues{"month": "2026-01", "tenant": "t1"}, [][]string{
			row("2026-01-01", "t1", "5", "4", "2", "1", "3600", "850", "0.0045", "50", "0.25"),
		}},
		{"model_cost_monthly", chschema.FilterValues{"month": "2026-02", "tenant": "t2"}, [][]string{
			row("2026-02-01", "t2", "claude-sonnet-4.6", "1", "400", "100", "0.003", "0"),
			row("2026-02-01", "t2", "gemini-3-flash", "1", "600", "300", "0.001", "0"),
			row("2026-02-01", "t2", "gemini-3-pro", "1", "2000", "600", "0.008", "0"),
		}},
		{"retry_inflation", chschema.FilterValues{"tenant": "t1"}, [][]string{
			row("t1", "5", "7", "1.4", "4450", "660", "0.1483"),
		}},
	}
}

func (c filteredCase) String() string {
	return fmt.Sprintf("%s month=%s tenant=%s", c.query, c.filter["month"], c.filter["tenant"])
}

func (c filteredCase) check(t *testing.T, got [][]string) {
	t.Helper()
	render := func(rows [][]string) string {
		var b strings.Builder
		for _, r := range rows {
			for i := range r {
				r[i] = normalize(r[i])
			}
			b.WriteString(strings.Join(r, "\t") + "\n")
		}
		return b.String()
	}
	if g, w := render(got), render(c.want); g != w {
		t.Errorf("%s returned\n%s\nwant\n%s", c, g, w)
	}
}

// The pack's filters, bound by the driver, select the latest version of
// each row: a superseded version in another month is never counted there.
func TestQueryPackFilters(t *testing.T) {
	conn, schema := migrated(t)
	writeKnown(t, conn, schema)
	for _, c := range filteredCases() {
		t.Run(c.String(), func(t *testing.T) {
			q, err := chschema.LoadQuery(c.query)
			if err != nil {
				t.Fatal(err)
			}
			sql, args, err := q.Bind(c.filter)
			if err != nil {
				t.Fatal(err)
			}
			got, err := queryTSVArgs(t, conn, sql, args...)
			if err != nil {
				t.Fatal(err)
			}
			c.check(t, got)
		})
	}
}

// The modern branch (LowCardinality, DateTime64(3), codecs, TTL) and the
// query pack run on a current ClickHouse embedded in chDB, installed by
// deploy/local/install-chdb.sh, with the same known data and expectations.
func TestQueryPackModernOnChDB(t *testing.T) {
	schema := migrate.Schema{Database: "awumeter", Flavor: chschema.Modern}
	var inserts []string
	final, stale := knownFinal(), knownStale()
	for _, b := range []Batch{stale, final, stale, final, {Events: final.Events[1:2]}} {
		inserts = append(inserts, insertValues(schema, b)...)
	}
	inserts = append(inserts, refreshValues(t, schema)...)
	// The queries run in the session, which reads the database by default.
	inserts = append(inserts, "USE awumeter")
	queries := map[string]string{}
	for _, name := range chschema.QueryNames() {
		var err error
		if queries[name], err = chschema.Query(name); err != nil {
			t.Fatal(err)
		}
	}
	filtered := filteredCases()
	for _, c := range filtered {
		q, err := chschema.LoadQuery(c.query)
		if err != nil {
			t.Fatal(err)
		}
		sql, args, err := q.Bind(c.filter)
		if err != nil {
			t.Fatal(err)
		}
		queries[c.String()] = inlineArgs(t, sql, args)
	}
	res := runChDB(t, chschema.Params{Database: "awumeter", Flavor: chschema.Modern, EventsRetentionDays: 400}, inserts, queries, false)
	t.Logf("chDB embeds ClickHouse %s", res.Version)
	if migrate.FlavorOf(res.Version) != chschema.Modern {
		t.Fatalf("chDB's ClickHouse %s would not get the modern branch", res.Version)
	}
	for _, name := range chschema.QueryNames() {
		t.Run(name, func(t *testing.T) {
			compareTSV(t, name, tsvRows(res.Results[name]))
		})
	}
	for _, c := range filtered {
		t.Run(c.String(), func(t *testing.T) {
			c.check(t, tsvRows(res.Results[c.String()]))
		})
	}
}

func tsvRows(tsv string) [][]string {
	var rows [][]string
	for line := range strings.Lines(tsv) {
		rows = append(rows, strings.Split(strings.TrimRight(line, "\n"), "\t"))
	}
	return rows
}

// inlineArgs writes the bound values into sql for chDB, which the driver
// cannot reach: the test's own values, none holding a quote or a "?".
func inlineArgs(t *testing.T, sql string, args []any) string {
	t.Helper()
	for _, a := range args {
		v := a.(string)
		if strings.ContainsAny(v, `'\?`) {
			t.Fatalf("value %q cannot be inlined", v)
		}
		sql = strings.Replace(sql, "?", "'"+v+"'", 1)
	}
	if strings.Contains(sql, "?") {
		t.Fatalf("more placeholders than values in\n%s", sql)
	}
	return sql
}

// chdbPython finds the interpreter of .local/venv. It skips when chDB is
// not installed, unless the stack is required (make test installs it).
func chdbPython(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	venv := os.Getenv("AWUMETER_CHDB_VENV")
	if venv == "" {
		local := os.Getenv("AWUMETER_LOCAL_DIR")
		if local == "" {
			local = filepath.Join(root, ".local")
		}
		venv = filepath.Join(local, "venv")
	}
	python := filepath.Join(venv, "bin", "python")
	if err := exec.Command(python, "-c", "import chdb").Run(); err != nil {
		msg := fmt.Sprintf("chDB is not installed in %s (%v); run deploy/local/install-chdb.sh", venv, err)
		if testenv.Required() {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return python
}

// insertValues renders a batch as INSERT … VALUES statements with the
// sink's own columns, for engines the Go driver cannot reach.
func insertValues(s migrate.Schema, b Batch) []string {
	var out []string
	add := func(sql string, n int) {
		if n > 0 {
			out = append(out, sql)
		}
	}
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	evs := make([]ledgerEvent, len(b.Events))
	for i := range b.Events {
		evs[i] = ledgerEvent{Event: &b.Events[i], ingestedAt: now}
	}
	add(valuesSQL(s, "events", eventColumns, evs), len(evs))
	add(valuesSQL(s, "awu_models", awuModelColumns, b.AWUModels), len(b.AWUModels))
	add(valuesSQL(s, "awus", awuColumns, b.AWUs), len(b.AWUs))
	add(valuesSQL(s, "workcycles", workcycleColumns, b.Workcycles), len(b.Workcycles))
	days := awuDaysOf([]Batch{b})
	add(valuesSQL(s, "awu_days", awuDayColumns, days), len(days))
	return out
}

// refreshValues is the refresh of every rollup slice, which follows
// insertValues' statements where the Writer cannot refresh.
func refreshValues(t *testing.T, s migrate.Schema) []string {
	t.Helper()
	stmts, err := chschema.RefreshAllStatements(chschema.Params{Database: s.Database, Flavor: s.Flavor})
	if err != nil {
		t.Fatal(err)
	}
	return stmts
}

func valuesSQL[R any](s migrate.Schema, table string, cols []column[R], rows []R) string {
	cols = forFlavor(cols, s.Flavor)
	var sb strings.Builder
	sb.WriteString(insertSQL(s, table, cols))
	sb.WriteString(" VALUES")
	vals := make([]reflect.Value, len(cols))
	for i, c := range cols {
		vals[i] = reflect.ValueOf(c.values([][]R{rows}, new(scratch)))
	}
	for r := range rows {
		if r > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString(" (")
		for i := range cols {
			if i > 0 {
				sb.WriteString(", ")
			}
			switch v := vals[i].Index(r).Interface().(type) {
			case string:
				sb.WriteString("'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(v) + "'")
			case time.Time:
				layout := "2006-01-02 15:04:05.000"
				if cols[i].typ(s.Flavor) == "Date" {
					layout = "2006-01-02"
				}
				sb.WriteString("'" + v.Format(layout) + "'")
			case decimal.Decimal:
				sb.WriteString(v.String())
			default:
				fmt.Fprint(&sb, v)
			}
		}
		sb.WriteString(")")
	}
	return sb.String()
}

// queryTSV runs sql and renders every cell as text.
func queryTSV(t *testing.T, conn driver.Conn, sql string) ([][]string, error) {
	return queryTSVArgs(t, conn, sql)
}

// queryTSVArgs is queryTSV with values bound to the placeholders of sql.
func queryTSVArgs(t *testing.T, conn driver.Conn, sql string, args ...any) ([][]string, error) {
	rows, err := conn.Query(testenv.Context(t, time.Minute), sql, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	types := rows.ColumnTypes()
	var out [][]string
	for rows.Next() {
		dest := make([]any, len(types))
		for i, ct := range types {
			dest[i] = reflect.New(ct.ScanType()).Interface()
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		row := make([]string, len(dest))
		for i, d := range dest {
			rv := reflect.ValueOf(d).Elem()
			if rv.Kind() == reflect.Pointer { // Nullable
				if rv.IsNil() {
					row[i] = `\N`
					continue
				}
				rv = rv.Elem()
			}
			switch v := rv.Interface().(type) {
			case time.Time:
				if types[i].DatabaseTypeName() == "Date" {
					row[i] = v.Format("2006-01-02")
				} else {
					row[i] = v.Format("2006-01-02 15:04:05")
				}
			case decimal.Decimal:
				row[i] = v.String()
			case float64:
				row[i] = strconv.FormatFloat(v, 'f', -1, 64)
			default:
				row[i] = fmt.Sprint(v)
			}
		}
		out = append(out, row)
	}
	return out, rows.Err()
}

var number = regexp.MustCompile(`^-?\d+(\.\d+)?$`)

// normalize makes numbers comparable across servers: 18.16 prints
// Decimal(38, 12) with trailing zeros, newer servers do not.
func normalize(cell string) string {
	if number.MatchString(cell) {
		return decimal.RequireFromString(cell).String()
	}
	return cell
}

// compareTSV checks rows against testdata/querypack/<name>.tsv, whose first
// line names the columns.
func compareTSV(t *testing.T, name string, got [][]string) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "querypack", name+".tsv"))
	if err != nil {
		t.Fatalf("expected results: %v", err)
	}
	var want [][]string
	for i, line := range strings.Split(strings.TrimRight(string(raw), "\n"), "\n") {
		if i == 0 || strings.HasPrefix(line, "#") {
			continue
		}
		want = append(want, strings.Split(line, "\t"))
	}
	render := func(rows [][]string) string {
		var b strings.Builder
		for _, r := range rows {
			for i := range r {
				r[i] = normalize(r[i])
			}
			b.WriteString(strings.Join(r, "\t") + "\n")
		}
		return b.String()
	}
	if g, w := render(got), render(want); g != w {
		t.Errorf("%s returned\n%s\nwant\n%s", name, g, w)
	}
}

// chdbResult is what testdata/chdb_run.py reports.
type chdbResult struct {
	Version   string            `json:"version"`
	Results   map[string]string `json:"results"`
	Error     string            `json:"error"`
	Statement string            `json:"statement"`
}

// runChDB migrates a database on chDB, a current ClickHouse embedded in
// Python, with params, runs inserts and then every query, and returns the
// results as tab-separated text by query name. A failing statement fails
// the test; a failing query does too unless queryErrors, when its result
// is "ERROR: " and the server's message.
func runChDB(t *testing.T, params chschema.Params, inserts []string, queries map[string]string, queryErrors bool) chdbResult {
	t.Helper()
	return runChDBFrom(t, params, 0, inserts, queries, queryErrors)
}

// runChDBFrom is runChDB with the inserts run after the migrations up to
// version, and the later migrations after the inserts; 0 runs every
// migration first.
func runChDBFrom(t *testing.T, params chschema.Params, version int, inserts []string, queries map[string]string, queryErrors bool) chdbResult {
	t.Helper()
	python := chdbPython(t)
	setup := []string{"CREATE DATABASE IF NOT EXISTS " + params.Database}
	ms, err := chschema.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	if version == 0 {
		version = len(ms)
	}
	for _, m := range ms {
		if m.Version == version+1 {
			setup = append(setup, inserts...)
		}
		stmts, err := m.Statements(params)
		if err != nil {
			t.Fatal(err)
		}
		setup = append(setup, stmts...)
	}
	if version == len(ms) {
		setup = append(setup, inserts...)
	}
	job, _ := json.Marshal(map[string]any{"setup": setup, "queries": queries, "query_errors": queryErrors})
	jobFile := filepath.Join(t.TempDir(), "job.json")
	if err := os.WriteFile(jobFile, job, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(python, "testdata/chdb_run.py", jobFile).Output()
	var res chdbResult
	if jerr := json.Unmarshal(out, &res); jerr != nil {
		t.Fatalf("chdb run: %v %v: %s", err, jerr, out)
	}
	if res.Error != "" {
		t.Fatalf("chdb rejected a statement: %s\n%s", res.Error, res.Statement)
	}
	return res
}
