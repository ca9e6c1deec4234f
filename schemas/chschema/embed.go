// Package chschema holds awumeter's ClickHouse schema: the numbered
// migrations (NNNN_name.sql), the refresh of the rollup tables
// (rollups/refresh.sql) and the analysts' query pack (queries/*.sql),
// embedded in the binary.
//
// # Query pack
//
// The query files are plain SQL, not templates, so they run by hand as they
// are: `clickhouse-client --database awumeter --multiquery < file.sql`. They
// name tables without a database (usage_monthly, workcycles FINAL, ...), read
// only columns common to every flavor, and hold exactly one statement. The
// first comment line is the query's one-line description (awumeter query
// --list); it must fit on one line.
//
// A query that can be filtered says so with a filter marker, a block comment
// at the end of a WHERE condition:
//
//	WHERE 1 /* filters: month = toStartOfMonth(day), tenant = tenant_id */
//	WHERE kind = 'tool' /* filters: month = month, tenant = tenant_id */
//
// By hand the marker is a comment and the query reads everything. [Bind]
// replaces each marker with one "AND <expr> = ?" condition per filter given,
// in the order the marker lists them, and returns the values to bind to the
// placeholders (clickhouse-go binds them as quoted literals; a value is never
// pasted into the text). A filter not given adds nothing. The filters are:
//
//	month   YYYY-MM; bound as the string 'YYYY-MM-01', which ClickHouse
//	        compares as a Date, so <expr> must be a Date: the first day of
//	        a month (e.g. month, toStartOfMonth(started_at))
//	tenant  a tenant id; <expr> is usually tenant_id
//
// A marker's <expr> is a column or a function call (no commas outside
// parentheses, no "*/"). A query may hold several markers, one per
// subquery; all of them must list the same filters. The pack's SQL holds no
// "?" of its own.
//
// # Migrations
//
// Migration files are Go text/templates with a deliberately tiny vocabulary, so one
// source serves the Debian 18.16 server, current ClickHouse, and a cluster:
//
//	{{db}}                 the database name (default awumeter)
//	{{onCluster}}          " ON CLUSTER name" in the cluster variant, else ""
//	{{datetime}}           DateTime('UTC') on legacy, DateTime64(3, 'UTC') on modern
//	{{dim}}                String on legacy, LowCardinality(String) on modern
//	{{codec "ZSTD(1)"}}    " CODEC(ZSTD(1))" on modern, else ""
//	{{if legacy}}…{{end}}  text kept only on legacy servers (e.g. *_ms columns)
//	{{if clustered}}…{{end}}
//	                       text kept only in the cluster variant (e.g. an
//	                       ALTER of a Distributed table)
//	{{ttl "expr"}}         " TTL expr + INTERVAL N DAY" on modern when a
//	                       retention is set, else ""
//	{{table "name"}}       the table that stores data: name, or name_local
//	                       in the cluster variant
//	{{engine "ReplacingMergeTree" "name" "version"}}
//	                       ReplacingMergeTree(version), or its Replicated form
//	                       with a ZooKeeper path per shard in the cluster variant
//	{{distributed "name" "sharding expr"}}
//	                       in the cluster variant, a CREATE statement for the
//	                       Distributed table "name" over name_local; else ""
//	{{in}}                 IN, or GLOBAL IN in the cluster variant
//	{{refresh "all"}}      the statements of rollups/refresh.sql for every
//	                       slice (0009's backfill)
//	{{hasPrefix s p}}, {{hasSuffix s p}}, {{split "a, b"}}
//	                       string tests and a list, for {{define}}d blocks
//
// rollups/refresh.sql adds {{days}} and {{months}}: the condition selecting
// the slices to refresh, "1" for all of them, else membership in the
// external tables RefreshDays and RefreshMonths.
//
// A file holds one or more statements, each ending with ";" at the end of a
// line. Statements that render empty are skipped.
package chschema

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"text/template"
)

//go:embed *.sql queries/*.sql rollups/*.sql guards/*.sql
var files embed.FS

// Flavor selects the DDL branch for a server version.
type Flavor string

const (
	// Legacy is for ClickHouse before 21.8, including Debian's 18.16: no
	// LowCardinality, DateTime64, TTL or codecs. Times keep milliseconds in
	// a companion <column>_ms UInt16 column.
	Legacy Flavor = "legacy"
	// Modern is for ClickHouse 21.8 and later: LowCardinality dimensions,
	// DateTime64(3) times, column codecs and an optional TTL on events.
	Modern Flavor = "modern"
)

// Params are the values a template is rendered with.
type Params struct {
	// Database is the database name; it must match [A-Za-z_][A-Za-z0-9_]*.
	Database string
	// Flavor is Legacy or Modern.
	Flavor Flavor
	// Cluster, when set, renders the cluster variant: Replicated engines,
	// Distributed tables and ON CLUSTER DDL for the named cluster.
	Cluster string
	// EventsRetentionDays, when above zero, adds a TTL to the events ledger
	// on modern servers. Zero keeps events forever.
	EventsRetentionDays int

	// someSlices renders the rollup refresh for the slices listed in the
	// external tables RefreshDays and RefreshMonths instead of all slices.
	someSlices bool
}

