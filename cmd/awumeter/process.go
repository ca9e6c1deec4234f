package main

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/awumeter/awumeter/pipeline/deadletter"
	"github.com/awumeter/awumeter/pipeline/decode"
	"github.com/awumeter/awumeter/pipeline/engine"
	"github.com/awumeter/awumeter/pipeline/offline"
	"github.com/awumeter/awumeter/pipeline/price"
)

// processOptions are the flags of awumeter process.
type processOptions struct {
	input, output, deadLetter, pricebook string
	format                               string
	otlp                                 decode.OTLPConfig
	conventions                          []string
	inputIncludesCache                   string // "", "true" or "false"
	finalOnly                            bool
	now                                  string
	engine                               engine.Config
}

// processOTLPFlags are the flags that set kafka.topics[i].decode.otlp.*;
// they apply to the OTLP formats only.
var processOTLPFlags = []string{
	"otlp-default-tenant-id", "otlp-tenant-attribute",
	"otlp-workcycle-attribute", "otlp-awu-attribute", "otlp-attempt-attribute",
	"otlp-conventions", "otlp-input-includes-cache",
}

func init() {
	register(func() *cobra.Command {
		o := processOptions{engine: engine.DefaultConfig(), format: decode.FormatJSON, otlp: decode.DefaultConfig().OTLP}
		cmd := &cobra.Command{
			Use:   "process",
			Short: "Run the work-unit engine over records of any topic format, one per line, offline",
			Long: `Process reads records one per line, in order, decodes them as a topic of
--format would be decoded, and runs the same work-unit engine as the
service, with no Kafka and no ClickHouse. It writes one JSON line per
emitted row, with a "table" field ("workcycles", "awus" or "awu_models")
next to the row's columns.

Formats (--format, as kafka.topics[i].format), one record per line:

  json         a native v1 event object (the default)
  cloudevents  a structured-mode CloudEvent, the whole envelope as one JSON
               object. Binary mode keeps the context attributes in ce_*
               Kafka headers, which a line cannot carry: write such a record
               as a structured one (the ce_ headers as envelope attributes,
               the value as "data").
  otlp_json    one OTLP/JSON ExportTraceServiceRequest
  otlp_proto   one protobuf ExportTraceServiceRequest in standard base64
               (RFC 4648, padded or not, no line breaks), e.g. the output of
               base64 -w0 record.bin. A line that is not base64 is rejected
               as not_otlp.

A line of JSON whitespace only (spaces, tabs) is skipped in every format,
without being counted; line numbers still count it. An OTLP record yields one
event per metered span: a record with a bad span is rejected (dead-lettered
once) while its other spans still become events, and spans with nothing to
meter are counted as ignored.

The --otlp-* flags set the OTLP identity mapping and the GenAI conventions
read (docs/contract.md), each mirroring the key
kafka.topics[i].decode.otlp.<name> of the service configuration; they are
refused with other formats.

Rows are written as the engine emits them: the engine's watermark advances
with every record, and each emission lists its workcycles sorted by
(tenant_id, workcycle_id), every workcycle row followed by its AWU rows
sorted by awu_id, every AWU row followed by its per-model rows sorted by
model. At the end of the input every workcycle with unemitted
changes is emitted. With --final-only, only the last version of each row is
written, in the same order.

Rejected records are written to --dead-letter as {"reason", "record", ...}
lines; a record's offset there is its line number, and its record is the
line as read (for otlp_proto, the base64 text), so a fixed file can be fed
back to process. A summary goes to stderr: records read and rejected, what
the engine did with the decoded events, and for OTLP the spans ignored.`,
			Example: `  awumeter process --input events.ndjson --output rows.ndjson --dead-letter dl.ndjson
  awumeter process --format cloudevents --input ce.ndjson --final-only

  # check one OTLP record captured from a topic, without Kafka: base64 -w0
  # writes it as one line (macOS: base64 -i record.bin)
  base64 -w0 record.bin > spans.b64
  awumeter process --format otlp_proto --input spans.b64 --final-only --dead-letter dl.ndjson
  awumeter process --format otlp_json --input spans.ndjson --otlp-default-tenant-id acme`,
			Args: cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error { return runProcess(cmd, o) },
		}
		f := cmd.Flags()
		f.StringVar(&o.input, "input", "-", "records to read, one per line, or - for stdin")
		f.StringVar(&o.output, "output", "-", "file to write rows to, or - for stdout")
		f.StringVar(&o.format, "format", o.format, "record format, as kafka.topics[i].format: "+strings.Join(decode.Formats(), ", "))
		f.StringVar(&o.deadLetter, "dead-letter", "", "file to write rejected records to (default: count them only)")
		f.StringVar(&o.pricebook, "pricebook", "", "price book YAML (default: the one shipped in the binary)")
		f.BoolVar(&o.finalOnly, "final-only", false, "write only the last version of each row")
		f.StringVar(&o.now, "now", "", "RFC 3339 time that event times are checked against (default: the clock)")
		f.StringVar(&o.otlp.DefaultTenantID, "otlp-default-tenant-id", o.otlp.DefaultTenantID,
			"decode.otlp.default_tenant_id: tenant of spans without the tenant attribute (default: reject them as missing_field)")
		f.StringVar(&o.otlp.TenantAttribute, "otlp-tenant-attribute", o.otlp.TenantAttribute, "decode.otlp.tenant_attribute")
		f.StringVar(&o.otlp.WorkcycleAttribute, "otlp-workcycle-attribute", o.otlp.WorkcycleAttribute, "decode.otlp.workcycle_attribute")
		f.StringVar(&o.otlp.AWUAttribute, "otlp-awu-attribute", o.otlp.AWUAttribute, "decode.otlp.awu_attribute")
		f.StringVar(&o.otlp.AttemptAttribute, "otlp-attempt-attribute", o.otlp.AttemptAttribute, "decode.otlp.attempt_attribute")
		f.StringSliceVar(&o.conventions, "otlp-conventions", decode.Conventions(),
			"decode.otlp.conventions: the GenAI span conventions to read, in order")
		f.StringVar(&o.inputIncludesCache, "otlp-input-includes-cache", "",
			"decode.otlp.conventions[i].input_includes_cache for every convention listed, true or false: false when the input token count excludes cached tokens (default: each convention's own rule)")
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
	format                    string
	records, rejected         int64
	events                    int64 // decoded, before the engine
	ignored                   decode.Ignored
	outcomes                  map[engine.Outcome]int64
	workcycleRows, awuRows    int64
	awuModelRows              int64
	finalWorkcycles, finalAWU int
}

// isOTLP reports whether format is one of the OTLP formats.
func isOTLP(format string) bool {
	return format == decode.FormatOTLPProto || format == decode.FormatOTLPJSON
}

// newProcessDecoder checks --format and the --otlp-* flags and returns the
// decoder, before any file is opened.
func newProcessDecoder(cmd *cobra.Command, o processOptions, set decode.Settings) (decode.Decoder, error) {
	if err := decode.ValidateFormat(o.format); err != nil {
		return nil, fmt.Errorf("--format: %w", err)
	}
	if !isOTLP(o.format) {
		var errs []error
		for _, name := range processOTLPFlags {
			if cmd.Flags().Changed(name) {
				errs = append(errs, fmt.Errorf("--%s applies to --format %s and %s only, not %s",
					name, decode.FormatOTLPProto, decode.FormatOTLPJSON, o.format))
			}
		}
		if err := errors.Join(errs...); err != nil {
			return nil, err
		}
	}
	cfg := decode.DefaultConfig()
	cfg.OTLP = o.otlp
	if len(o.conventions) == 0 {
		// Empty would read as every convention, and drop the cache flag's value.
		return nil, fmt.Errorf("--otlp-conventions is empty; name at least one of %s", strings.Join(decode.Conventions(), ", "))
	}
	cfg.OTLP.Conventions = nil
	var includes *bool
	switch o.inputIncludesCache {
	case "":
	case "true", "false":
		v := o.inputIncludesCache == "true"
		includes = &v
	default:
		return nil, fmt.Errorf("--otlp-input-includes-cache must be true or false, not %q", o.inputIncludesCache)
	}
	for _, name := range o.conventions {
		cfg.OTLP.Conventions = append(cfg.OTLP.Conventions, decode.Convention{Name: name, InputIncludesCache: includes})
	}
	return decode.New(o.format, cfg, set)
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
	dec, err := newProcessDecoder(cmd, o, set)
	if err != nil {
		return err
	}
	book, err := price.LoadOrDefault(o.pricebook)
	if err != nil {
		return err
	}
	run, err := offline.New(dec, o.engine, book)
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

	sum := processSummary{format: o.format, outcomes: map[engine.Outcome]int64{}}
	bar := progress(cmd, size)
	lines := newLineReader(in)
	values := lineValues{format: o.format}
	topic := o.input
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
		// Blank means JSON whitespace only, in every format: a line of
		// U+00A0 or U+0085 is a record, and the decoder rejects it.
		if len(bytes.Trim(line, " \t\r\n")) == 0 {
			continue
		}
		sum.records++
		// The record as read: what a dead letter keeps.
		rec := decode.Record{Topic: topic, Offset: lineNo, Value: line}
		var rejs []decode.Rejection
		if value, rej, ok := values.value(line); ok {
			dr := rec
			dr.Value = value
			res, err := run.Record(&dr)
			if err != nil {
				return fmt.Errorf("line %d: %w", lineNo, err)
			}
			sum.events += int64(len(res.Events))
			sum.ignored = addIgnored(sum.ignored, res.Ignored)
			for _, o := range res.Outcomes {
				sum.outcomes[o]++
			}
			rejs = res.Rejections // the engine's refusals included, as the service sends them
		} else {
			rejs = []decode.Rejection{rej}
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
		if err := emit(run.Emit()); err != nil {
			return err
		}
	}
	if bar != nil {
		_ = bar.Finish()
	}
	if err := emit(run.Flush()); err != nil {
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

// lineValues turns an input line into the record value the decoder of
// format reads: the line itself, or for otlp_proto its base64 decoded.
type lineValues struct {
	format string
	buf    []byte // the decoded bytes, reused
}

// value returns the record value of line, valid until the next call, or
// the rejection of a line that cannot be one.
func (l *lineValues) value(line []byte) ([]byte, decode.Rejection, bool) {
	if l.format != decode.FormatOTLPProto {
		return line, decode.Rejection{}, true
	}
	b64 := bytes.Trim(line, " \t")
	enc := base64.StdEncoding
	if len(b64)%4 != 0 && !bytes.HasSuffix(b64, []byte("=")) {
		enc = base64.RawStdEncoding // unpadded
	}
	var err error
	if l.buf, err = enc.AppendDecode(l.buf[:0], b64); err != nil {
		return nil, decode.Rejection{Reason: decode.ReasonNotOTLP, Detail: fmt.Sprintf(
			"an otlp_proto line must be a protobuf ExportTraceServiceRequest in standard base64 (RFC 4648, padded or not, on one line): %v", err)}, false
	}
	return l.buf, decode.Rejection{}, true
}

func addIgnored(a, b decode.Ignored) decode.Ignored {
	a.NotGenAI += b.NotGenAI
	a.InvokeAgent += b.InvokeAgent
	a.OtherOperation += b.OtherOperation
	a.FailedModelCall += b.FailedModelCall
	return a
}

// printSummary writes one line. Records are lines read (blank ones aside);
// rejected records are the ones dead-lettered. Events are what the decoder
// made of the records (one per record for json and cloudevents, one per
// metered span for OTLP): every one is accepted, a duplicate, a conflict or
// refused by the engine.
func printSummary(w io.Writer, s processSummary) {
	accepted := s.outcomes[engine.OutcomeAccepted] + s.outcomes[engine.OutcomeReopened]
	refused := s.outcomes[engine.OutcomeInvalid] + s.outcomes[engine.OutcomeOverflow]
	ignored := ""
	if isOTLP(s.format) {
		ignored = fmt.Sprintf("; %d spans ignored", s.ignored.Total())
		var kinds []string
		for _, k := range []struct {
			name string
			n    int
		}{
			{"not_gen_ai", s.ignored.NotGenAI}, {"invoke_agent", s.ignored.InvokeAgent},
			{"other_operation", s.ignored.OtherOperation}, {"failed_model_call", s.ignored.FailedModelCall},
		} {
			if k.n > 0 {
				kinds = append(kinds, fmt.Sprintf("%s %d", k.name, k.n))
			}
		}
		if len(kinds) > 0 {
			ignored += " (" + strings.Join(kinds, ", ") + ")"
		}
	}
	fmt.Fprintf(w, "awumeter process: %d records, %d rejected; %d events accepted (%d late into emitted workcycles), %d duplicates, %d conflicts and %d refused, of %d events decoded%s; wrote %d workcycle rows, %d AWU rows and %d AWU model rows\n",
		s.records, s.rejected, accepted, s.outcomes[engine.OutcomeReopened], s.outcomes[engine.OutcomeDuplicate],
		s.outcomes[engine.OutcomeConflict], refused, s.events, ignored, s.workcycleRows, s.awuRows, s.awuModelRows)
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
