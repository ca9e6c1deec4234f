package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/awumeter/awumeter/pipeline/deadletter"
	"github.com/awumeter/awumeter/pipeline/decode"
	"github.com/awumeter/awumeter/pipeline/engine"
	"github.com/awumeter/awumeter/pipeline/event"
	"github.com/awumeter/awumeter/pipeline/price"
	"github.com/awumeter/awumeter/pipeline/source"
)

// processOptions are the flags of awumeter process.
type processOptions struct {
	input, output, deadLetter, pricebook string
	finalOnly                            bool
	now                                  string
	engine                               engine.Config
}

func init() {
	register(func() *cobra.Command {
		o := processOptions{engine: engine.DefaultConfig()}
		cmd := &cobra.Command{
			Use:   "process",
			Short: "Run the work-unit engine over native v1 JSON lines, offline",
			Long: `Process reads native v1 JSON lines in order and runs the same work-unit
engine as the service, with no Kafka and no ClickHouse. It writes one JSON
line per emitted row, with a "table" field ("workcycles", "awus" or
"awu_models") next to the row's columns.

Rows are written as the engine emits them: the engine's watermark advances
with every record, and each emission lists its workcycles sorted by
(tenant_id, workcycle_id), every workcycle row followed by its AWU rows
sorted by awu_id, every AWU row followed by its per-model rows sorted by
model. At the end of the input every workcycle with unemitted
changes is emitted. With --final-only, only the last version of each row is
written, in the same order.

Rejected records are written to --dead-letter as {"reason", "record", ...}
lines; a record's offset there is its line number. A summary goes to stderr.`,
			Args: cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error { return runProcess(cmd, o) },
		}
		f := cmd.Flags()
		f.StringVar(&o.input, "input", "-", "native v1 JSON lines to read, or - for stdin")
		f.StringVar(&o.output, "output", "-", "file to write rows to, or - for stdout")
		f.StringVar(&o.deadLetter, "dead-letter", "", "file to write rejected records to (default: count them only)")
		f.StringVar(&o.pricebook, "pricebook", "", "price book YAML (default: the one shipped in the binary)")
		f.BoolVar(&o.finalOnly, "final-only", false, "write only the last version of each row")
		f.StringVar(&o.now, "now", "", "RFC 3339 time that event times are checked against (default: the clock)")
		f.DurationVar(&o.engine.SettleDelay, "settle-delay", o.engine.SettleDelay, "engine.settle_delay")
		f.DurationVar(&o.engine.IdleTimeout, "idle-timeout", o.engine.IdleTimeout, "engine.idle_timeout")
		f.DurationVar(&o.engine.MaxDuration, "max-duration", o.engine.MaxDuration, "engine.max_duration")
		f.DurationVar(&o.engine.AllowedLateness, "allowed-lateness", o.engine.AllowedLateness, "engine.allowed_lateness")
		f.DurationVar(&o.engine.ClosedRetention, "closed-retention", o.engine.ClosedRetention, "engine.closed_retention")
		f.DurationVar(&o.engine.CorroborationWindow, "corroboration-window", o.engine.CorroborationWindow, "engine.corroboration_window")
		f.Int64Var(&o.engine.MaxStateBytes, "max-state-bytes", o.engine.MaxStateBytes, "engine.max_state_bytes")
		return cmd
	})
}

// processSummary counts what happened to the records.
type processSummary struct {
	records, rejected         int64
	outcomes                  map[engine.Outcome]int64
	workcycleRows, awuRows    int64
	awuModelRows              int64
	finalWorkcycles, finalAWU int
}

