package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/awumeter/awumeter/internal/gen"
	"github.com/awumeter/awumeter/internal/gen/truth"
	"github.com/awumeter/awumeter/pipeline/price"
)

func init() {
	register(func() *cobra.Command {
		cfg := gen.DefaultConfig()
		var start string
		o := genOptions{produce: gen.ProduceConfig{Client: gen.ClientFranz}}
		cmd := &cobra.Command{
			Use:   "gen",
			Short: "Generate seeded synthetic agent telemetry, to a file or to Kafka",
			Long: `Gen makes synthetic telemetry: tenants, agents and workcycles of varied
size, prompt and tool AWUs on several models (one unknown to the price book),
retries, voice actions, validations, rollbacks and outcomes, delivered with
duplicates, bounded reordering, late events and malformed records. The same
flags and seed always give the same bytes.

Without --kafka-brokers it writes native v1 JSON lines to --output. With
--kafka-brokers it produces every record to --topic in --format, keyed by
workcycle id so that each workcycle stays on one partition, in delivery
order; malformed records are produced too, to exercise the dead-letter path.
--output may still name a file for the native lines.

Formats: json (native v1), cloudevents (structured mode), cloudevents-binary
(ce_* headers; read by the cloudevents decoder), otlp_proto and otlp_json (one
gen-ai span per record). OTLP spans cannot say that a workcycle started or
completed, or that a tool call was validated or rolled back, so those events
are not produced in the OTLP formats; --truth accounts for that.

Clients: franz (franz-go) partitions keys with murmur2, as the Java client
does. kafka-go (segmentio/kafka-go's Hash balancer) uses FNV-1a, so a
workcycle may land on another partition than with franz or Java; it still
stays on one partition.

--partitions creates missing topics (--topic and every --prepare-topic), and
--reset-topics deletes and recreates them first, so that a run starts empty.

--truth writes the expected final rows, computed directly from the distinct
events a consumer of --format decodes, without the engine, in the format of
awumeter process --final-only, so that the two can be compared with diff.`,
			Example: `  awumeter gen --workcycles 1000 --output telemetry.ndjson --truth truth.ndjson
  awumeter gen --kafka-brokers 127.0.0.1:9092 --topic agent-events --partitions 6 \
      --format otlp_proto --client kafka-go --rate 5000`,
			Args: cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				t, err := parseStart(start, time.Now())
				if err != nil {
					return err
				}
				cfg.Start = t
				return runGen(cmd, cfg, &o)
			},
		}
		f := cmd.Flags()
		f.StringVar(&o.output, "output", "-", "file to write native JSON lines to, or - for stdout (default with --kafka-brokers: none)")
		f.StringVar(&o.truth, "truth", "", "file to write the expected final rows to")
		f.StringVar(&o.pricebook, "pricebook", "", "price book YAML for --truth (default: the one shipped in the binary)")
		f.StringSliceVar(&o.produce.Brokers, "kafka-brokers", nil, "produce to Kafka at these seed brokers, host:port[,host:port]")
		f.StringVar(&o.produce.Topic, "topic", "", "topic to produce to")
		f.StringVar(&o.produce.Client, "client", o.produce.Client, "Kafka client: franz or kafka-go")
		f.StringVar(&o.format, "format", gen.FormatJSON, "record format: "+strings.Join(gen.Formats(), ", "))
		f.Float64Var(&o.produce.Rate, "rate", 0, "records per second (0: as fast as the brokers take them)")
		f.Int32Var(&o.partitions, "partitions", 0, "create missing topics with this many partitions (0: the topics must exist)")
		f.BoolVar(&o.reset, "reset-topics", false, "delete and recreate the topics first (needs --partitions)")
		f.StringSliceVar(&o.prepare, "prepare-topic", nil, "another topic to create or reset with --topic, e.g. the service's dead-letter topic")
		f.Int64Var(&cfg.Seed, "seed", cfg.Seed, "random seed")
		f.IntVar(&cfg.Workcycles, "workcycles", cfg.Workcycles, "number of workcycles")
		f.IntVar(&cfg.Tenants, "tenants", cfg.Tenants, "number of tenants")
		f.IntVar(&cfg.AgentsPerTenant, "agents", cfg.AgentsPerTenant, "agents per tenant")
		f.StringVar(&start, "start", cfg.Start.Format(time.RFC3339), "earliest workcycle start: RFC 3339, or a duration from today's midnight UTC such as -768h")
		f.DurationVar(&cfg.Span, "span", cfg.Span, "workcycles start uniformly over this span")
		f.IntVar(&cfg.MaxAWUs, "max-awus", cfg.MaxAWUs, "most AWUs in one workcycle")
		f.Float64Var(&cfg.ToolRate, "tool-rate", cfg.ToolRate, "share of AWUs that are tool calls")
		f.Float64Var(&cfg.RetryRate, "retry-rate", cfg.RetryRate, "chance that an attempt fails and is retried, scaled per tool (some are flakier)")
		f.IntVar(&cfg.MaxAttempts, "max-attempts", cfg.MaxAttempts, "most attempts of one AWU")
		f.Float64Var(&cfg.VoiceRate, "voice-rate", cfg.VoiceRate, "share of tool calls on the voice channel")
		f.Float64Var(&cfg.ValidateRate, "validate-rate", cfg.ValidateRate, "chance of a validated report on a succeeded tool call")
		f.Float64Var(&cfg.RollbackRate, "rollback-rate", cfg.RollbackRate, "chance of a rolled_back report on a succeeded tool call")
		f.Float64Var(&cfg.UnknownModelRate, "unknown-model-rate", cfg.UnknownModelRate, "share of model calls on a model the price book does not know")
		f.Float64Var(&cfg.LongContextRate, "long-context-rate", cfg.LongContextRate, "share of model calls above 200k input tokens")
		f.Float64Var(&cfg.CompleteRate, "complete-rate", cfg.CompleteRate, "share of workcycles with a completed event")
		f.Float64Var(&cfg.DuplicateRate, "duplicate-rate", cfg.DuplicateRate, "chance that an event is delivered twice")
		f.Float64Var(&cfg.ConflictRate, "conflict-rate", cfg.ConflictRate, "chance that an event id is re-sent with different content")
		f.IntVar(&cfg.ReorderWindow, "reorder-window", cfg.ReorderWindow, "most positions a record moves from time order")
		f.Float64Var(&cfg.LateRate, "late-rate", cfg.LateRate, "share of events delivered --late-delay after their time")
		f.DurationVar(&cfg.LateDelay, "late-delay", cfg.LateDelay, "how late late events are")
		f.Float64Var(&cfg.MalformedRate, "malformed-rate", cfg.MalformedRate, "chance of a malformed record after each record")
		return cmd
	})
}

