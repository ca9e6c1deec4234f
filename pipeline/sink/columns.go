package sink

import (
	"fmt"
	"time"

	"github.com/shopspring/decimal"

	chschema "github.com/awumeter/awumeter/schemas/clickhouse"
)

// column turns one field of a row type into a typed column slice, appended to
// the insert with one BatchColumn.Append call per column and batch.
type column[R any] struct {
	name   string
	typ    func(chschema.Flavor) string // the ClickHouse type it feeds
	legacy bool                         // exists only on legacy servers
	values func(rows []R) any
	// check, when set, reports a value the column type cannot hold exactly.
	check func(rows []R) error
}

func fixed(t string) func(chschema.Flavor) string { return func(chschema.Flavor) string { return t } }

func dimType(f chschema.Flavor) string {
	if f == chschema.Modern {
		return "LowCardinality(String)"
	}
	return "String"
}

func timeType(f chschema.Flavor) string {
	if f == chschema.Modern {
		return "DateTime64(3, 'UTC')"
	}
	return "DateTime('UTC')"
}

func build[R, T any](rows []R, f func(*R) T) []T {
	out := make([]T, len(rows))
	for i := range rows {
		out[i] = f(&rows[i])
	}
	return out
}

func strCol[R any](name string, f func(*R) string) column[R] {
	return column[R]{name: name, typ: fixed("String"), values: func(rows []R) any { return build(rows, f) }}
}

func dimCol[R any](name string, f func(*R) string) column[R] {
	return column[R]{name: name, typ: dimType, values: func(rows []R) any { return build(rows, f) }}
}

func i64Col[R any](name string, f func(*R) int64) column[R] {
	return column[R]{name: name, typ: fixed("Int64"), values: func(rows []R) any { return build(rows, f) }}
}

func i32Col[R any](name string, f func(*R) int32) column[R] {
	return column[R]{name: name, typ: fixed("Int32"), values: func(rows []R) any { return build(rows, f) }}
}

func u64Col[R any](name string, f func(*R) uint64) column[R] {
	return column[R]{name: name, typ: fixed("UInt64"), values: func(rows []R) any { return build(rows, f) }}
}

func boolCol[R any](name string, f func(*R) bool) column[R] {
	return column[R]{name: name, typ: fixed("UInt8"), values: func(rows []R) any {
		return build(rows, func(r *R) uint8 {
			if f(r) {
				return 1
			}
			return 0
		})
	}}
}

// moneyScale is the number of fractional digits of Decimal(38, 12).
const moneyScale = 12

func decCol[R any](name string, f func(*R) decimal.Decimal) column[R] {
	return column[R]{
		name: name, typ: fixed("Decimal(38, 12)"),
		values: func(rows []R) any { return build(rows, f) },
		check: func(rows []R) error {
			for i := range rows {
				if err := fitsMoney(f(&rows[i])); err != nil {
					return err
				}
			}
			return nil
		},
	}
}

// fitsMoney reports a value Decimal(38, 12) cannot hold exactly: the driver
// would drop the digits past the 12th fractional one without an error.
func fitsMoney(d decimal.Decimal) error {
	if d.Exponent() >= -moneyScale {
		return nil
	}
	if t := d.Truncate(moneyScale); !t.Equal(d) {
		return fmt.Errorf("%s has more than %d fractional digits", d.String(), moneyScale)
	}
	return nil
}

// timeCols is a time kept to the millisecond: DateTime64(3) on modern
// servers; on legacy servers a DateTime plus <name>_ms.
func timeCols[R any](name string, f func(*R) time.Time) []column[R] {
	return []column[R]{
		{name: name, typ: timeType, values: func(rows []R) any {
			return build(rows, func(r *R) time.Time { return f(r).UTC().Truncate(time.Millisecond) })
		}},
		{name: name + "_ms", typ: fixed("UInt16"), legacy: true, values: func(rows []R) any {
			return build(rows, func(r *R) uint16 { return uint16(f(r).Nanosecond() / int(time.Millisecond)) })
		}},
	}
}

// joinTime rebuilds a millisecond time read from a legacy DateTime and its
// _ms column.
func joinTime(t time.Time, ms uint16) time.Time {
	return t.UTC().Add(time.Duration(ms) * time.Millisecond)
}

func concat[R any](parts ...any) []column[R] {
	var out []column[R]
	for _, p := range parts {
		switch p := p.(type) {
		case column[R]:
			out = append(out, p)
		case []column[R]:
			out = append(out, p...)
		default:
			panic("sink: concat takes columns")
		}
	}
	return out
}

func forFlavor[R any](cols []column[R], f chschema.Flavor) []column[R] {
	var out []column[R]
	for _, c := range cols {
		if c.legacy && f != chschema.Legacy {
			continue
		}
		out = append(out, c)
	}
	return out
}
