package migrate

import (
	"errors"
	"testing"
	"time"

	"github.com/awumeter/awumeter/internal/testenv"
	"github.com/awumeter/awumeter/schemas/chschema"
)

func TestFlavorOf(t *testing.T) {
	for v, want := range map[string]chschema.Flavor{
		"18.16.1": chschema.Legacy, "21.3.20.1": chschema.Legacy, "21.8.15.7": chschema.Modern,
		"24.8.4.13": chschema.Modern, "26.9.2.1": chschema.Modern, "garbage": chschema.Legacy,
	} {
		if got := FlavorOf(v); got != want {
			t.Errorf("FlavorOf(%q) = %s, want %s", v, got, want)
		}
	}
}

// The threshold is a parameter: zero means 21.8, and another one moves the
// boundary without touching any package state.
func TestFlavorSince(t *testing.T) {
	for _, c := range []struct {
		version string
		since   Version
		want    chschema.Flavor
	}{
		{"21.8.15.7", Version{}, chschema.Modern},
		{"21.7.1", Version{}, chschema.Legacy},
		{"21.8.15.7", Version{22, 0}, chschema.Legacy},
		{"22.1.1", Version{22, 0}, chschema.Modern},
		{"18.16.1", Version{18, 16}, chschema.Modern},
		{"18.14.1", Version{18, 16}, chschema.Legacy},
		{"garbage", Version{1, 0}, chschema.Legacy},
	} {
		if got := FlavorSince(c.version, c.since); got != c.want {
			t.Errorf("FlavorSince(%q, %s) = %s, want %s", c.version, c.since, got, c.want)
		}
	}
	if v, ok := ParseVersion("24.8.4.13"); !ok || v != (Version{24, 8}) {
		t.Errorf("ParseVersion = %v, %t", v, ok)
	}
	if DefaultModernSince() != (Version{21, 8}) {
		t.Errorf("DefaultModernSince = %s, want 21.8", DefaultModernSince())
	}
}

// Options.ModernSince decides the flavor Prepare detects for a new
// database.
func TestPrepareDetectsTheFlavorWithModernSince(t *testing.T) {
	ch := testenv.NewClickHouse(t)
	ctx := testenv.Context(t, time.Minute)
	v, ok := ParseVersion(serverVersion(t, ch))
	if !ok {
		t.Skipf("server version %q", serverVersion(t, ch))
	}
	for _, c := range []struct {
		since Version
		want  chschema.Flavor
	}{
		{v, chschema.Modern},
		{Version{v.Major + 1, 0}, chschema.Legacy},
	} {
		plan, err := Prepare(ctx, ch.Conn, Options{Database: ch.Database, ModernSince: c.since})
		if err != nil {
			t.Fatal(err)
		}
		if plan.Params.Flavor != c.want {
			t.Errorf("server %s, ModernSince %s: flavor %s, want %s", v, c.since, plan.Params.Flavor, c.want)
		}
	}
}

