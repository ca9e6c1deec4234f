package sink

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/awumeter/awumeter/pipeline/engine"
	"github.com/awumeter/awumeter/pipeline/migrate"
	"github.com/awumeter/awumeter/schemas/chschema"
)

// The tests here hold up the delivery guarantee while rows are merged,
// written and acked concurrently (run them with -race). The Buffer acks in
// Add order, each transaction after all of its rows were written, a
// failure sticks and memory stays bounded, whatever the writes' timing.
// The Writer inserts a batch's tables at once but its keys first, retries
// each table on its own and stops at a permanent failure.

// scripted is a BatchWriter whose writes take as long, and end as, its
// script says. Every transaction has one workcycle row named by its
// number, so the log can say which transactions each write held.
type scripted struct {
	delay func(first int) time.Duration // by the write's first transaction
	fail  func(first int) error
	gate  chan struct{} // when set, every write waits for a token or ctx

	mu         sync.Mutex
	log        []string // "start 3-5", "end 3-5", "ack 4"
	writing    int
	maxWriting int
}

func (s *scripted) Write(ctx context.Context, b Batch) error {
	txs := batchTxs(b)
	if len(txs) == 0 {
		return errors.New("scripted: a write without rows")
	}
	name := fmt.Sprintf("%d-%d", txs[0], txs[len(txs)-1])
	s.mu.Lock()
	s.log = append(s.log, "start "+name)
	s.writing++
	s.maxWriting = max(s.maxWriting, s.writing)
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.writing--
		s.mu.Unlock()
	}()
	if s.gate != nil {
		select {
		case <-s.gate:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if s.delay != nil {
		select {
		case <-time.After(s.delay(txs[0])):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if s.fail != nil {
		if err := s.fail(txs[0]); err != nil {
			return err
		}
	}
	s.mu.Lock()
	s.log = append(s.log, "end "+name)
	s.mu.Unlock()
	return nil
}

// batchTxs are the transactions whose rows b holds, in order.
func batchTxs(b Batch) []int {
	var txs []int
	for _, r := range b.Workcycles {
		n, _ := strconv.Atoi(r.WorkcycleID)
		txs = append(txs, n)
	}
	return txs
}

// tx is transaction n's rows.
func tx(n int) Batch {
	return Batch{Workcycles: []engine.WorkcycleRow{{WorkcycleID: strconv.Itoa(n)}}}
}

// acks collects the acks of the transactions, in the order they come.
type acks struct {
	s    *scripted
	mu   sync.Mutex
	txs  []int
	errs map[int]error
}

func newAcks(s *scripted) *acks { return &acks{s: s, errs: map[int]error{}} }

func (a *acks) ack(n int) AckFunc {
	return func(err error) {
		a.mu.Lock()
		a.txs = append(a.txs, n)
		a.errs[n] = err
		a.mu.Unlock()
		a.s.mu.Lock()
		a.s.log = append(a.s.log, "ack "+strconv.Itoa(n))
		a.s.mu.Unlock()
	}
}

// checkWrittenBeforeAcked reports a transaction acked before the write of
// its rows ended.
func checkWrittenBeforeAcked(t *testing.T, log []string) {
	t.Helper()
	ended := map[int]bool{}
	for _, e := range log {
		kind, arg, _ := strings.Cut(e, " ")
		switch kind {
		case "end":
			var a, b int
			if _, err := fmt.Sscanf(arg, "%d-%d", &a, &b); err != nil {
				t.Fatalf("log entry %q", e)
			}
			for n := a; n <= b; n++ {
				ended[n] = true
			}
		case "ack":
			if n, _ := strconv.Atoi(arg); !ended[n] {
				t.Errorf("transaction %d acked before its rows were written; log %v", n, log)
			}
		}
	}
}

func TestBufferAcksInAddOrderAfterTheirRowsWhateverTheTiming(t *testing.T) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(1, 2))
	delays := make([]time.Duration, 200)
	for i := range delays {
		delays[i] = time.Duration(rng.IntN(2000)) * time.Microsecond
	}
	s := &scripted{delay: func(first int) time.Duration { return delays[first] }}
	b := NewBuffer(s, limits(3), 2)
	a := newAcks(s)
	const n = 120
	for i := range n {
		if err := b.Add(ctx, tx(i), a.ack(i)); err != nil {
			t.Fatal(err)
		}
		if i%17 == 0 {
			time.Sleep(time.Millisecond) // some batches wait in the queue, some do not
		}
	}
	if err := b.Close(ctx); err != nil {
		t.Fatal(err)
	}
	want := make([]int, n)
	for i := range want {
		want[i] = i
	}
	if !slices.Equal(a.txs, want) {
		t.Errorf("acks in order %v, want %v", a.txs, want)
	}
	for i, err := range a.errs {
		if err != nil {
			t.Errorf("ack %d: %v", i, err)
		}
	}
	checkWrittenBeforeAcked(t, s.log)
	if s.maxWriting > 1 {
		t.Errorf("%d batches written at once", s.maxWriting)
	}
}

// No ack after a failed batch reports success, however its write ends.
func TestBufferFailureSticks(t *testing.T) {
	ctx := context.Background()
	boom := &PermanentError{Table: "events", Err: errors.New("boom")}
	s := &scripted{
		delay: func(first int) time.Duration { return time.Duration(first%3) * time.Millisecond },
		fail: func(first int) error {
			if first == 3 {
				return boom
			}
			return nil
		},
	}
	b := NewBuffer(s, limits(1), 8)
	a := newAcks(s)
	for i := range 8 {
		if err := b.Add(ctx, tx(i), a.ack(i)); err != nil && !errors.Is(err, ErrBufferFailed) {
			t.Fatal(err)
		}
	}
	if err := b.Flush(ctx); !errors.Is(err, boom) {
		t.Errorf("flush: %v, want the failure", err)
	}
	for i := range 8 {
		err, acked := a.errs[i]
		switch {
		case i < 3 && err != nil:
			t.Errorf("ack %d before the failure: %v", i, err)
		case i == 3 && !errors.Is(err, boom):
			t.Errorf("ack of the failed batch: %v", err)
		case i > 3 && acked && !errors.Is(err, ErrBufferFailed):
			t.Errorf("ack %d after the failure: %v, want ErrBufferFailed", i, err)
		}
	}
	if len(a.txs) < 4 || !slices.IsSorted(a.txs) {
		t.Errorf("acks %v", a.txs)
	}
	if err := b.Add(ctx, tx(9), a.ack(9)); !errors.Is(err, ErrBufferFailed) {
		t.Errorf("add after the failure: %v", err)
	}
	_ = b.Close(ctx)
	if s.maxWriting > 1 {
		t.Errorf("%d batches written at once", s.maxWriting)
	}
}

// At most max_pending_batches sealed batches wait and one is written:
// the next Add blocks until one is acked.
func TestBufferMemoryIsBounded(t *testing.T) {
	ctx := context.Background()
	for _, pending := range []int{1, 3} {
		t.Run(fmt.Sprintf("pending=%d", pending), func(t *testing.T) {
			s := &scripted{gate: make(chan struct{})}
			b := NewBuffer(s, limits(1), pending)
			a := newAcks(s)
			accepted := pending + 1
			for i := range accepted {
				if err := b.Add(ctx, tx(i), a.ack(i)); err != nil {
					t.Fatal(err)
				}
			}
			added := make(chan error, 1)
			go func() { added <- b.Add(ctx, tx(accepted), a.ack(accepted)) }()
			select {
			case err := <-added:
				t.Fatalf("Add returned (%v) with %d batches waiting and one being written", err, pending)
			case <-time.After(50 * time.Millisecond):
			}
			s.gate <- struct{}{} // one write ends
			select {
			case err := <-added:
				if err != nil {
					t.Fatal(err)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("Add still blocked after a batch was acked")
			}
			close(s.gate)
			if err := b.Close(ctx); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// Flush returns after every transaction added before it was acked.
func TestBufferFlushWaitsForEverything(t *testing.T) {
	ctx := context.Background()
	s := &scripted{delay: func(first int) time.Duration { return time.Duration(10-first%10) * time.Millisecond }}
	b := NewBuffer(s, limits(2), 4)
	a := newAcks(s)
	for i := range 10 {
		if err := b.Add(ctx, tx(i), a.ack(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	a.mu.Lock()
	got := len(a.txs)
	a.mu.Unlock()
	if got != 10 {
		t.Errorf("flush returned after %d of 10 acks", got)
	}
	_ = b.Close(ctx)
}

// Every row reaches the writer once, in Add order, whether the writer
// reads the transactions in place (Writer) or merged (any BatchWriter).
func TestBufferWritesEveryRowOnceInOrder(t *testing.T) {
	ctx := context.Background()
	rowsOf := func(from, n int) Batch {
		var b Batch
		for i := range n {
			b.Workcycles = append(b.Workcycles, engine.WorkcycleRow{WorkcycleID: strconv.Itoa(from + i)})
		}
		return b
	}
	check := func(t *testing.T, got []string) {
		t.Helper()
		if len(got) != 60 {
			t.Fatalf("%d rows written, want 60", len(got))
		}
		for i, id := range got {
			if id != strconv.Itoa(i) {
				t.Fatalf("rows written %v", got)
			}
		}
	}
	t.Run("merged", func(t *testing.T) {
		var got []string
		w := BatchWriterFunc(func(_ context.Context, b Batch) error {
			for _, r := range b.Workcycles {
				got = append(got, r.WorkcycleID)
			}
			return nil
		})
		b := NewBuffer(w, limits(7), 4)
		for i := range 20 {
			if err := b.Add(ctx, rowsOf(3*i, 3), func(error) {}); err != nil {
				t.Fatal(err)
			}
		}
		if err := b.Close(ctx); err != nil {
			t.Fatal(err)
		}
		check(t, got)
	})
	t.Run("in place", func(t *testing.T) {
		c := newFakeConn(func(context.Context, string, int) error { return nil })
		b := NewBuffer(fakeWriter(c), limits(7), 4)
		for i := range 20 {
			if err := b.Add(ctx, rowsOf(3*i, 3), func(error) {}); err != nil {
				t.Fatal(err)
			}
		}
		if err := b.Close(ctx); err != nil {
			t.Fatal(err)
		}
		if c.inserts["workcycles"] != 20*3/9+1 {
			t.Errorf("%d workcycles inserts, want %d", c.inserts["workcycles"], 20*3/9+1)
		}
		check(t, c.values["workcycles"][1]) // workcycle_id
	})
}

// fakeConn is a ClickHouse connection for the Writer: inserts take as
// long, and end as, plan says, by table and attempt (0-based).
type fakeConn struct {
	driver.Conn // only PrepareBatch and Exec are used
	plan        func(ctx context.Context, table string, attempt int) error

	mu        sync.Mutex
	log       []string // "send events", "sent events", "failed events"
	attempts  map[string]int
	active    int
	maxActive int
	inserts   map[string]int
	values    map[string]map[int][]string // the string columns sent, by table and column
}

func newFakeConn(plan func(ctx context.Context, table string, attempt int) error) *fakeConn {
	return &fakeConn{plan: plan, attempts: map[string]int{}, inserts: map[string]int{}, values: map[string]map[int][]string{}}
}

func (c *fakeConn) PrepareBatch(ctx context.Context, query string, _ ...driver.PrepareBatchOption) (driver.Batch, error) {
	// INSERT INTO db.table (columns...)
	table := strings.Fields(query)[2]
	table = table[strings.IndexByte(table, '.')+1:]
	return &fakeBatch{c: c, ctx: ctx, table: table}, nil
}

// Exec runs a rollup refresh statement: table "rollups" in the plan and
// the log, one attempt per statement.
func (c *fakeConn) Exec(ctx context.Context, _ string, _ ...any) error {
	c.mu.Lock()
	n := c.attempts["rollups"]
	c.attempts["rollups"]++
	c.mu.Unlock()
	err := c.plan(ctx, "rollups", n)
	if err == nil {
		c.record("refreshed rollups")
	}
	return err
}

func (c *fakeConn) record(e string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.log = append(c.log, e)
}

type fakeBatch struct {
	driver.Batch
	c       *fakeConn
	ctx     context.Context
	table   string
	strings map[int][]string
}

func (b *fakeBatch) Column(i int) driver.BatchColumn { return fakeColumn{b, i} }
func (b *fakeBatch) Abort() error                    { return nil }
func (b *fakeBatch) Close() error                    { return nil }

func (b *fakeBatch) Send() error {
	c := b.c
	c.mu.Lock()
	attempt := c.attempts[b.table]
	c.attempts[b.table]++
	c.active++
	c.maxActive = max(c.maxActive, c.active)
	c.log = append(c.log, "send "+b.table)
	c.mu.Unlock()
	err := c.plan(b.ctx, b.table, attempt)
	c.mu.Lock()
	c.active--
	c.mu.Unlock()
	if err != nil {
		c.record("failed " + b.table)
		return err
	}
	c.mu.Lock()
	c.log = append(c.log, "sent "+b.table)
	c.inserts[b.table]++
	if c.values[b.table] == nil {
		c.values[b.table] = map[int][]string{}
	}
	for i, v := range b.strings {
		c.values[b.table][i] = append(c.values[b.table][i], v...)
	}
	c.mu.Unlock()
	return nil
}

// fakeColumn keeps string values, copied as the driver copies them.
type fakeColumn struct {
	b *fakeBatch
	i int
}

func (c fakeColumn) Append(v any) error {
	if s, ok := v.([]string); ok {
		if c.b.strings == nil {
			c.b.strings = map[int][]string{}
		}
		c.b.strings[c.i] = slices.Clone(s)
	}
	return nil
}
func (fakeColumn) AppendRow(any) error { return nil }

func fakeWriter(c *fakeConn) *Writer {
	return NewWriter(c, migrate.Schema{Database: "db", Flavor: chschema.Legacy}, testConfig(), Settings{})
}

// fullBatch has rows for every table.
func fullBatch() Batch {
	b := knownFinal()
	b.Keys = []KeyRow{{Topic: "t", Partition: 0, Hash: 1}}
	return b
}

var allTables = []string{"workcycle_keys", "events", "awu_models", "awus", "awu_days", "workcycles"}

// The keys are stored before any other table's insert begins; the other
// tables are then inserted at once.
func TestWriteInsertsTheKeysFirstThenTheTablesAtOnce(t *testing.T) {
	started := make(chan struct{}, 5)
	c := newFakeConn(func(ctx context.Context, table string, _ int) error {
		switch table {
		case "workcycle_keys":
			time.Sleep(20 * time.Millisecond)
			return nil
		case "rollups":
			return nil
		}
		// Wait until all five tables are being sent: proof that they are
		// inserted at once (a serial Write would time out here).
		started <- struct{}{}
		deadline := time.After(2 * time.Second)
		for {
			c := len(started)
			if c == 5 {
				return nil
			}
			select {
			case <-deadline:
				return &PermanentError{Err: fmt.Errorf("only %d tables sent at once", c)}
			case <-time.After(time.Millisecond):
			}
		}
	})
	if err := fakeWriter(c).Write(context.Background(), fullBatch()); err != nil {
		t.Fatal(err)
	}
	if len(c.log) != 16 || c.log[0] != "send workcycle_keys" || c.log[1] != "sent workcycle_keys" {
		t.Errorf("log %v: the keys must be sent, and acknowledged, first", c.log)
	}
	for i, e := range c.log {
		if (i >= 12) != (e == "refreshed rollups") {
			t.Errorf("log %v: the four rollup refresh statements must run last", c.log)
			break
		}
	}
	if c.maxActive != 5 {
		t.Errorf("%d inserts at once, want 5", c.maxActive)
	}
}

// A table that failed is retried alone: a table already written is never
// written again, and the keys are written once.
func TestWriteRetriesEachTableOnItsOwn(t *testing.T) {
	c := newFakeConn(func(ctx context.Context, table string, attempt int) error {
		if table == "awus" && attempt < 2 {
			return errors.New("connection reset by peer")
		}
		if table == "events" && attempt < 1 {
			time.Sleep(5 * time.Millisecond)
			return errors.New("timeout")
		}
		return nil
	})
	if err := fakeWriter(c).Write(context.Background(), fullBatch()); err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"workcycle_keys": 1, "events": 2, "awu_models": 1, "awus": 3, "awu_days": 1, "workcycles": 1}
	for _, table := range allTables {
		if c.attempts[table] != want[table] {
			t.Errorf("%s: %d attempts, want %d", table, c.attempts[table], want[table])
		}
	}
}

// A permanent failure of one table ends the write at once: the tables
// still retrying stop, and the error says which table failed.
func TestWriteStopsAtAPermanentFailure(t *testing.T) {
	boom := errors.New("bad column")
	c := newFakeConn(func(ctx context.Context, table string, attempt int) error {
		switch table {
		case "awus":
			return &PermanentError{Err: boom}
		case "workcycles":
			return errors.New("too many parts") // retried until stopped
		}
		return nil
	})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	start := time.Now()
	err := fakeWriter(c).Write(ctx, fullBatch())
	var p *PermanentError
	if !errors.As(err, &p) || p.Table != "awus" || !errors.Is(err, boom) {
		t.Fatalf("got %v, want the permanent error of awus", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("Write took %s after a permanent failure: the other tables were not stopped", d)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.active != 0 {
		t.Errorf("%d inserts still running after Write returned", c.active)
	}
}

// A batch whose keys cannot be written writes nothing else.
func TestWriteWritesNothingWithoutTheKeys(t *testing.T) {
	c := newFakeConn(func(ctx context.Context, table string, attempt int) error {
		if table == "workcycle_keys" {
			return &PermanentError{Err: errors.New("no such table")}
		}
		return nil
	})
	if err := fakeWriter(c).Write(context.Background(), fullBatch()); !IsPermanent(err) {
		t.Fatalf("got %v, want a permanent error", err)
	}
	if !slices.Equal(c.log, []string{"send workcycle_keys", "failed workcycle_keys"}) {
		t.Errorf("log %v", c.log)
	}
}

// When the context ends while tables are retried, Write returns the
// context's error, never a permanent one, and leaves nothing running.
func TestWriteEndsWithItsContext(t *testing.T) {
	c := newFakeConn(func(ctx context.Context, table string, attempt int) error {
		if table == "events" {
			<-ctx.Done()
			return ctx.Err()
		}
		return nil
	})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err := fakeWriter(c).Write(ctx, fullBatch())
	if err == nil || IsPermanent(err) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v, want the context's error", err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.active != 0 {
		t.Errorf("%d inserts still running after Write returned", c.active)
	}
}
