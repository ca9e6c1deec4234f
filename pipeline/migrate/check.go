package migrate

import (
	"context"
	"errors"
	"fmt"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/awumeter/awumeter/schemas/chschema"
)

var (
	// ErrUnmigrated means the database lacks migrations this binary needs.
	ErrUnmigrated = errors.New("schema is not migrated")
	// ErrSchemaNewer means the database was migrated by a newer binary.
	ErrSchemaNewer = errors.New("schema is newer than this binary")
	// ErrSchemaModified means an applied migration differs from the one
	// embedded in this binary.
	ErrSchemaModified = errors.New("applied migration differs from this binary's")
)

// SchemaError explains why a database's schema does not match this binary.
type SchemaError struct {
	Database string
	Have     int // the highest applied version
	Want     int // the highest version this binary knows
	Detail   string
	Err      error // one of ErrUnmigrated, ErrSchemaNewer, ErrSchemaModified
}

func (e *SchemaError) Error() string {
	return fmt.Sprintf("database %s: %s: %s", e.Database, e.Err, e.Detail)
}
func (e *SchemaError) Unwrap() error { return e.Err }

// Schema describes a database that matches this binary.
type Schema struct {
	Database string
	Version  int
	Flavor   chschema.Flavor
	Cluster  string
}

// CheckSchema confirms that database holds exactly the migrations embedded
// in this binary. It returns a *SchemaError wrapping ErrUnmigrated,
// ErrSchemaNewer or ErrSchemaModified otherwise, so `awumeter run` can refuse
// to start and say why.
func CheckSchema(ctx context.Context, conn driver.Conn, database string) (Schema, error) {
	applied, err := List(ctx, conn, database)
	if err != nil {
		return Schema{}, err
	}
	all, err := chschema.Migrations()
	if err != nil {
		return Schema{}, err
	}
	if err := compare(database, applied, all); err != nil {
		return Schema{}, err
	}
	last := applied[len(applied)-1]
	return Schema{Database: database, Version: last.Version, Flavor: last.Flavor, Cluster: last.Cluster}, nil
}

func compare(database string, applied []Applied, all []chschema.Migration) error {
	want := len(all)
	have := 0
	if len(applied) > 0 {
		have = applied[len(applied)-1].Version
	}
	fail := func(err error, format string, args ...any) error {
		return &SchemaError{Database: database, Have: have, Want: want, Err: err, Detail: fmt.Sprintf(format, args...)}
	}
	for i, a := range applied {
		if a.Version != i+1 {
			return fail(ErrSchemaModified, "migration %d is recorded but %d is missing; the migrations table was edited by hand", a.Version, i+1)
		}
		if a.Version > want {
			return fail(ErrSchemaNewer, "it is at version %d (%s) but this binary knows up to %d; upgrade awumeter", have, applied[len(applied)-1].Name, want)
		}
		m := all[i]
		if a.Name != m.Name || a.Checksum != checksum(m.Source) {
			return fail(ErrSchemaModified, "migration %04d was applied as %q (checksum %s) but this binary has %q (checksum %s)",
				a.Version, a.Name, a.Checksum, m.Name, checksum(m.Source))
		}
	}
	if have < want {
		if have == 0 {
			return fail(ErrUnmigrated, "no migrations applied; run `awumeter migrate --database %s`", database)
		}
		return fail(ErrUnmigrated, "at version %d, this binary needs %d; run `awumeter migrate --database %s`", have, want, database)
	}
	return nil
}