func TestMigrate(t *testing.T) {
	ch := testenv.NewClickHouse(t)
	ctx := testenv.Context(t, 3*time.Minute)
	db := ch.Database
	all, err := chschema.Migrations()
	if err != nil {
		t.Fatal(err)
	}

	t.Run("an unmigrated database is refused", func(t *testing.T) {
		_, err := CheckSchema(ctx, ch.Conn, db)
		var se *SchemaError
		if !errors.Is(err, ErrUnmigrated) || !errors.As(err, &se) || se.Have != 0 || se.Want != len(all) {
			t.Fatalf("got %v", err)
		}
	})

	t.Run("a dry run lists every migration and changes nothing", func(t *testing.T) {
		plan, err := Prepare(ctx, ch.Conn, Options{Database: db})
		if err != nil {
			t.Fatal(err)
		}
		if len(plan.Pending) != len(all) || len(plan.Applied) != 0 {
			t.Fatalf("plan: %d pending, %d applied", len(plan.Pending), len(plan.Applied))
		}
		if applied, _ := List(ctx, ch.Conn, db); len(applied) != 0 {
			t.Fatalf("dry run recorded %d migrations", len(applied))
		}
	})

	t.Run("migrating applies and records every migration", func(t *testing.T) {
		done, err := Up(ctx, ch.Conn, Options{Database: db})
		if err != nil {
			t.Fatal(err)
		}
		if len(done) != len(all) {
			t.Fatalf("applied %d of %d", len(done), len(all))
		}
		applied, err := List(ctx, ch.Conn, db)
		if err != nil || len(applied) != len(all) {
			t.Fatalf("recorded %d: %v", len(applied), err)
		}
		for i, a := range applied {
			if a.Version != i+1 || a.Name != all[i].Name || a.Checksum != checksum(all[i].Source) || a.Flavor == "" {
				t.Errorf("record %d: %+v", i, a)
			}
		}
		s, err := CheckSchema(ctx, ch.Conn, db)
		if err != nil || s.Version != len(all) {
			t.Fatalf("check: %+v %v", s, err)
		}
	})

	t.Run("migrating again changes nothing", func(t *testing.T) {
		done, err := Up(ctx, ch.Conn, Options{Database: db})
		if err != nil || len(done) != 0 {
			t.Fatalf("second run applied %d: %v", len(done), err)
		}
		if applied, _ := List(ctx, ch.Conn, db); len(applied) != len(all) {
			t.Fatalf("%d records after a second run", len(applied))
		}
	})

	t.Run("a half-applied migration is finished by the next run", func(t *testing.T) {
		other := testenv.UniqueName(t, "db")
		t.Cleanup(func() { _ = ch.Conn.Exec(testenv.Context(t, time.Minute), "DROP DATABASE IF EXISTS "+other) })
		p := chschema.Params{Database: other, Flavor: FlavorOf(serverVersion(t, ch))}
		for _, stmt := range bootstrap(p) {
			if err := ch.Conn.Exec(ctx, stmt); err != nil {
				t.Fatal(err)
			}
		}
		stmts, err := all[0].Statements(p) // statements ran, record missing
		if err != nil {
			t.Fatal(err)
		}
		for _, stmt := range stmts {
			if err := ch.Conn.Exec(ctx, stmt); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := Up(ctx, ch.Conn, Options{Database: other}); err != nil {
			t.Fatal(err)
		}
		if _, err := CheckSchema(ctx, ch.Conn, other); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("another flavor is refused for a migrated database", func(t *testing.T) {
		s, _ := CheckSchema(ctx, ch.Conn, db)
		otherFlavor := chschema.Modern
		if s.Flavor == chschema.Modern {
			otherFlavor = chschema.Legacy
		}
		if _, err := Up(ctx, ch.Conn, Options{Database: db, Flavor: otherFlavor}); err == nil {
			t.Fatal("accepted")
		}
	})

	t.Run("an edited migration is refused", func(t *testing.T) {
		s, _ := CheckSchema(ctx, ch.Conn, db)
		a := Applied{Version: 1, Name: all[0].Name, Checksum: "0000", Flavor: s.Flavor, AppliedAt: time.Now().UTC().Add(time.Hour).Truncate(time.Second)}
		if err := record(ctx, ch.Conn, db, a); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { // put the true record back on top
			a.Checksum, a.AppliedAt = checksum(all[0].Source), a.AppliedAt.Add(time.Hour)
			_ = record(ctx, ch.Conn, db, a)
		})
		if err := ch.Conn.Exec(ctx, "OPTIMIZE TABLE "+db+".schema_migrations FINAL"); err != nil {
			t.Fatal(err)
		}
		if _, err := CheckSchema(ctx, ch.Conn, db); !errors.Is(err, ErrSchemaModified) {
			t.Fatalf("got %v", err)
		}
	})

	t.Run("a schema newer than the binary is refused", func(t *testing.T) {
		other := testenv.UniqueName(t, "db")
		t.Cleanup(func() { _ = ch.Conn.Exec(testenv.Context(t, time.Minute), "DROP DATABASE IF EXISTS "+other) })
		if _, err := Up(ctx, ch.Conn, Options{Database: other}); err != nil {
			t.Fatal(err)
		}
		s, _ := CheckSchema(ctx, ch.Conn, other)
		future := Applied{Version: len(all) + 1, Name: "from_the_future", Checksum: "ffff", Flavor: s.Flavor, AppliedAt: time.Now().UTC().Truncate(time.Second)}
		if err := record(ctx, ch.Conn, other, future); err != nil {
			t.Fatal(err)
		}
		_, err := CheckSchema(ctx, ch.Conn, other)
		if !errors.Is(err, ErrSchemaNewer) {
			t.Fatalf("got %v", err)
		}
		t.Log(err)
		if _, err := Up(ctx, ch.Conn, Options{Database: other}); !errors.Is(err, ErrSchemaNewer) {
			t.Fatalf("migrate over a newer schema: %v", err)
		}
	})
}

func serverVersion(t *testing.T, ch *testenv.ClickHouse) string {
	var v string
	if err := ch.Conn.QueryRow(testenv.Context(t, time.Minute), "SELECT version()").Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}
