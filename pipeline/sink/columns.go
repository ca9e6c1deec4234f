package sink

import (
	"fmt"
	"sync"
	"time"

	"github.com/shopspring/decimal"

	"github.com/awumeter/awumeter/schemas/chschema"
)

// column turns one field of a row type into a typed column slice, appended to
// the insert with one BatchColumn.Append call per column and batch.
type column[R any] struct {
	name   string
	typ    func(chschema.Flavor) string // the ClickHouse type it feeds
	legacy bool                         // exists only on legacy servers
	// values returns the column's values of the rows as one typed slice,
	// built in s (see scratch). The rows come in parts, one per
	// transaction merged into the batch, so that they are never copied.
	values func(rows [][]R, s *scratch) any
	// check, when set, reports a value the column type cannot hold exactly.
	check func(rows [][]R) error
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

// scratch lends an insert one reusable slice per Go type that columns
// produce. The driver copies a column's values when they are appended, so
// one slice per type serves every column of an insert in turn, and the
// next insert reuses them: building columns then allocates nothing once
// the slices have grown to the batch size. A slice returned by
// column.values is valid until the next call with the same scratch.
type scratch struct {
	strs  []string
	i64s  []int64
	i32s  []int32
	u64s  []uint64
	u16s  []uint16
	u32s  []uint32
	u8s   []uint8
	times []time.Time
	decs  []decimal.Decimal
}

// scratches are shared by the Writer's concurrent inserts.
var scratches = sync.Pool{New: func() any { return new(scratch) }}

func getScratch() *scratch { return scratches.Get().(*scratch) }

// putScratch drops the references the slices hold, so a pooled scratch
// keeps no batch's strings alive, and returns it to the pool.
func putScratch(s *scratch) {
	clear(s.strs)
	clear(s.times)
	clear(s.decs)
	scratches.Put(s)
}

// build fills (*buf)[:n], n the rows of every part, with f of each row,
// growing *buf first if it is too short.
func build[R, T any](buf *[]T, parts [][]R, f func(*R) T) []T {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	if cap(*buf) < n {
		*buf = make([]T, n)
	}
	out := (*buf)[:n]
	i := 0
	for _, p := range parts {
		for j := range p {
			out[i] = f(&p[j])
			i++
		}
	}
	return out
}

func strCol[R any](name string, f func(*R) string) column[R] {
	return column[R]{name: name, typ: fixed("String"), values: func(rows [][]R, s *scratch) any { return build(&s.strs, rows, f) }}
}

func dimCol[R any](name string, f func(*R) string) column[R] {
	return column[R]{name: name, typ: dimType, values: func(rows [][]R, s *scratch) any { return build(&s.strs, rows, f) }}
}

func i64Col[R any](name string, f func(*R) int64) column[R] {
	return column[R]{name: name, typ: fixed("Int64"), values: func(rows [][]R, s *scratch) any { return build(&s.i64s, rows, f) }}
}

func i32Col[R any](name string, f func(*R) int32) column[R] {
	return column[R]{name: name, typ: fixed("Int32"), values: func(rows [][]R, s *scratch) any { return build(&s.i32s, rows, f) }}
}

func u64Col[R any](name string, f func(*R) uint64) column[R] {
	return column[R]{name: name, typ: fixed("UInt64"), values: func(rows [][]R, s *scratch) any { return build(&s.u64s, rows, f) }}
}

func u8Col[R any](name string, f func(*R) uint8) column[R] {
	return column[R]{name: name, typ: fixed("UInt8"), values: func(rows [][]R, s *scratch) any { return build(&s.u8s, rows, f) }}
}

func boolCol[R any](name string, f func(*R) bool) column[R] {
	return column[R]{name: name, typ: fixed("UInt8"), values: func(rows [][]R, s *scratch) any {
		return build(&s.u8s, rows, func(r *R) uint8 {
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
		values: func(rows [][]R, s *scratch) any { return build(&s.decs, rows, f) },
		check: func(rows [][]R) error {
			for _, p := range rows {
				for i := range p {
					if err := fitsMoney(f(&p[i])); err != nil {
						return err
					}
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
		{name: name, typ: timeType, values: func(rows [][]R, s *scratch) any {
			return build(&s.times, rows, func(r *R) time.Time { return f(r).UTC().Truncate(time.Millisecond) })
		}},
		{name: name + "_ms", typ: fixed("UInt16"), legacy: true, values: func(rows [][]R, s *scratch) any {
			return build(&s.u16s, rows, func(r *R) uint16 { return uint16(f(r).Nanosecond() / int(time.Millisecond)) })
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