func runProcess(cmd *cobra.Command, o processOptions) (err error) {
	set := decode.Settings{}
	if o.now != "" {
		now, err := time.Parse(time.RFC3339Nano, o.now)
		if err != nil {
			return fmt.Errorf("--now: %w", err)
		}
		set.Now = func() time.Time { return now }
	}
	dec, err := decode.New(decode.FormatJSON, decode.DefaultConfig(), set)
	if err != nil {
		return err
	}
	book, err := price.LoadOrDefault(o.pricebook)
	if err != nil {
		return err
	}
	ledger := engine.NewMemoryHistory()
	eng, err := engine.New(o.engine, engine.Settings{Prices: book, History: ledger})
	if err != nil {
		return err
	}

	in, size, closeIn, err := openInput(cmd, o.input)
	if err != nil {
		return err
	}
	defer closeIn()
	out, closeOut, err := openOutput(cmd, o.output)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, closeOut()) }()
	var dl *deadletter.FileWriter
	if o.deadLetter != "" {
		f, createErr := os.Create(o.deadLetter)
		if createErr != nil {
			return fmt.Errorf("cannot create dead-letter file: %w", createErr)
		}
		dl = deadletter.NewFileWriter(f)
		defer func() { err = errors.Join(err, dl.Flush(), f.Close()) }()
	}

	w := newRowWriter(out)
	var final *engine.Final
	if o.finalOnly {
		final = engine.NewFinal()
	}
	emit := func(r engine.Rows) error {
		if final != nil {
			final.Add(r)
			return nil
		}
		return w.write(r)
	}

	sum := processSummary{outcomes: map[engine.Outcome]int64{}}
	bar := progress(cmd, size)
	lines := newLineReader(in)
	topic := o.input
	var evs []event.Event
	for lineNo := int64(1); ; lineNo++ {
		line, err := lines.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("cannot read input: %w", err)
		}
		if bar != nil {
			_ = bar.Add(len(line) + 1)
		}
		line = bytes.TrimRight(line, "\r\n")
		// Blank means JSON whitespace only: a line of U+00A0 or U+0085 is a
		// record, and the decoder rejects it as not_json.
		if len(bytes.Trim(line, " \t\r\n")) == 0 {
			continue
		}
		sum.records++
		rec := decode.Record{Topic: topic, Offset: lineNo, Value: line}
		var res decode.Result
		evs, res = dec.Decode(&rec, evs[:0])
		rejs := res.Rejections
		for i := range evs {
			outcome, err := eng.Apply(&evs[i])
			if err != nil {
				return fmt.Errorf("line %d: %w", lineNo, err)
			}
			sum.outcomes[outcome]++
			if outcome.Accepted() {
				ledger.Add(&evs[i])
			}
			// The events the engine refuses go to the dead letters as the
			// service sends them.
			if r, refused := source.Refusal(outcome, &evs[i]); refused {
				rejs = append(slices.Clip(rejs), r)
			}
		}
		if len(rejs) > 0 {
			sum.rejected++
			if dl != nil {
				letter, _ := deadletter.New(&rec, rejs)
				if err := dl.Write(&letter); err != nil {
					return err
				}
			}
		}
		if err := emit(eng.Emit()); err != nil {
			return err
		}
	}
	if bar != nil {
		_ = bar.Finish()
	}
	if err := emit(eng.Flush()); err != nil {
		return err
	}
	if final != nil {
		if err := w.write(final.Rows()); err != nil {
			return err
		}
	}
	if err := w.flush(); err != nil {
		return err
	}
	sum.workcycleRows, sum.awuRows, sum.awuModelRows = w.workcycles, w.awus, w.awuModels
	printSummary(cmd.ErrOrStderr(), sum)
	return nil
}

func printSummary(w io.Writer, s processSummary) {
	accepted := s.outcomes[engine.OutcomeAccepted] + s.outcomes[engine.OutcomeReopened]
	fmt.Fprintf(w, "awumeter process: %d records, %d rejected; %d events accepted (%d late into emitted workcycles), %d duplicates, %d conflicts; wrote %d workcycle rows, %d AWU rows and %d AWU model rows\n",
		s.records, s.rejected, accepted, s.outcomes[engine.OutcomeReopened], s.outcomes[engine.OutcomeDuplicate],
		s.outcomes[engine.OutcomeConflict], s.workcycleRows, s.awuRows, s.awuModelRows)
}

// progress returns a bar on stderr for inputs of known size when stderr is
// a terminal; nil otherwise.
func progress(cmd *cobra.Command, size int64) *progressbar.ProgressBar {
	f, ok := cmd.ErrOrStderr().(*os.File)
	if !ok || size < 16<<20 || !term.IsTerminal(int(f.Fd())) {
		return nil
	}
	return progressbar.NewOptions64(size,
		progressbar.OptionSetWriter(f),
		progressbar.OptionSetDescription("processing"),
		progressbar.OptionShowBytes(true),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionThrottle(100*time.Millisecond),
	)
}

