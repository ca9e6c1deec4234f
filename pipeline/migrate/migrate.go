package migrate

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/awumeter/awumeter/schemas/chschema"
)

// DefaultDatabase is the database used when none is configured.
const DefaultDatabase = "awumeter"

// Options choose where and how migrations are applied.
type Options struct {
	// Database defaults to DefaultDatabase.
	Database string
	// Flavor forces a DDL branch; empty detects it from the server version,
	// or reuses the one recorded by earlier migrations.
	Flavor chschema.Flavor
	// Cluster, when set, applies the cluster variant ON CLUSTER Cluster.
	Cluster string
	// EventsRetentionDays adds a TTL to the events ledger (modern only):
	// 0 keeps events forever, otherwise at least MinEventsRetentionDays.
	EventsRetentionDays int
	// To stops after the migration with this version; 0 applies them all.
	// Upgrade tests and benchmarks use it to build a database as an
	// earlier release left it.
	To int
	// Progress, when set, is called before and after each statement Up
	// runs, so that a long backfill shows where it is.
	Progress func(Progress)
	// ModernSince is the first server version whose detected flavor is
	// modern; zero means DefaultModernSince. It matters only when Flavor
	// is empty and no migration is recorded yet.
	ModernSince Version
}

// Version is a ClickHouse server's major.minor release.
type Version struct {
	Major, Minor int
}

// AtLeast reports whether v is o or later.
func (v Version) AtLeast(o Version) bool {
	return v.Major > o.Major || v.Major == o.Major && v.Minor >= o.Minor
}

// String formats v as major.minor.
func (v Version) String() string { return strconv.Itoa(v.Major) + "." + strconv.Itoa(v.Minor) }

// ParseVersion reads the major and minor of a version string such as
// "18.16.1" or "24.8.4.13"; ok is false when it has no numeric major.minor.
func ParseVersion(version string) (v Version, ok bool) {
	parts := strings.SplitN(version, ".", 3)
	if len(parts) < 2 {
		return Version{}, false
	}
	major, err1 := strconv.Atoi(parts[0])
	minor, err2 := strconv.Atoi(parts[1])
	if err1 != nil || err2 != nil {
		return Version{}, false
	}
	return Version{major, minor}, true
}

// Progress is one statement of a migration, about to run or done.
type Progress struct {
	Version    int
	Name       string
	Statement  int // 1-based
	Statements int
	SQL        string
	Done       bool
	Elapsed    time.Duration // the statement's own time, once Done
}

// Applied is one row of the migrations table.
type Applied struct {
	Version   int
	Name      string
	Checksum  string
	Flavor    chschema.Flavor
	Cluster   string
	AppliedAt time.Time
}

// Step is a pending migration rendered for a database.
type Step struct {
	Migration  chschema.Migration
	Statements []string
}

// Plan is what Up would do.
type Plan struct {
	Params  chschema.Params
	Applied []Applied
	Pending []Step
	// Bootstrap creates the database and the migrations table.
	Bootstrap []string
}

// DefaultModernSince is the first server version that gets the modern
// branch unless Options.ModernSince says otherwise: 21.8.
func DefaultModernSince() Version { return Version{21, 8} }

// DetectFlavor asks the server for its version and picks the DDL branch:
// modern from modernSince on (zero: DefaultModernSince).
func DetectFlavor(ctx context.Context, conn driver.Conn, modernSince Version) (chschema.Flavor, string, error) {
	var v string
	if err := conn.QueryRow(ctx, "SELECT version()").Scan(&v); err != nil {
		return "", "", fmt.Errorf("cannot read the server version: %w", err)
	}
	return FlavorSince(v, modernSince), v, nil
}

// FlavorOf maps a version string such as "18.16.1" or "24.8.4.13" to a
// flavor, modern from DefaultModernSince on. Unparseable versions are
// treated as legacy, which runs everywhere.
func FlavorOf(version string) chschema.Flavor {
	return FlavorSince(version, DefaultModernSince())
}

// FlavorSince is FlavorOf with modern from modernSince on (zero:
// DefaultModernSince).
func FlavorSince(version string, modernSince Version) chschema.Flavor {
	if modernSince == (Version{}) {
		modernSince = DefaultModernSince()
	}
	if v, ok := ParseVersion(version); ok && v.AtLeast(modernSince) {
		return chschema.Modern
	}
	return chschema.Legacy
}

