// Package migrate applies the embedded ClickHouse migrations of
// schemas/chschema and checks that a database's schema matches this binary.
//
// Applied migrations are recorded in <database>.schema_migrations with the
// checksum of their source, the DDL flavor (legacy or modern) and the cluster
// name, so later runs render the same branch. Applying is idempotent: every
// statement is CREATE … IF NOT EXISTS (or tolerates "already exists"), and a
// migration is recorded only after all of its statements succeeded, so a run
// interrupted half-way is finished by the next one.
package migrate