// parseStart reads --start: an RFC 3339 time, or a duration relative to
// today's midnight UTC, so that runs on the same day give the same bytes.
func parseStart(s string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return time.Time{}, fmt.Errorf("--start %q: want an RFC 3339 time (2026-11-01T00:00:00Z) or a duration from today's midnight UTC (-768h)", s)
	}
	return now.UTC().Truncate(24 * time.Hour).Add(d), nil
}

// genOptions are gen's flags beyond the generator's Config.
type genOptions struct {
	output, truth, pricebook string
	format                   string
	produce                  gen.ProduceConfig
	partitions               int32
	reset                    bool
	prepare                  []string
}

func (o *genOptions) check(cmd *cobra.Command) error {
	var errs []error
	if _, err := gen.NewEncoder(o.format); err != nil {
		errs = append(errs, fmt.Errorf("--%w", err))
	}
	if len(o.produce.Brokers) == 0 {
		for _, name := range []string{"topic", "client", "rate", "partitions", "reset-topics", "prepare-topic"} {
			if cmd.Flags().Changed(name) {
				errs = append(errs, fmt.Errorf("--%s needs --kafka-brokers", name))
			}
		}
		if o.format != gen.FormatJSON {
			errs = append(errs, fmt.Errorf("--format %s needs --kafka-brokers: files hold native JSON lines", o.format))
		}
		return errors.Join(errs...)
	}
	if err := o.produce.Validate(); err != nil {
		errs = append(errs, err)
	}
	if o.reset && o.partitions < 1 {
		errs = append(errs, errors.New("--reset-topics needs --partitions to recreate the topics"))
	}
	if len(o.prepare) > 0 && o.partitions < 1 {
		errs = append(errs, errors.New("--prepare-topic needs --partitions"))
	}
	if !cmd.Flags().Changed("output") {
		o.output = "" // producing: no native lines unless asked for
	}
	return errors.Join(errs...)
}

