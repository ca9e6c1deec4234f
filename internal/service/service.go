package service

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/twmb/franz-go/pkg/kgo"
	"go.uber.org/zap"

	"github.com/awumeter/awumeter/internal/config"
	"github.com/awumeter/awumeter/internal/metrics"
	"github.com/awumeter/awumeter/pipeline/engine"
	"github.com/awumeter/awumeter/pipeline/price"
	"github.com/awumeter/awumeter/pipeline/rekey"
	"github.com/awumeter/awumeter/pipeline/sink"
	"github.com/awumeter/awumeter/pipeline/source"
)

// Settings is what code, not the user, provides to a Service.
type Settings struct {
	// Logger defaults to a no-op logger.
	Logger *zap.Logger
	// Version labels awumeter_build_info.
	Version string
	// InsertObserver, if set, is called after every ClickHouse insert
	// attempt, after the metrics. The command uses it for fault injection
	// in tests; it must not block.
	InsertObserver sink.Observer
	// RekeyBeforeEnd, if set, is the re-key stage's rekey.Settings.BeforeEnd
	// (fault injection in tests).
	RekeyBeforeEnd func(n int)
	// ClientOpts are extra Kafka client options (tests).
	ClientOpts []kgo.Opt
	// Now defaults to time.Now.
	Now func() time.Time

	// historyPerWorkcycle hides the ledger's batch read from the source,
	// which then queries once per workcycle; benchmarks compare the two.
	historyPerWorkcycle bool
}

// The metrics are what the stages observe.
var (
	_ source.Observer = metrics.Observer{}
	_ rekey.Observer  = metrics.Observer{}
)

// healthInterval is how often ClickHouse is pinged for readiness.
const healthInterval = 2 * time.Second

// Service is one running instance of `awumeter run`.
type Service struct {
	cfg    config.Config
	set    Settings
	log    *zap.Logger
	m      *metrics.Metrics
	prices *price.Book

	writer  *sink.Writer
	buffer  *sink.Buffer
	histCon driver.Conn
	src     *source.Source
	rekey   *rekey.Stage // nil when every topic is keyed by workcycle
	http    *http.Server
	addr    net.Addr

	runCancel context.CancelFunc
	bgCancel  context.CancelFunc
	done      chan struct{} // closed when the source stopped
	runErr    error
	rekeyDone chan struct{} // closed when the re-key stage stopped
	rekeyErr  error
	bgWG      sync.WaitGroup

	chErr    atomic.Pointer[error] // last ClickHouse ping error, nil when reachable
	shutOnce sync.Once
}

// New validates cfg and loads the price book.
func New(cfg config.Config, set Settings) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if set.Logger == nil {
		set.Logger = zap.NewNop()
	}
	if set.Now == nil {
		set.Now = time.Now
	}
	prices, err := price.LoadOrDefault(cfg.Pricebook)
	if err != nil {
		return nil, fmt.Errorf("pricebook: %w", err)
	}
	return &Service{cfg: cfg, set: set, log: set.Logger, m: metrics.New(set.Version), prices: prices, done: make(chan struct{})}, nil
}

// Metrics are the service's metrics.
func (s *Service) Metrics() *metrics.Metrics { return s.m }

// Addr is the HTTP server's bound address, once started; nil without one.
func (s *Service) Addr() net.Addr { return s.addr }

// Source is the Kafka stage, once started.
func (s *Service) Source() *source.Source { return s.src }