var identifier = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// Validate reports every problem with the parameters.
func (p Params) Validate() error {
	var errs []error
	if !identifier.MatchString(p.Database) {
		errs = append(errs, fmt.Errorf("database %q: must match [A-Za-z_][A-Za-z0-9_]*", p.Database))
	}
	if p.Flavor != Legacy && p.Flavor != Modern {
		errs = append(errs, fmt.Errorf("flavor %q: must be %q or %q", p.Flavor, Legacy, Modern))
	}
	if p.Cluster != "" && !identifier.MatchString(p.Cluster) {
		errs = append(errs, fmt.Errorf("cluster %q: must match [A-Za-z_][A-Za-z0-9_]*", p.Cluster))
	}
	if p.EventsRetentionDays < 0 {
		errs = append(errs, fmt.Errorf("events retention %d days: must be zero (keep forever) or more", p.EventsRetentionDays))
	}
	if p.EventsRetentionDays > 0 && p.Flavor == Legacy {
		errs = append(errs, errors.New("events retention: TTL needs ClickHouse 21.8 or later; this server is legacy"))
	}
	return errors.Join(errs...)
}

func (p Params) funcs() template.FuncMap {
	modern := p.Flavor == Modern
	local := func(name string) string {
		if p.Cluster != "" {
			return name + "_local"
		}
		return name
	}
	return template.FuncMap{
		"db": func() string { return p.Database },
		"onCluster": func() string {
			if p.Cluster == "" {
				return ""
			}
			return " ON CLUSTER " + p.Cluster
		},
		"datetime": func() string {
			if modern {
				return "DateTime64(3, 'UTC')"
			}
			return "DateTime('UTC')"
		},
		"dim": func() string {
			if modern {
				return "LowCardinality(String)"
			}
			return "String"
		},
		"codec": func(c string) string {
			if modern {
				return " CODEC(" + c + ")"
			}
			return ""
		},
		"legacy":    func() bool { return !modern },
		"clustered": func() bool { return p.Cluster != "" },
		"ttl": func(expr string) string {
			if !modern || p.EventsRetentionDays <= 0 {
				return ""
			}
			return " TTL " + expr + " + INTERVAL " + strconv.Itoa(p.EventsRetentionDays) + " DAY"
		},
		"table":     local,
		"in":        func() string { return globalIn(p) },
		"hasPrefix": strings.HasPrefix,
		"hasSuffix": strings.HasSuffix,
		"split":     func(list string) []string { return strings.Split(list, ", ") },
		"days": func() string {
			if !p.someSlices {
				return "1"
			}
			return "(tenant_id, day) " + globalIn(p) + " (SELECT tenant_id, day FROM " + RefreshDays + ")"
		},
		"months": func() string {
			if !p.someSlices {
				return "1"
			}
			// The tuple with a function of day alone would read the whole
			// table; the tenant and day range conditions let the primary
			// key narrow the read first.
			return "tenant_id " + globalIn(p) + " (SELECT tenant_id FROM " + RefreshMonths + ")" +
				" AND day >= (SELECT min(month) FROM " + RefreshMonths + ")" +
				" AND day < (SELECT addMonths(max(month), 1) FROM " + RefreshMonths + ")" +
				" AND (tenant_id, toStartOfMonth(day)) " + globalIn(p) + " (SELECT tenant_id, month FROM " + RefreshMonths + ")"
		},
		"refresh": func(string) (string, error) {
			all := p
			all.someSlices = false
			stmts, err := refreshStatements(all)
			if err != nil {
				return "", err
			}
			return strings.Join(stmts, ";\n\n") + ";", nil
		},
		"engine": func(engine, name string, args ...string) string {
			if p.Cluster == "" {
				return engine + "(" + strings.Join(args, ", ") + ")"
			}
			zk := fmt.Sprintf("'/clickhouse/tables/{shard}/%s/%s'", p.Database, local(name))
			return "Replicated" + engine + "(" + strings.Join(append([]string{zk, "'{replica}'"}, args...), ", ") + ")"
		},
		"distributed": func(name, sharding string) string {
			if p.Cluster == "" {
				return ""
			}
			return fmt.Sprintf("CREATE TABLE IF NOT EXISTS %[1]s.%[2]s ON CLUSTER %[3]s AS %[1]s.%[4]s\nENGINE = Distributed(%[3]s, %[1]s, %[4]s, %[5]s)",
				p.Database, name, p.Cluster, local(name), sharding)
		},
	}
}

// globalIn is IN, or GLOBAL IN on a cluster, where a subquery's set must be
// built once on the initiator: from a Distributed table, or from an external
// table that only the initiator has.
func globalIn(p Params) string {
	if p.Cluster != "" {
		return "GLOBAL IN"
	}
	return "IN"
}

