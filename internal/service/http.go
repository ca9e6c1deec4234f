package service

import (
	"fmt"
	"net/http"
	"net/http/pprof"
	"time"
)

// handler serves /metrics, /healthz, /readyz and, with http.pprof, the
// profiles under /debug/pprof/ except the command line. No answer holds a
// configured secret: /readyz reports errors, which name keys but never
// values, and /metrics has no configuration.
func (s *Service) handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/metrics", s.m.Handler())
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) {
		ok, why := s.Ready()
		if !ok {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		fmt.Fprintln(w, why)
	})
	if s.cfg.HTTP.Pprof {
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		// The command line is not served: --set clickhouse.password=...
		// would leave the process through it.
		mux.HandleFunc("/debug/pprof/cmdline", func(w http.ResponseWriter, _ *http.Request) {
			http.Error(w, "not served: the command line may hold secrets", http.StatusNotFound)
		})
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	}
	return mux
}

// Ready reports whether the instance is doing its job, and why not:
//
//   - consumption has not stopped on a fatal error;
//   - ClickHouse answered the last ping;
//   - at least one partition is assigned;
//   - no partition is stalled: a partition is stalled when records are
//     waiting (high watermark > next offset to process) and none was
//     processed for http.stall_timeout; the sink refusing rows for
//     http.stall_timeout (its queue full) counts as stalled too.
func (s *Service) Ready() (bool, string) {
	ok, why := s.ready()
	s.m.Ready.Set(gauge(ok))
	if s.src != nil {
		s.m.FetchPaused.Set(gauge(!s.src.Status().BlockedSince.IsZero()))
	}
	return ok, why
}

func gauge(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func (s *Service) ready() (bool, string) {
	if s.src == nil {
		return false, "starting"
	}
	if err := s.Err(); err != nil {
		return false, "consumption stopped: " + err.Error()
	}
	if p := s.chErr.Load(); p != nil {
		return false, "ClickHouse is unreachable: " + (*p).Error()
	}
	st := s.src.Status()
	if st.Err != nil {
		return false, "consumption failed: " + st.Err.Error()
	}
	now := s.set.Now()
	stall := s.cfg.HTTP.StallTimeout
	if !st.BlockedSince.IsZero() {
		if d := now.Sub(st.BlockedSince); d >= stall {
			return false, fmt.Sprintf("stalled: the ClickHouse queue has been full for %s", d.Round(time.Second))
		}
	}
	if len(st.Partitions) == 0 {
		return false, "no partitions assigned"
	}
	for _, p := range st.Partitions {
		if n := p.Pending(); n > 0 && now.Sub(p.Progress) >= stall {
			return false, fmt.Sprintf("stalled: %s/%d has %d records waiting and none was processed for %s",
				p.Topic, p.Partition, n, now.Sub(p.Progress).Round(time.Second))
		}
	}
	return true, fmt.Sprintf("ok: %d partitions assigned", len(st.Partitions))
}