// Start connects to ClickHouse (refusing a schema that does not match this
// binary), starts the HTTP server and starts consuming. On error everything
// it opened is closed again.
func (s *Service) Start(ctx context.Context) (err error) {
	var closers []func()
	defer func() {
		if err != nil {
			for i := len(closers) - 1; i >= 0; i-- {
				closers[i]()
			}
		}
	}()
	obs := sink.ObserverFunc(func(table string, rows int, d time.Duration, err error) {
		s.m.ObserveFlush(table, rows, d, err)
		if s.set.InsertObserver != nil {
			s.set.InsertObserver.InsertDone(table, rows, d, err)
		}
	})
	var windows *windowGuard
	if s.cfg.Guards.HasWindowRules() {
		if windows, err = newWindowGuard(s.cfg.Guards, s.log, s.m); err != nil {
			return err
		}
	}
	sinkSet := sink.Settings{Observer: obs}
	if windows != nil {
		sinkSet.Windows = windows
	}
	s.writer, err = sink.Open(ctx, s.cfg.ClickHouse, sinkSet)
	if err != nil {
		return fmt.Errorf("cannot open ClickHouse: %w", err)
	}
	closers = append(closers, func() { s.writer.Close() })
	if windows != nil {
		// Windows of the last two days raised before are not raised again.
		ids, err := s.writer.WindowAlertIDs(ctx, s.set.Now().Add(-48*time.Hour))
		if err != nil {
			return err
		}
		windows.remember(ids)
	}
	s.histCon, err = sink.Dial(ctx, s.cfg.ClickHouse.ClickHouseConfig)
	if err != nil {
		return fmt.Errorf("cannot open ClickHouse for the events ledger: %w", err)
	}
	closers = append(closers, func() { s.histCon.Close() })
	s.buffer = sink.NewBuffer(s.writer, s.cfg.ClickHouse.Batch, s.cfg.ClickHouse.MaxPendingBatches,
		sink.WithRollupRefresh(s.cfg.ClickHouse.RollupRefreshInterval))
	closers = append(closers, func() { s.buffer.Close(context.Background()) })

	bg, bgCancel := context.WithCancel(context.Background())
	s.bgCancel = bgCancel
	closers = append(closers, bgCancel)
	var history engine.History = sink.NewHistory(s.histCon, s.writer.Schema(), s.cfg.ClickHouse.MaxQueryBytes).Bound(s.cfg.ClickHouse.InsertTimeout)
	if s.set.historyPerWorkcycle {
		history = engine.HistoryFunc(history.Events)
	}
	s.src, err = source.New(s.cfg.Kafka, source.Settings{
		Sink: s.buffer, Engine: s.cfg.Engine, Prices: s.prices, History: history,
		Logger: s.log, Observer: s.m.Observer(), Now: s.set.Now, ClientOpts: s.set.ClientOpts,
		Guards: &s.cfg.Guards,
	})
	if err != nil {
		return err
	}
	if windows != nil {
		windows.client.Store(s.src.Client())
	}
	closers = append(closers, func() { s.src.Client().Close() })
	if err := s.src.CheckTopics(ctx); err != nil {
		return err
	}
	if len(s.cfg.Kafka.Unkeyed()) > 0 {
		s.rekey, err = rekey.New(s.cfg.Kafka, s.cfg.Rekey, rekey.Settings{
			Logger: s.log.Named("rekey"), Observer: s.m.Observer(), Now: s.set.Now,
			BeforeEnd: s.set.RekeyBeforeEnd, ClientOpts: s.set.ClientOpts,
		})
		if err != nil {
			return err
		}
		closers = append(closers, func() { s.rekey.Client().Close() })
		if _, err := s.rekey.EnsureTopic(ctx); err != nil {
			return err
		}
	}

	if s.cfg.HTTP.Listen != "" {
		ln, err := net.Listen("tcp", s.cfg.HTTP.Listen)
		if err != nil {
			return fmt.Errorf("http.listen: %w", err)
		}
		s.addr = ln.Addr()
		s.http = &http.Server{Handler: s.handler(), ReadHeaderTimeout: 10 * time.Second}
		go func() {
			if err := s.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				s.log.Error("http server stopped", zap.Error(err))
			}
		}()
	}

	s.bgWG.Add(1)
	go s.watchClickHouse(bg)
	runCtx, cancel := context.WithCancel(context.Background())
	s.runCancel = cancel
	s.rekeyDone = make(chan struct{})
	if s.rekey != nil {
		// A failed re-key stage stops consumption too: the service then
		// exits and restarts from the last commits of both groups.
		go func() {
			defer close(s.rekeyDone)
			if s.rekeyErr = s.rekey.Run(runCtx); s.rekeyErr != nil {
				cancel()
			}
		}()
	} else {
		close(s.rekeyDone)
	}
	go func() {
		defer close(s.done)
		s.runErr = s.src.Run(runCtx)
		if s.runErr != nil {
			cancel()
		}
		<-s.rekeyDone
	}()
	var rekeyed []string
	for _, t := range s.cfg.Kafka.Unkeyed() {
		rekeyed = append(rekeyed, t.Name)
	}
	if s.rekey != nil {
		s.log.Info("re-keying topics not declared keyed_by_workcycle", zap.Strings("topics", rekeyed),
			zap.String("repartition_topic", s.rekey.Topic()), zap.String("transactional_id", s.rekey.TransactionalID()))
	}
	s.log.Info("awumeter is running", zap.Strings("brokers", s.cfg.Kafka.Brokers), zap.String("group", s.cfg.Kafka.Group),
		zap.Stringer("clickhouse", s.cfg.ClickHouse.ClickHouseConfig), zap.Int("schema_version", s.writer.Schema().Version),
		zap.String("schema_flavor", string(s.writer.Schema().Flavor)), zap.Stringer("http", s.addr))
	return nil
}

