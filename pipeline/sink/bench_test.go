package sink

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ClickHouse/ch-go/compress"
	"github.com/ClickHouse/ch-go/proto"
	chcolumn "github.com/ClickHouse/clickhouse-go/v2/lib/column"

	"github.com/awumeter/awumeter/internal/testenv"
	"github.com/awumeter/awumeter/pipeline/engine"
	"github.com/awumeter/awumeter/pipeline/event"
	"github.com/awumeter/awumeter/schemas/chschema"
)

// The benchmarks report per row: ns/row (wall), allocs/row, and for the
// benchmarks that reach the server cpu-ns/row (this process, user +
// system) and ch-cpu-ns/row (the ClickHouse server's process, read from
// /proc through its pid file, AWUMETER_CLICKHOUSE_PIDFILE or the local
// stack's; absent when there is none). Rows are shaped like the output
// of a catch-up of `awumeter gen` (make bench-e2e): per 1,000 events,
// 422 awu_models, 374 awus, 107 workcycles and 106 workcycle keys.

// benchBatch is a batch of n events and the other tables in the
// proportions of a catch-up, with distinct ids of realistic length.
func benchBatch(n int) Batch {
	k := knownFinal()
	b := Batch{
		Events:     make([]event.Event, n),
		AWUModels:  make([]AWUModelRow, n*422/1000),
		AWUs:       make([]engine.AWURow, n*374/1000),
		Workcycles: make([]engine.WorkcycleRow, n*107/1000),
		Keys:       make([]KeyRow, n*106/1000),
	}
	wcID := func(i int) string { return fmt.Sprintf("wc-%06d-%08x", i, uint32(i)*2654435761) }
	awuID := func(i int) string { return fmt.Sprintf("awu-%08x-%06d", uint32(i)*2246822519, i) }
	for i := range b.Events {
		e := k.Events[i%len(k.Events)]
		e.EventID = fmt.Sprintf("ev-%08x-%06d", uint32(i)*3266489917, i)
		e.WorkcycleID = wcID(i / 10)
		e.AWUID = awuID(i / 3)
		e.ConversationID = "conv-" + e.WorkcycleID
		e.Source = event.Position{Topic: "telemetry", Partition: int32(i % 6), Offset: int64(i)}
		b.Events[i] = e
	}
	for i := range b.AWUModels {
		r := k.AWUModels[i%len(k.AWUModels)]
		r.WorkcycleID, r.AWUID, r.Version = wcID(i/4), awuID(i), uint64(i)
		b.AWUModels[i] = r
	}
	for i := range b.AWUs {
		r := k.AWUs[i%len(k.AWUs)]
		r.WorkcycleID, r.AWUID, r.Version = wcID(i/3), awuID(i), uint64(i)
		b.AWUs[i] = r
	}
	for i := range b.Workcycles {
		r := k.Workcycles[i%len(k.Workcycles)]
		r.WorkcycleID, r.ConversationID, r.Version = wcID(i), "conv-"+wcID(i), uint64(i)
		b.Workcycles[i] = r
	}
	for i := range b.Keys {
		b.Keys[i] = KeyRow{Topic: "telemetry", Partition: int32(i % 6), Hash: KeyHash("t1", wcID(i))}
	}
	return b
}

