package service_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/awumeter/awumeter/internal/service"
	"github.com/awumeter/awumeter/internal/service/servicetest"
	"github.com/awumeter/awumeter/internal/testenv"
)

// proxy forwards a local port to ClickHouse until closed; closing it also
// cuts the open connections, as a ClickHouse that went away would.
type proxy struct {
	ln    net.Listener
	mu    sync.Mutex
	conns []net.Conn
}

func newProxy(t *testing.T, target string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			u, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, u)
			p.mu.Unlock()
			go func() { io.Copy(u, c); u.Close() }()
			go func() { io.Copy(c, u); c.Close() }()
		}
	}()
	t.Cleanup(p.close)
	return p
}

func (p *proxy) close() {
	p.ln.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

func readyz(t *testing.T, svc *service.Service) (int, string) {
	t.Helper()
	resp, err := http.Get("http://" + svc.Addr().String() + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.TrimSpace(string(b))
}

func waitReady(t *testing.T, svc *service.Service, want int, d time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		code, body := readyz(t, svc)
		if code == want {
			return body
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz = %d %q after %s, want %d", code, body, d, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// /readyz is ready while consuming, not ready once ClickHouse is
// unreachable (the address now points at a closed port), while /healthz
// stays ok.
func TestReadyzFollowsClickHouseReachability(t *testing.T) {
	k := testenv.NewKafka(t)
	ch := testenv.NewClickHouse(t)
	servicetest.Migrate(t, ch)
	topic, group := k.Topic(t, 2), k.Group(t)
	stream := servicetest.Telemetry(t, 20, 3)
	servicetest.ProduceFranz(t, k.Brokers, topic, stream.Records)

	px := newProxy(t, ch.Addr)
	cfg := servicetest.Config(k, ch, topic, group, "")
	cfg.ClickHouse.Addrs = []string{px.ln.Addr().String()}
	cfg.ClickHouse.DialTimeout = time.Second
	svc, err := service.New(cfg, service.Settings{})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Start(testenv.Context(t, 30*time.Second)); err != nil {
		t.Fatal(err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		svc.Shutdown(ctx) // ClickHouse is gone: an incomplete shutdown is expected
	}()
	if body := waitReady(t, svc, http.StatusOK, 20*time.Second); !strings.HasPrefix(body, "ok: 2 partitions") {
		t.Fatalf("ready body %q", body)
	}
	px.close()
	body := waitReady(t, svc, http.StatusServiceUnavailable, 10*time.Second)
	if !strings.Contains(body, "ClickHouse is unreachable") {
		t.Fatalf("not-ready body %q does not say why", body)
	}
	resp, err := http.Get("http://" + svc.Addr().String() + "/healthz")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("/healthz = %v, %v while not ready", resp, err)
	}
	resp.Body.Close()
}
