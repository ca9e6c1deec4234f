package chschema

import (
	"errors"
	"fmt"
	"io/fs"
	"regexp"
	"slices"
	"strings"
	"time"
)

// The filters a query of the pack can declare, in the order they are listed
// to people.
const (
	FilterMonth  = "month"
	FilterTenant = "tenant"
)

var knownFilters = []string{FilterMonth, FilterTenant}

// QueryNames lists the query pack, sorted.
func QueryNames() []string {
	entries, _ := fs.ReadDir(files, "queries")
	var names []string
	for _, e := range entries {
		names = append(names, strings.TrimSuffix(e.Name(), ".sql"))
	}
	return names
}

// Query returns one query of the pack as it is in its file, without the
// final ";": unqualified table names, so it reads the session's default
// database, and its filter markers left as comments, so it reads
// everything. Queries read the same columns on every flavor.
func Query(name string) (string, error) {
	q, err := LoadQuery(name)
	if err != nil {
		return "", err
	}
	return q.SQL, nil
}

// PackQuery is one parsed query of the pack.
type PackQuery struct {
	Name string
	// Description is the first comment line of the file.
	Description string
	// SQL is the statement as in the file, without the final ";".
	SQL string
	// Filters are the filters its markers accept, in the marker's order;
	// empty when it takes none.
	Filters []string

	markers []marker
}

// marker is one filter marker: its place in SQL and its conditions.
type marker struct {
	start, end int      // byte offsets of the comment in SQL
	names      []string // filter names, in order
	exprs      []string // the expression each is compared with
}

// LoadQuery reads and parses one query of the pack.
func LoadQuery(name string) (*PackQuery, error) {
	if !slices.Contains(QueryNames(), name) {
		return nil, fmt.Errorf("no query %q in the pack; `awumeter query --list` lists them", name)
	}
	src, err := fs.ReadFile(files, "queries/"+name+".sql")
	if err != nil {
		return nil, err
	}
	return ParseQuery(name, string(src))
}

// Queries parses every query of the pack, in name order.
func Queries() ([]*PackQuery, error) {
	var out []*PackQuery
	for _, n := range QueryNames() {
		q, err := LoadQuery(n)
		if err != nil {
			return nil, err
		}
		out = append(out, q)
	}
	return out, nil
}

var (
	markerRe     = regexp.MustCompile(`/\*\s*filters:(.*?)\*/`)
	filterNameRe = regexp.MustCompile(`^[a-z_]+$`)
)

// ParseQuery parses the source of a query file: one statement, a
// description on its first comment line, and its filter markers.
func ParseQuery(name, src string) (*PackQuery, error) {
	fail := func(format string, args ...any) (*PackQuery, error) {
		return nil, fmt.Errorf("query %s: "+format, append([]any{name}, args...)...)
	}
	stmts := splitStatements(src)
	if len(stmts) != 1 {
		return fail("holds %d statements; want exactly 1", len(stmts))
	}
	q := &PackQuery{Name: name, SQL: stmts[0]}
	for line := range strings.Lines(src) {
		if l := strings.TrimSpace(line); strings.HasPrefix(l, "--") {
			q.Description = strings.TrimSpace(strings.TrimPrefix(l, "--"))
			break
		}
	}
	if q.Description == "" {
		return fail("has no description: its first comment line must say what it returns")
	}
	if strings.Contains(q.SQL, "{{") {
		return fail("holds {{…}}: query files are plain SQL, not templates")
	}
	if strings.Contains(q.SQL, "?") {
		return fail(`holds "?", which would be taken for a bound value`)
	}
	if strings.Contains(q.SQL, "filters") && len(markerRe.FindAllStringIndex(q.SQL, -1)) != strings.Count(q.SQL, "filters:") {
		return fail(`has a "filters:" that is not a marker /* filters: name = expr, … */`)
	}
	for _, loc := range markerRe.FindAllStringSubmatchIndex(q.SQL, -1) {
		m := marker{start: loc[0], end: loc[1]}
		body := q.SQL[loc[2]:loc[3]]
		for _, part := range splitTopLevel(body) {
			fname, expr, ok := strings.Cut(part, "=")
			fname, expr = strings.TrimSpace(fname), strings.TrimSpace(expr)
			if !ok || !filterNameRe.MatchString(fname) || expr == "" {
				return fail("filter marker: %q: want name = expression", strings.TrimSpace(part))
			}
			if !slices.Contains(knownFilters, fname) {
				return fail("filter marker: unknown filter %q; known: %s", fname, strings.Join(knownFilters, ", "))
			}
			if slices.Contains(m.names, fname) {
				return fail("filter marker: %s twice", fname)
			}
			m.names = append(m.names, fname)
			m.exprs = append(m.exprs, expr)
		}
		if len(m.names) == 0 {
			return fail("filter marker lists no filter")
		}
		if len(q.markers) == 0 {
			q.Filters = m.names
		} else if !sameSet(q.Filters, m.names) {
			return fail("filter markers disagree: %s and %s; every marker must list the same filters",
				strings.Join(q.Filters, ", "), strings.Join(m.names, ", "))
		}
		q.markers = append(q.markers, m)
	}
	return q, nil
}