// The external tables that list the slices RefreshStatements refreshes.
const (
	// RefreshDays lists (tenant_id String, day Date): the daily slices.
	RefreshDays = "rollup_days"
	// RefreshMonths lists (tenant_id String, month Date): the monthly
	// slices, the months of RefreshDays.
	RefreshMonths = "rollup_months"
)

// RefreshStatements renders the refresh of the rollup tables
// (rollups/refresh.sql) for the slices listed in the external tables
// RefreshDays and RefreshMonths, which the caller sends with the queries.
// Run the statements in order, after the rows they read were acknowledged.
func RefreshStatements(p Params) ([]string, error) {
	p.someSlices = true
	return refreshStatements(p)
}

// RefreshAllStatements renders the refresh of every slice of the rollup
// tables, as migration 0009 runs it: a rebuild of the rollups from awu_days.
func RefreshAllStatements(p Params) ([]string, error) {
	p.someSlices = false
	return refreshStatements(p)
}

func refreshStatements(p Params) ([]string, error) {
	src, err := fs.ReadFile(files, "rollups/refresh.sql")
	if err != nil {
		return nil, err
	}
	return Render("rollups/refresh.sql", string(src), p)
}

// TenantSpendQuery renders guards/tenant_spend.sql: each tenant's token
// and list cost (USD) per UTC hour over the daily slices listed in the
// external table RefreshDays, as RefreshStatements lists them. Columns:
// tenant_id String, hour DateTime('UTC'), token_cost and list_cost
// Decimal(38, 12).
func TenantSpendQuery(p Params) (string, error) {
	p.someSlices = true
	src, err := fs.ReadFile(files, "guards/tenant_spend.sql")
	if err != nil {
		return "", err
	}
	stmts, err := Render("guards/tenant_spend.sql", string(src), p)
	if err != nil {
		return "", err
	}
	if len(stmts) != 1 {
		return "", fmt.Errorf("guards/tenant_spend.sql: %d statements, want 1", len(stmts))
	}
	return stmts[0], nil
}

// Render executes one template and splits it into statements.
func Render(name, src string, p Params) ([]string, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	t, err := template.New(name).Option("missingkey=error").Funcs(p.funcs()).Parse(src)
	if err != nil {
		return nil, fmt.Errorf("cannot parse %s: %w", name, err)
	}
	var b strings.Builder
	if err := t.Execute(&b, nil); err != nil {
		return nil, fmt.Errorf("cannot render %s: %w", name, err)
	}
	return splitStatements(b.String()), nil
}

// splitStatements cuts SQL at ";" ending a line, dropping comment-only and
// empty statements.
func splitStatements(sql string) []string {
	var out []string
	var cur strings.Builder
	flush := func() {
		s := strings.TrimSpace(cur.String())
		cur.Reset()
		if s != "" && !onlyComments(s) {
			out = append(out, s)
		}
	}
	for line := range strings.Lines(sql) {
		trimmed := strings.TrimRight(line, " \t\r\n")
		if strings.HasSuffix(trimmed, ";") {
			cur.WriteString(strings.TrimSuffix(trimmed, ";"))
			flush()
			continue
		}
		cur.WriteString(line)
	}
	flush()
	return out
}

func onlyComments(s string) bool {
	for line := range strings.Lines(s) {
		l := strings.TrimSpace(line)
		if l != "" && !strings.HasPrefix(l, "--") {
			return false
		}
	}
	return true
}

// Migration is one numbered schema step.
type Migration struct {
	Version int    // from the NNNN prefix, starting at 1
	Name    string // the file name without the prefix and extension
	Source  string // the template text; its hash is recorded when applied
}

var migrationName = regexp.MustCompile(`^(\d{4})_([a-z0-9_]+)\.sql$`)

// Migrations returns the embedded migrations in version order. Versions
// start at 1 and have no gaps.
func Migrations() ([]Migration, error) {
	entries, err := fs.ReadDir(files, ".")
	if err != nil {
		return nil, err
	}
	var out []Migration
	for _, e := range entries {
		m := migrationName.FindStringSubmatch(e.Name())
		if m == nil {
			continue
		}
		v, _ := strconv.Atoi(m[1])
		src, err := fs.ReadFile(files, e.Name())
		if err != nil {
			return nil, err
		}
		out = append(out, Migration{Version: v, Name: m[2], Source: string(src)})
	}
	slices.SortFunc(out, func(a, b Migration) int { return a.Version - b.Version })
	for i, m := range out {
		if m.Version != i+1 {
			return nil, fmt.Errorf("migration %04d_%s: expected version %d; versions must start at 1 without gaps", m.Version, m.Name, i+1)
		}
	}
	return out, nil
}

// Statements renders the migration for p.
func (m Migration) Statements(p Params) ([]string, error) {
	return Render(fmt.Sprintf("%04d_%s.sql", m.Version, m.Name), m.Source, p)
}