func runGen(cmd *cobra.Command, cfg gen.Config, o *genOptions) error {
	if err := o.check(cmd); err != nil {
		return err
	}
	s, err := gen.Generate(cfg)
	if err != nil {
		return err
	}
	enc, _ := gen.NewEncoder(o.format)
	if o.output != "" {
		out, closeOut, err := openOutput(cmd, o.output)
		if err != nil {
			return err
		}
		if _, err := s.WriteTo(out); err != nil {
			return errors.Join(fmt.Errorf("cannot write telemetry: %w", err), closeOut())
		}
		if err := closeOut(); err != nil {
			return err
		}
	}
	if len(o.produce.Brokers) > 0 {
		if err := produceGen(cmd, s, enc, o); err != nil {
			return err
		}
	}
	if o.truth == "" {
		return nil
	}
	book, err := price.LoadOrDefault(o.pricebook)
	if err != nil {
		return err
	}
	rows := truth.AllRows(enc.Events(s), book)
	tf, closeTruth, err := openOutput(cmd, o.truth)
	if err != nil {
		return err
	}
	w := newRowWriter(tf)
	err = w.write(rows)
	return errors.Join(err, w.flush(), closeTruth())
}

// produceGen prepares the topics, encodes the stream and produces it,
// with a progress bar on a terminal and a summary on stderr.
func produceGen(cmd *cobra.Command, s *gen.Stream, enc *gen.Encoder, o *genOptions) error {
	ctx, errOut := cmd.Context(), cmd.ErrOrStderr()
	if o.partitions > 0 {
		pctx, cancel := context.WithTimeout(ctx, time.Minute)
		acts, err := gen.PrepareTopics(pctx, o.produce.Brokers, o.partitions, o.reset, append([]string{o.produce.Topic}, o.prepare...)...)
		cancel()
		if err != nil {
			return err
		}
		for _, a := range acts {
			verb := "kept existing"
			if a.Created {
				verb = "created"
			}
			fmt.Fprintf(errOut, "%s topic %s (%d partitions)\n", verb, a.Topic, a.Partitions)
		}
	}
	msgs := make([]gen.Message, 0, len(s.Records))
	kinds := map[gen.Kind]int{}
	skipped := 0
	for i := range s.Records {
		m, ok := enc.Encode(&s.Records[i])
		if !ok {
			skipped++
			continue
		}
		msgs = append(msgs, m)
		kinds[m.Kind]++
	}
	var acked atomic.Int64
	stop := showProduceProgress(cmd, int64(len(msgs)), &acked)
	st, err := gen.Produce(ctx, o.produce, msgs, func(n int) { acked.Add(int64(n)) })
	stop()
	if err != nil {
		return fmt.Errorf("%w (%d of %d records acknowledged)", err, acked.Load(), len(msgs))
	}
	fmt.Fprintf(errOut, "produced %d records (%s) to %s as %s with %s in %s: %.0f records/s\n",
		st.Records, byteSize(st.Bytes), o.produce.Topic, enc.Format(), o.produce.Client,
		st.Elapsed.Round(time.Millisecond), st.RecordsPerSecond())
	fmt.Fprintf(errOut, "  %d events, %d duplicates, %d conflicting re-sends, %d malformed records\n",
		kinds[gen.KindOriginal], kinds[gen.KindDuplicate], kinds[gen.KindConflict], kinds[gen.KindMalformed])
	if skipped > 0 {
		fmt.Fprintf(errOut, "  %d events not produced: %s cannot carry workcycle events or validated and rolled_back reports\n",
			skipped, enc.Format())
	}
	return nil
}

// showProduceProgress draws a bar of acknowledged records on a terminal;
// the returned function removes it.
func showProduceProgress(cmd *cobra.Command, total int64, acked *atomic.Int64) func() {
	f, ok := cmd.ErrOrStderr().(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) || total == 0 {
		return func() {}
	}
	bar := progressbar.NewOptions64(total,
		progressbar.OptionSetWriter(f),
		progressbar.OptionSetDescription("producing"),
		progressbar.OptionShowCount(),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionThrottle(100*time.Millisecond),
	)
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				_ = bar.Set64(acked.Load())
				_ = bar.Finish()
				return
			case <-t.C:
				_ = bar.Set64(acked.Load())
			}
		}
	}()
	return func() {
		close(done)
		<-stopped
	}
}

// byteSize renders n bytes in binary units.
func byteSize(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