// splitTopLevel cuts s at the commas outside parentheses and quotes.
func splitTopLevel(s string) []string {
	var out []string
	depth, quoted, from := 0, false, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\'' && (i == 0 || s[i-1] != '\\'):
			quoted = !quoted
		case quoted:
		case c == '(':
			depth++
		case c == ')':
			depth--
		case c == ',' && depth == 0:
			out = append(out, s[from:i])
			from = i + 1
		}
	}
	if strings.TrimSpace(s[from:]) != "" || len(out) > 0 {
		out = append(out, s[from:])
	}
	return out
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for _, x := range a {
		if !slices.Contains(b, x) {
			return false
		}
	}
	return true
}

// Accepts reports whether the query takes the filter.
func (q *PackQuery) Accepts(filter string) bool { return slices.Contains(q.Filters, filter) }

// FilterValues are the filters to apply, by name (FilterMonth, FilterTenant).
// An empty value is no filter.
type FilterValues map[string]string

// Bind applies the filters: each marker becomes one "AND <expr> = ?"
// condition per filter given, and args holds the values for the
// placeholders, in order, for the driver's positional binding. Without
// filters it returns the SQL as it is and no args. A filter the query does
// not take is an error that names the filters it does take.
func (q *PackQuery) Bind(values FilterValues) (sql string, args []any, err error) {
	bound := map[string]string{}
	var errs []error
	for _, f := range knownFilters {
		v, ok := values[f]
		if !ok || v == "" {
			continue
		}
		if !q.Accepts(f) {
			errs = append(errs, fmt.Errorf("query %s does not take --%s; %s", q.Name, f, q.acceptsText()))
			continue
		}
		bv, err := filterValue(f, v)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		bound[f] = bv
	}
	for f, v := range values {
		if v != "" && !slices.Contains(knownFilters, f) {
			errs = append(errs, fmt.Errorf("unknown filter %q; known: %s", f, strings.Join(knownFilters, ", ")))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return "", nil, err
	}
	if len(bound) == 0 {
		return q.SQL, nil, nil
	}
	var b strings.Builder
	last := 0
	for _, m := range q.markers {
		b.WriteString(q.SQL[last:m.start])
		sep := ""
		for i, f := range m.names {
			v, ok := bound[f]
			if !ok {
				continue
			}
			b.WriteString(sep + "AND " + m.exprs[i] + " = ?")
			sep = " "
			args = append(args, v)
		}
		last = m.end
	}
	b.WriteString(q.SQL[last:])
	return b.String(), args, nil
}

// acceptsText names the filters the query takes, for an error message.
func (q *PackQuery) acceptsText() string {
	if len(q.Filters) == 0 {
		return "it takes no filters"
	}
	flags := make([]string, len(q.Filters))
	for i, f := range q.Filters {
		flags[i] = "--" + f
	}
	return "it takes " + strings.Join(flags, ", ")
}

var monthRe = regexp.MustCompile(`^\d{4}-\d{2}$`)

// filterValue checks a filter's value and returns what is bound.
func filterValue(filter, v string) (string, error) {
	switch filter {
	case FilterMonth:
		if !monthRe.MatchString(v) {
			return "", fmt.Errorf("--month %q: must be YYYY-MM, e.g. 2026-10", v)
		}
		t, err := time.Parse("2006-01", v)
		if err != nil || t.Year() < 1970 {
			return "", fmt.Errorf("--month %q: must be YYYY-MM with a month 01 to 12 from 1970 on, e.g. 2026-10", v)
		}
		return t.Format("2006-01-02"), nil
	}
	return v, nil
}