func ledgerRows(evs []event.Event) []ledgerEvent {
	out := make([]ledgerEvent, len(evs))
	now := time.Now()
	for i := range evs {
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

// perRow reports the benchmark's cost per row from a start point.
type perRow struct {
	b          *testing.B
	mem        runtime.MemStats
	cpu, chCPU time.Duration
	chOK       bool
	start      time.Time
	rowsPerOp  int
}

func startPerRow(b *testing.B, rowsPerOp int) *perRow {
	p := &perRow{b: b, rowsPerOp: rowsPerOp}
	runtime.GC()
	runtime.ReadMemStats(&p.mem)
	p.cpu = selfCPU()
	p.chCPU, p.chOK = serverCPU()
	b.ResetTimer()
	p.start = time.Now()
	return p
}

func (p *perRow) stop(server bool) {
	p.b.StopTimer()
	elapsed := time.Since(p.start)
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	cpu := selfCPU() - p.cpu
	rows := float64(p.b.N) * float64(p.rowsPerOp)
	p.b.ReportMetric(float64(elapsed.Nanoseconds())/rows, "ns/row")
	p.b.ReportMetric(float64(after.Mallocs-p.mem.Mallocs)/rows, "allocs/row")
	p.b.ReportMetric(float64(after.TotalAlloc-p.mem.TotalAlloc)/rows, "alloc-B/row")
	if server {
		p.b.ReportMetric(float64(cpu.Nanoseconds())/rows, "cpu-ns/row")
		if ch, ok := serverCPU(); ok && p.chOK {
			p.b.ReportMetric(float64((ch-p.chCPU).Nanoseconds())/rows, "ch-cpu-ns/row")
		}
	}
	p.b.ReportMetric(0, "ns/op") // per op is per batch here; per row is what compares
}

func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// serverCPU is the ClickHouse server's user + system CPU time, when its
// process is on this machine.
func serverCPU() (time.Duration, bool) {
	pidfile := os.Getenv("AWUMETER_CLICKHOUSE_PIDFILE")
	if pidfile == "" {
		pidfile = "../../.local/clickhouse/clickhouse.pid"
	}
	pid, err := os.ReadFile(pidfile)
	if err != nil {
		return 0, false
	}
	stat, err := os.ReadFile("/proc/" + strings.TrimSpace(string(pid)) + "/stat")
	if err != nil {
		return 0, false
	}
	s := string(stat)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return 0, false
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	return time.Duration(ut+st) * 10 * time.Millisecond, true // USER_HZ is 100
}

// encodeTable is the client side of one table's insert: the column
// slices built from the rows, appended to the driver's columns (as
// Writer does) and encoded as a native block; it returns the block.
func encodeTable[R any](b *testing.B, cols []column[R], rows []R, f chschema.Flavor, buf *proto.Buffer) {
	cols = forFlavor(cols, f)
	dcols := driverColumns(b, cols, f) // fresh, as PrepareBatch gives
	s := getScratch()
	defer putScratch(s)
	for i, c := range cols {
		if _, err := dcols[i].Append(c.values([][]R{rows}, s)); err != nil {
			b.Fatal(err)
		}
		dcols[i].Encode(buf)
	}
}

func encodeBatch(b *testing.B, batch Batch, f chschema.Flavor, buf *proto.Buffer) {
	encodeTable(b, keyColumns, batch.Keys, f, buf)
	encodeTable(b, eventColumns, ledgerRows(batch.Events), f, buf)
	encodeTable(b, awuModelColumns, batch.AWUModels, f, buf)
	encodeTable(b, awuColumns, batch.AWUs, f, buf)
	encodeTable(b, workcycleColumns, batch.Workcycles, f, buf)
}

// BenchmarkEncode measures what a batch insert does before the network:
// the column slices, the driver's append and the native block encoding,
// per table and for a whole batch.
func BenchmarkEncode(b *testing.B) {
	for _, f := range []chschema.Flavor{chschema.Legacy, chschema.Modern} {
		batch := benchBatch(20_000)
		run := func(name string, rows int, enc func(buf *proto.Buffer)) {
			b.Run(fmt.Sprintf("%s/%s", name, f), func(b *testing.B) {
				var buf proto.Buffer
				p := startPerRow(b, rows)
				for range b.N {
					buf.Reset()
					enc(&buf)
				}
				p.stop(false)
				b.ReportMetric(float64(len(buf.Buf))/float64(rows), "wire-B/row")
			})
		}
		run("events", len(batch.Events), func(buf *proto.Buffer) {
			encodeTable(b, eventColumns, ledgerRows(batch.Events), f, buf)
		})
		run("workcycles", len(batch.Workcycles), func(buf *proto.Buffer) {
			encodeTable(b, workcycleColumns, batch.Workcycles, f, buf)
		})
		run("awus", len(batch.AWUs), func(buf *proto.Buffer) { encodeTable(b, awuColumns, batch.AWUs, f, buf) })
		run("awu_models", len(batch.AWUModels), func(buf *proto.Buffer) {
			encodeTable(b, awuModelColumns, batch.AWUModels, f, buf)
		})
		run("batch", batch.Rows(), func(buf *proto.Buffer) { encodeBatch(b, batch, f, buf) })
	}
}

// BenchmarkCompress measures the client's share of each protocol
// compression: compressing an encoded catch-up batch in the driver's
// chunks. wire-B/row is what goes on the wire.
func BenchmarkCompress(b *testing.B) {
	batch := benchBatch(20_000)
	var buf proto.Buffer
	encodeBatch(b, batch, chschema.Legacy, &buf)
	const chunk = 1 << 20
	for _, m := range []struct {
		name   string
		method compress.Method
	}{{"lz4", compress.LZ4}, {"zstd", compress.ZSTD}, {"none", compress.None}} {
		b.Run(m.name, func(b *testing.B) {
			w := compress.NewWriter(compress.LevelZero, m.method)
			var wire int
			p := startPerRow(b, batch.Rows())
			for range b.N {
				wire = 0
				for off := 0; off < len(buf.Buf); off += chunk {
					if m.method == compress.None {
						wire += min(chunk, len(buf.Buf)-off) // the driver sends the bytes as they are
						continue
					}
					if err := w.Compress(buf.Buf[off:min(off+chunk, len(buf.Buf))]); err != nil {
						b.Fatal(err)
					}
					wire += len(w.Data)
				}
			}
			p.stop(false)
			b.ReportMetric(float64(wire)/float64(batch.Rows()), "wire-B/row")
		})
	}
}

// benchWriter is a Writer on its own connection with the given
// compression, over a fresh migrated database.
func benchWriter(b *testing.B, compression string) *Writer {
	ch := testenv.NewClickHouse(b)
	schema := mustMigrate(b, ch)
	cfg := testConfig()
	cfg.Addrs = []string{ch.Addr}
	cfg.Username = envOr("AWUMETER_CLICKHOUSE_USER", "default")
	cfg.Password = os.Getenv("AWUMETER_CLICKHOUSE_PASSWORD")
	cfg.Compression = compression
	conn, err := Dial(testenv.Context(b, time.Minute), cfg.ClickHouseConfig)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { conn.Close() })
	return NewWriter(conn, schema, cfg, Settings{})
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// BenchmarkWrite inserts catch-up batches into the real server, one
// Writer.Write at a time: the end-to-end cost per row of each protocol
// compression and of larger inserts, network and server included. A
// batch of 25,000 events holds about 50,000 rows.
func BenchmarkWrite(b *testing.B) {
	for _, c := range []struct {
		events      int
		compression string
	}{{25_000, "lz4"}, {25_000, "zstd"}, {25_000, "none"}, {6_250, "lz4"}, {12_500, "lz4"}, {50_000, "lz4"}, {100_000, "lz4"}} {
		b.Run(fmt.Sprintf("events=%d/%s", c.events, c.compression), func(b *testing.B) {
			w := benchWriter(b, c.compression)
			ctx := testenv.Context(b, 10*time.Minute)
			batch := benchBatch(c.events)
			p := startPerRow(b, batch.Rows())
			for range b.N {
				if err := w.Write(ctx, batch); err != nil {
					b.Fatal(err)
				}
			}
			p.stop(true)
		})
	}
}

// BenchmarkBuffer feeds a Buffer with transactions the size of one poll
// of one partition (about 900 rows) until sealed batches of the default
// size have been written, as the service does in a catch-up: the rate of
// the whole sink, pipelining included.
func BenchmarkBuffer(b *testing.B) {
	for _, comp := range []string{"lz4", "none"} {
		for _, v := range []struct {
			name   string
			serial bool
		}{{"serial", true}, {"tables", false}} {
			b.Run(comp+"/"+v.name, func(b *testing.B) {
				w := benchWriter(b, comp)
				w.serialTables = v.serial
				ctx := testenv.Context(b, 10*time.Minute)
				cfg := DefaultConfig()
				const perTx = 500 // events; with the other tables about 1,000 rows
				tx := benchBatch(perTx)
				txs := cfg.Batch.MaxRows * 4 / tx.Rows() // four batches per op
				p := startPerRow(b, txs*tx.Rows())
				for range b.N {
					buf := NewBuffer(w, cfg.Batch, cfg.MaxPendingBatches)
					var mu sync.Mutex
					var firstErr error
					for range txs {
						if err := buf.Add(ctx, tx, func(err error) {
							mu.Lock()
							defer mu.Unlock()
							if err != nil && firstErr == nil {
								firstErr = err
							}
						}); err != nil {
							b.Fatal(err)
						}
					}
					if err := buf.Close(ctx); err != nil {
						b.Fatal(err)
					}
					if firstErr != nil {
						b.Fatal(firstErr)
					}
				}
				p.stop(true)
			})
		}
	}
}

// BenchmarkAppend compares appending a column at once with the driver's
// row-wise path (batch.Append(row...)).
func BenchmarkAppend(b *testing.B) {
	rows := benchBatch(10_000).Workcycles
	cols := forFlavor(workcycleColumns, chschema.Legacy)
	for _, rowWise := range []bool{false, true} {
		b.Run(fmt.Sprintf("row-wise=%t", rowWise), func(b *testing.B) {
			var buf proto.Buffer
			s := getScratch()
			defer putScratch(s)
			p := startPerRow(b, len(rows))
			for range b.N {
				buf.Reset()
				dcols := driverColumns(b, cols, chschema.Legacy)
				for i, c := range cols {
					vals := c.values([][]engine.WorkcycleRow{rows}, s)
					if rowWise {
						appendRowWise(b, dcols[i], vals)
					} else if _, err := dcols[i].Append(vals); err != nil {
						b.Fatal(err)
					}
					dcols[i].Encode(&buf)
				}
			}
			p.stop(false)
		})
	}
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
