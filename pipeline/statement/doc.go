// Package statement computes monthly in-arrears statements for finance and
// closes them into immutable snapshots.
//
// A statement is one tenant's usage for one calendar month in the tenant's
// billing time zone ([Period]), priced by the tenant's plan ([Terms]). Its
// numbers come from one code path whatever the source: rows are fed to a
// [Tally], which attributes each AWU to the month of its first event and each
// conversation to the month of its first event, and [Draft] turns the tally
// into line items. The ClickHouse reader ([Warehouse]) and the offline reader
// of `awumeter process` output ([ReadRollups]) only differ in where the rows
// come from.
//
// Money is exact: amounts are summed as decimals, each line is rounded once
// to cents half-even, and the total is the sum of the rounded lines.
//
// Closing ([Service.Close]) freezes a month after its grace period into the
// statements and statement_lines tables with the ledger cutoff it covers and
// a content hash ([Statement.Hash]). A closed statement never changes; usage
// that lands in it later becomes adjustment lines on the next open statement
// ([Adjust]). [Service.Reconcile] checks a month against the events ledger
// before it may close.
//
// docs/finance.md explains the lines, close, late data and reconciliation for
// finance.
package statement
