// Package chquery runs a query of the ClickHouse query pack for `awumeter
// query`: it connects with the configured database as the session's default
// database (the pack names tables without one), scans any result generically
// from the driver's column types, and writes it as an aligned text table, as
// CSV or as NDJSON. Connect with sink.DialDatabase.
//
// Text that comes from data is made safe where it goes (internal/textsafe):
// table cells are escaped for the terminal, CSV text cells that a
// spreadsheet would read as a formula get a leading quote, and JSON needs
// nothing more than encoding/json.
package chquery

import (
	"context"
	"reflect"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// Column is one column of a result.
type Column struct {
	Name string
	// Type is the ClickHouse type, e.g. Decimal(38, 12) or Nullable(String).
	Type string
}

// Result is a query's columns and rows. Each cell holds the value the
// driver scanned into its column's scan type (string, uint64, int64,
// float64, decimal.Decimal, time.Time, ...); a Nullable column's cell is a
// pointer, nil for NULL.
type Result struct {
	Columns []Column
	Rows    [][]any
}

// Run runs sql with args bound positionally by the driver and reads every
// row.
func Run(ctx context.Context, conn driver.Conn, sql string, args ...any) (*Result, error) {
	rows, err := conn.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	types := rows.ColumnTypes()
	res := &Result{Columns: make([]Column, len(types))}
	for i, ct := range types {
		res.Columns[i] = Column{Name: ct.Name(), Type: ct.DatabaseTypeName()}
	}
	for rows.Next() {
		dest := make([]any, len(types))
		for i, ct := range types {
			dest[i] = reflect.New(ct.ScanType()).Interface()
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		row := make([]any, len(dest))
		for i, d := range dest {
			row[i] = reflect.ValueOf(d).Elem().Interface()
		}
		res.Rows = append(res.Rows, row)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return res, nil
}