func checksum(src string) string {
	sum := sha256.Sum256([]byte(src))
	return hex.EncodeToString(sum[:8])
}

func bootstrap(p chschema.Params) []string {
	// The newest record of a version wins: see List.
	onCluster, engine := "", "ReplacingMergeTree(applied_at)"
	if p.Cluster != "" {
		onCluster = " ON CLUSTER " + p.Cluster
		// One ZooKeeper path for every node: the record is the same everywhere.
		engine = fmt.Sprintf("ReplicatedReplacingMergeTree('/clickhouse/tables/all/%s/schema_migrations', '{replica}', applied_at)", p.Database)
	}
	return []string{
		fmt.Sprintf("CREATE DATABASE IF NOT EXISTS %s%s", p.Database, onCluster),
		fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %s.schema_migrations%s
(
    version    UInt32,
    name       String,
    checksum   String,
    flavor     String,
    cluster    String,
    applied_at DateTime('UTC')
)
ENGINE = %s
ORDER BY version`, p.Database, onCluster, engine),
	}
}

// List reads the migrations table. A missing database or table yields no
// rows and no error.
func List(ctx context.Context, conn driver.Conn, database string) ([]Applied, error) {
	var engine string
	err := conn.QueryRow(ctx, "SELECT any(engine) FROM system.tables WHERE database = ? AND name = 'schema_migrations'", database).Scan(&engine)
	if err != nil {
		return nil, fmt.Errorf("cannot look for %s.schema_migrations: %w", database, err)
	}
	if engine == "" {
		return nil, nil
	}
	if strings.HasPrefix(engine, "Replicated") {
		// In the cluster variant, wait until this node has every record.
		if err := conn.Exec(ctx, "SYSTEM SYNC REPLICA "+database+".schema_migrations"); err != nil {
			return nil, fmt.Errorf("cannot sync %s.schema_migrations from the other replicas: %w", database, err)
		}
	}
	rows, err := conn.Query(ctx, "SELECT version, name, checksum, flavor, cluster, applied_at FROM "+database+".schema_migrations FINAL ORDER BY version")
	if err != nil {
		return nil, fmt.Errorf("cannot read %s.schema_migrations: %w", database, err)
	}
	defer rows.Close()
	var out []Applied
	for rows.Next() {
		var a Applied
		var v uint32
		var flavor string
		if err := rows.Scan(&v, &a.Name, &a.Checksum, &flavor, &a.Cluster, &a.AppliedAt); err != nil {
			return nil, fmt.Errorf("cannot read %s.schema_migrations: %w", database, err)
		}
		a.Version, a.Flavor = int(v), chschema.Flavor(flavor)
		out = append(out, a)
	}
	return out, rows.Err()
}

// MinEventsRetentionDays is the shortest ledger TTL accepted: late
// duplicates are found in the ledger, and billing corrections reach 35 days
// back.
const MinEventsRetentionDays = 35

// Prepare works out the parameters and the pending steps without changing
// anything; it is what --dry-run prints.
func Prepare(ctx context.Context, conn driver.Conn, opts Options) (Plan, error) {
	if d := opts.EventsRetentionDays; d != 0 && d < MinEventsRetentionDays {
		return Plan{}, fmt.Errorf("events retention %d days: must be 0 (keep forever) or at least %d days; late duplicates are found in the events ledger, and billing corrections reach that far back", d, MinEventsRetentionDays)
	}
	p := chschema.Params{Database: opts.Database, Flavor: opts.Flavor, Cluster: opts.Cluster, EventsRetentionDays: opts.EventsRetentionDays}
	if p.Database == "" {
		p.Database = DefaultDatabase
	}
	applied, err := List(ctx, conn, p.Database)
	if err != nil {
		return Plan{}, err
	}
	if len(applied) > 0 {
		last := applied[len(applied)-1]
		if p.Flavor != "" && p.Flavor != last.Flavor {
			return Plan{}, fmt.Errorf("flavor %s: database %s was migrated with flavor %s; a database keeps its flavor", p.Flavor, p.Database, last.Flavor)
		}
		if p.Cluster != last.Cluster {
			return Plan{}, fmt.Errorf("cluster %q: database %s was migrated with cluster %q; a database keeps its layout", p.Cluster, p.Database, last.Cluster)
		}
		p.Flavor = last.Flavor
	}
	if p.Flavor == "" {
		if p.Flavor, _, err = DetectFlavor(ctx, conn, opts.ModernSince); err != nil {
			return Plan{}, err
		}
	}
	if err := p.Validate(); err != nil {
		return Plan{}, err
	}
	all, err := chschema.Migrations()
	if err != nil {
		return Plan{}, err
	}
	if err := compare(p.Database, applied, all); err != nil && !errors.Is(err, ErrUnmigrated) {
		return Plan{}, err
	}
	if opts.To < 0 || opts.To > len(all) {
		return Plan{}, fmt.Errorf("target version %d: this binary has migrations 1 to %d", opts.To, len(all))
	}
	if opts.To > 0 {
		all = all[:max(opts.To, len(applied))]
	}
	plan := Plan{Params: p, Applied: applied, Bootstrap: bootstrap(p)}
	for _, m := range all[len(applied):] {
		stmts, err := m.Statements(p)
		if err != nil {
			return Plan{}, err
		}
		plan.Pending = append(plan.Pending, Step{Migration: m, Statements: stmts})
	}
	return plan, nil
}

// Up applies every pending migration and returns the ones it applied.
func Up(ctx context.Context, conn driver.Conn, opts Options) ([]Applied, error) {
	plan, err := Prepare(ctx, conn, opts)
	if err != nil {
		return nil, err
	}
	for _, stmt := range plan.Bootstrap {
		if err := exec(ctx, conn, stmt); err != nil {
			return nil, fmt.Errorf("cannot create the migrations table: %w", err)
		}
	}
	var done []Applied
	for _, step := range plan.Pending {
		m := step.Migration
		for i, stmt := range step.Statements {
			p := Progress{Version: m.Version, Name: m.Name, Statement: i + 1, Statements: len(step.Statements), SQL: stmt}
			if opts.Progress != nil {
				opts.Progress(p)
			}
			start := time.Now()
			if err := exec(ctx, conn, stmt); err != nil {
				return done, fmt.Errorf("migration %04d_%s, statement %d: %w", m.Version, m.Name, i+1, err)
			}
			if opts.Progress != nil {
				p.Done, p.Elapsed = true, time.Since(start)
				opts.Progress(p)
			}
		}
		a := Applied{Version: m.Version, Name: m.Name, Checksum: checksum(m.Source), Flavor: plan.Params.Flavor,
			Cluster: plan.Params.Cluster, AppliedAt: time.Now().UTC().Truncate(time.Second)}
		err := record(ctx, conn, plan.Params.Database, a)
		if err != nil {
			return done, fmt.Errorf("cannot record migration %04d_%s: %w", m.Version, m.Name, err)
		}
		done = append(done, a)
	}
	return done, nil
}

// alreadyExists are the server error codes a re-run of a half-applied
// migration may meet: DUPLICATE_COLUMN, TABLE_ALREADY_EXISTS,
// DATABASE_ALREADY_EXISTS. (18.16 lacks ADD COLUMN IF NOT EXISTS.)
var alreadyExists = map[int32]bool{15: true, 57: true, 82: true}

func exec(ctx context.Context, conn driver.Conn, stmt string) error {
	// A backfill (INSERT … SELECT) into a Distributed table is then done on
	// every shard before the next statement reads it; other statements
	// ignore the setting.
	// The rollup backfill (0009) groups every day's rows at once: past 1 GiB
	// of group state it spills to disk instead of failing at the server's
	// max_memory_usage.
	ctx = clickhouse.Context(ctx, clickhouse.WithSettings(clickhouse.Settings{
		"insert_distributed_sync":            1,
		"max_bytes_before_external_group_by": 1 << 30,
	}))
	err := conn.Exec(ctx, stmt)
	var ex *clickhouse.Exception
	if errors.As(err, &ex) && alreadyExists[ex.Code] {
		return nil
	}
	return err
}

// record inserts one row into the migrations table. It uses a batch with a
// column list: 18.16 does not take an INSERT … VALUES with bound arguments
// through the native protocol.
func record(ctx context.Context, conn driver.Conn, database string, a Applied) error {
	b, err := conn.PrepareBatch(ctx, "INSERT INTO "+database+".schema_migrations (version, name, checksum, flavor, cluster, applied_at)")
	if err != nil {
		return err
	}
	defer b.Close() // releases the connection however the batch ends
	if err := b.Append(uint32(a.Version), a.Name, a.Checksum, string(a.Flavor), a.Cluster, a.AppliedAt); err != nil {
		_ = b.Abort()
		return err
	}
	return b.Send()
}
