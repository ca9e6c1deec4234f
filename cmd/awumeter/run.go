package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"
	"go.uber.org/zap"

	"github.com/awumeter/awumeter/internal/config"
	"github.com/awumeter/awumeter/internal/logging"
	"github.com/awumeter/awumeter/internal/service"
	"github.com/awumeter/awumeter/internal/textsafe"
	"github.com/awumeter/awumeter/pipeline/sink"
)

// faultEnv injects a crash for the delivery tests, exiting with status 137
// as a SIGKILL would:
//   - "exit_after_insert:N" right after the Nth workcycles insert was
//     acknowledged by ClickHouse and before its offsets are committed;
//   - "exit_in_rekey:N" after the re-key stage's Nth transaction was
//     produced and before it is committed.
const faultEnv = "AWUMETER_FAULT"

func init() {
	register(func() *cobra.Command {
		var path string
		var sets []string
		cmd := &cobra.Command{
			Use:   "run",
			Short: "Run the metering service: Kafka in, ClickHouse out",
			Long: `Run consumes agent telemetry from the configured Kafka topics as a member of
a consumer group, groups it into AWUs and workcycles, prices them and writes
them to ClickHouse. Offsets are committed only after ClickHouse (and, for
rejected records, the dead-letter topic) acknowledged everything derived
from the records before them.

Configuration comes from --config, then AWUMETER_* environment variables
(e.g. AWUMETER_KAFKA_BROKERS), then --set key=value flags. See
deploy/awumeter.example.yaml and docs/operations.md.

SIGTERM or SIGINT stops fetching, flushes, commits and leaves the group
within shutdown_timeout.`,
			Args: cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				return runService(cmd.Context(), cmd.ErrOrStderr(), path, sets)
			},
		}
		cmd.Flags().StringVarP(&path, "config", "c", "", "YAML configuration file")
		cmd.Flags().StringArrayVar(&sets, "set", nil, "override one key, e.g. --set kafka.group=billing (repeatable)")
		return cmd
	})
}

// runService runs the service until ctx ends or it stops on a fatal error.
// Configuration problems are written to stderr, one a line; they never show
// a --set or environment value (internal/config), which may be a secret.
func runService(ctx context.Context, stderr io.Writer, path string, sets []string) error {
	cfg, err := config.Load(path, config.Sources{Set: sets})
	if err != nil {
		for _, p := range config.Problems(err) {
			fmt.Fprintln(stderr, textsafe.Terminal(p))
		}
		return errors.New("invalid configuration")
	}
	log, err := logging.New(cfg.Log)
	if err != nil {
		return err
	}
	defer log.Sync()
	set := service.Settings{Logger: log, Version: version}
	if f := os.Getenv(faultEnv); f != "" {
		if err := injectFault(f, &set); err != nil {
			return err
		}
		log.Warn("fault injection is on", zap.String(faultEnv, f))
	}
	svc, err := service.New(cfg, set)
	if err != nil {
		return err
	}
	startCtx, cancel := context.WithTimeout(ctx, cfg.ClickHouse.DialTimeout+30*time.Second)
	err = svc.Start(startCtx)
	cancel()
	if err != nil {
		return err
	}
	select {
	case <-ctx.Done():
	case <-svc.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	shutErr := svc.Shutdown(sctx)
	if err := svc.Err(); err != nil {
		return fmt.Errorf("stopped on a fatal error (the next start replays from the last commit): %w", err)
	}
	return shutErr
}

// injectFault parses AWUMETER_FAULT into set. Only package main may exit,
// so the crash lives here.
func injectFault(spec string, set *service.Settings) error {
	kind, arg, _ := strings.Cut(spec, ":")
	n, err := strconv.Atoi(arg)
	if err != nil || n < 1 {
		kind = ""
	}
	crash := func(what string) {
		fmt.Fprintf(os.Stderr, "awumeter: %s: exiting %s\n", faultEnv, what)
		os.Exit(137)
	}
	switch kind {
	case "exit_after_insert":
		var inserts atomic.Int64
		set.InsertObserver = sink.ObserverFunc(func(table string, _ int, _ time.Duration, err error) {
			if err == nil && table == "workcycles" && inserts.Add(1) == int64(n) {
				crash(fmt.Sprintf("after workcycles insert %d, before its offsets are committed", n))
			}
		})
	case "exit_in_rekey":
		set.RekeyBeforeEnd = func(txn int) {
			if txn == n {
				crash(fmt.Sprintf("in re-key transaction %d, produced and not committed", n))
			}
		}
	default:
		return fmt.Errorf("%s=%q: want exit_after_insert:N or exit_in_rekey:N with N >= 1", faultEnv, spec)
	}
	return nil
}
