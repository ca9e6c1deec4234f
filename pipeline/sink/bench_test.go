package sink

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/ClickHouse/ch-go/proto"
	chcolumn "github.com/ClickHouse/clickhouse-go/v2/lib/column"

	"github.com/awumeter/awumeter/internal/testenv"
	"github.com/awumeter/awumeter/pipeline/engine"
	"github.com/awumeter/awumeter/pipeline/event"
	chschema "github.com/awumeter/awumeter/schemas/clickhouse"
)

func benchWorkcycles(n int) []engine.WorkcycleRow {
	base := knownFinal().Workcycles
	out := make([]engine.WorkcycleRow, n)
	for i := range out {
		out[i] = base[i%len(base)]
		out[i].WorkcycleID = fmt.Sprintf("wc-%08d", i)
		out[i].Version = uint64(i)
	}
	return out
}

func benchEvents(n int) []ledgerEvent {
	base := knownFinal().Events
	evs := make([]event.Event, n)
	out := make([]ledgerEvent, n)
	now := time.Now()
	for i := range evs {
		evs[i] = base[i%len(base)]
		evs[i].EventID = fmt.Sprintf("ev-%08d", i)
		out[i] = ledgerEvent{Event: &evs[i], ingestedAt: now}
	}
	return out
}

// driverColumns builds the driver's column buffers a batch would hold.
func driverColumns[R any](b *testing.B, cols []column[R], f chschema.Flavor) []chcolumn.Interface {
	out := make([]chcolumn.Interface, len(cols))
	for i, c := range cols {
		col, err := chcolumn.Type(c.typ(f)).Column(c.name, &chcolumn.ServerContext{Timezone: time.UTC})
		if err != nil {
			b.Fatal(err)
		}
		out[i] = col
	}
	return out
}

// benchAppend measures the column-append path: turning rows into typed
// column slices, appending them to the driver's columns and encoding the
// native block, which is all a batch insert does before the network.
func benchAppend[R any](b *testing.B, cols []column[R], rows []R, f chschema.Flavor, rowWise bool) {
	cols = forFlavor(cols, f)
	dcols := driverColumns(b, cols, f)
	var buf proto.Buffer
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	b.ResetTimer()
	for range b.N {
		buf.Reset()
		for i, c := range cols {
			dcols[i].Reset()
			vals := c.values(rows)
			if rowWise {
				appendRowWise(b, dcols[i], vals)
			} else if _, err := dcols[i].Append(vals); err != nil {
				b.Fatal(err)
			}
			dcols[i].Encode(&buf)
		}
	}
	b.StopTimer()
	runtime.ReadMemStats(&after)
	total := float64(b.N) * float64(len(rows))
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/total, "ns/row")
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/total, "allocs/row")
	b.ReportMetric(total/b.Elapsed().Seconds(), "rows/s")
}

// appendRowWise is what batch.Append(row...) does: one AppendRow per value.
func appendRowWise(b *testing.B, col chcolumn.Interface, vals any) {
	switch v := vals.(type) {
	case []string:
		for _, x := range v {
			_ = col.AppendRow(x)
		}
	case []int64:
		for _, x := range v {
			_ = col.AppendRow(x)
		}
	default:
		if _, err := col.Append(vals); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppend(b *testing.B) {
	for _, f := range []chschema.Flavor{chschema.Legacy, chschema.Modern} {
		for _, n := range []int{10, 100, 1000, 10000} {
			b.Run(fmt.Sprintf("workcycles/%s/N=%d", f, n), func(b *testing.B) {
				benchAppend(b, workcycleColumns, benchWorkcycles(n), f, false)
			})
			b.Run(fmt.Sprintf("events/%s/N=%d", f, n), func(b *testing.B) {
				benchAppend(b, eventColumns, benchEvents(n), f, false)
			})
		}
	}
	b.Run("workcycles/row-wise/legacy/N=10000", func(b *testing.B) {
		benchAppend(b, workcycleColumns, benchWorkcycles(10000), chschema.Legacy, true)
	})
}

// BenchmarkWrite inserts into the real server: the end-to-end rate of one
// connection, network and server included.
func BenchmarkWrite(b *testing.B) {
	ch := testenv.NewClickHouse(b)
	ctx := testenv.Context(b, 10*time.Minute)
	schema := mustMigrate(b, ch)
	w := NewWriter(ch.Conn, schema, testConfig(), Settings{})
	const n = 10000
	batch := Batch{Workcycles: benchWorkcycles(n)}
	b.ResetTimer()
	for range b.N {
		if err := w.Write(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/row")
}