// Done is closed when consumption has stopped: after Shutdown began, or by
// itself on a fatal error (then Err is not nil and the caller should
// Shutdown and exit non-zero, to restart from the last commit).
func (s *Service) Done() <-chan struct{} { return s.done }

// Err is the fatal error that stopped consumption, if any: the source's or
// the re-key stage's.
func (s *Service) Err() error {
	select {
	case <-s.done:
		return errors.Join(s.runErr, s.rekeyErr)
	default:
		return nil
	}
}

// Shutdown stops fetching, flushes every row to ClickHouse, commits,
// leaves the group and closes the connections, within ctx.
func (s *Service) Shutdown(ctx context.Context) error {
	var errs []error
	s.shutOnce.Do(func() {
		start := s.set.Now()
		s.log.Info("shutting down: stop fetching, flush, commit, leave the group")
		s.runCancel()
		select {
		case <-s.done:
		case <-ctx.Done():
			errs = append(errs, fmt.Errorf("consumption did not stop in time: %w", ctx.Err()))
		}
		if s.rekey != nil {
			if err := s.rekey.Close(ctx); err != nil {
				errs = append(errs, err)
			}
		}
		if err := s.src.Close(ctx); err != nil {
			errs = append(errs, err)
		}
		if err := s.buffer.Close(ctx); err != nil {
			errs = append(errs, fmt.Errorf("cannot flush the sink: %w", err))
		}
		s.bgCancel()
		s.bgWG.Wait()
		if s.http != nil {
			hctx, cancel := context.WithTimeout(context.Background(), time.Second)
			_ = s.http.Shutdown(hctx)
			cancel()
		}
		s.histCon.Close()
		s.writer.Close()
		if err := errors.Join(errs...); err != nil {
			s.log.Warn("shutdown incomplete; the next start replays from the last commit", zap.Error(err))
		} else {
			s.log.Info("stopped", zap.Duration("took", s.set.Now().Sub(start)))
		}
	})
	return errors.Join(errs...)
}

func (s *Service) watchClickHouse(ctx context.Context) {
	defer s.bgWG.Done()
	t := time.NewTicker(healthInterval)
	defer t.Stop()
	for {
		pctx, cancel := context.WithTimeout(ctx, healthInterval)
		err := s.histCon.Ping(pctx)
		cancel()
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			if s.chErr.Load() == nil {
				s.log.Warn("ClickHouse is unreachable", zap.Error(err))
			}
			s.chErr.Store(&err)
		} else {
			if s.chErr.Load() != nil {
				s.log.Info("ClickHouse is reachable again")
			}
			s.chErr.Store(nil)
		}
		s.Ready() // refresh the gauge
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