// openInput opens FILE or stdin; size is the file's size, or 0 if unknown.
func openInput(cmd *cobra.Command, path string) (io.Reader, int64, func(), error) {
	if path == "-" || path == "" {
		return cmd.InOrStdin(), 0, func() {}, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, nil, fmt.Errorf("cannot open input: %w", err)
	}
	var size int64
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
		size = st.Size()
	}
	return f, size, func() { f.Close() }, nil
}

// openOutput creates FILE or returns stdout; closing reports write errors.
func openOutput(cmd *cobra.Command, path string) (io.Writer, func() error, error) {
	if path == "-" || path == "" {
		return cmd.OutOrStdout(), func() error { return nil }, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, nil, fmt.Errorf("cannot create output: %w", err)
	}
	return f, func() error {
		if err := f.Close(); err != nil {
			return fmt.Errorf("cannot write output: %w", err)
		}
		return nil
	}, nil
}

// lineReader reads lines of any length.
type lineReader struct {
	r   *bufio.Reader
	buf []byte
}

func newLineReader(r io.Reader) *lineReader { return &lineReader{r: bufio.NewReaderSize(r, 1<<20)} }

// next returns the next line, valid until the following call, with its
// newline; io.EOF at the end.
func (l *lineReader) next() ([]byte, error) {
	l.buf = l.buf[:0]
	for {
		chunk, err := l.r.ReadSlice('\n')
		l.buf = append(l.buf, chunk...)
		switch {
		case err == bufio.ErrBufferFull:
			continue
		case err == io.EOF && len(l.buf) > 0:
			return l.buf, nil
		case err != nil:
			return nil, err
		}
		return l.buf, nil
	}
}

// Row lines: the row's columns with a "table" field first.
type workcycleLine struct {
	Table string `json:"table"`
	engine.WorkcycleRow
}

type awuLine struct {
	Table string `json:"table"`
	engine.AWURow
}

type awuModelLine struct {
	Table string `json:"table"`
	engine.AWUModelRow
}

// rowWriter writes rows as JSON lines, each workcycle row followed by its
// AWU rows, each AWU row by its model rows.
type rowWriter struct {
	bw                          *bufio.Writer
	enc                         *json.Encoder
	workcycles, awus, awuModels int64
}

func newRowWriter(w io.Writer) *rowWriter {
	bw := bufio.NewWriterSize(w, 1<<16)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	return &rowWriter{bw: bw, enc: enc}
}

// write expects r as the engine returns it: workcycles sorted by key, AWUs
// by (tenant_id, workcycle_id, awu_id) and AWU models by (tenant_id,
// workcycle_id, awu_id, model). Rows that belong to no row before them
// (never the case for engine output) are written at the end.
func (w *rowWriter) write(r engine.Rows) error {
	j, k := 0, 0
	models := func(a *engine.AWURow) error {
		for ; k < len(r.AWUModels); k++ {
			m := &r.AWUModels[k]
			if a != nil && (m.TenantID != a.TenantID || m.WorkcycleID != a.WorkcycleID || m.AWUID != a.AWUID) {
				return nil
			}
			if err := w.enc.Encode(awuModelLine{Table: "awu_models", AWUModelRow: *m}); err != nil {
				return fmt.Errorf("cannot write rows: %w", err)
			}
			w.awuModels++
		}
		return nil
	}
	awus := func(wc *engine.WorkcycleRow) error {
		for ; j < len(r.AWUs); j++ {
			a := &r.AWUs[j]
			if wc != nil && (a.TenantID != wc.TenantID || a.WorkcycleID != wc.WorkcycleID) {
				return nil
			}
			if err := w.enc.Encode(awuLine{Table: "awus", AWURow: *a}); err != nil {
				return fmt.Errorf("cannot write rows: %w", err)
			}
			w.awus++
			if err := models(a); err != nil {
				return err
			}
		}
		return nil
	}
	for i := range r.Workcycles {
		wc := &r.Workcycles[i]
		if err := w.enc.Encode(workcycleLine{Table: "workcycles", WorkcycleRow: *wc}); err != nil {
			return fmt.Errorf("cannot write rows: %w", err)
		}
		w.workcycles++
		if err := awus(wc); err != nil {
			return err
		}
	}
	if err := awus(nil); err != nil { // not reached for engine output
		return err
	}
	return models(nil)
}

func (w *rowWriter) flush() error {
	if err := w.bw.Flush(); err != nil {
		return fmt.Errorf("cannot write rows: %w", err)
	}
	return nil
}
