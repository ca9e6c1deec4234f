package source_test

import (
	"context"
	"fmt"
	"io"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/awumeter/awumeter/internal/metrics"
	"github.com/awumeter/awumeter/pipeline/source"
)

// metricValue scrapes m for the value of the series named exactly series
// (name and labels), or -1 if it is absent.
func metricValue(t *testing.T, m *metrics.Metrics, series string) float64 {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	for line := range strings.Lines(string(body)) {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				t.Fatal(err)
			}
			return f
		}
	}
	return -1
}

// While the dead-letter topic does not acknowledge, the letters waiting for
// it hold at most kafka.dead_letter_max_buffered_bytes: polling stops at
// the record that would pass the bound. Once the broker acknowledges, every
// record is dead-lettered, none is dropped, and the offset moves past all.
func TestDeadLettersAreBoundedInBytesAndApplyBackPressure(t *testing.T) {
	c, cl := newKfake(t, 1)
	// 12 records of 300 KB that are not JSON: 3.6 MB of dead letters.
	const n, size = 12, 300_000
	var recs []*kgo.Record
	for i := range n {
		v := fmt.Sprintf(`{"not json %02d`, i) + strings.Repeat("x", size)
		recs = append(recs, &kgo.Record{Key: []byte("k"), Value: []byte(v)})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}

	// Hold every produce from here on (the source's dead letters, the only
	// ones) until released.
	release := make(chan struct{})
	var held atomic.Int64
	c.ControlKey(int16(kmsg.Produce), func(kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		held.Add(1)
		c.SleepControl(func() { <-release })
		return nil, nil, false
	})

	cfg := kfakeConfig(c)
	cfg.IdleAdvance = source.DefaultIdleAdvance
	cfg.MaxPollRecords = 1 // one record per poll, so the records read show where polling stopped
	cfg.DeadLetterMaxBufferedBytes = 1 << 20
	m := metrics.New("test")
	ms := newMemSink()
	_, stopped, stop := runSource(t, cfg, source.Settings{Sink: ms, History: ms, Observer: m.Observer()})

	// Three letters of about 300 KB fit in 1 MiB; the fourth waits.
	deadline := time.Now().Add(10 * time.Second)
	for held.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(time.Second) // time enough to read every record, were polling not stopped
	if got := metricValue(t, m, `awumeter_records_total{topic="telemetry"}`); got != 4 {
		t.Errorf("%v records read while the dead letters wait, want 4: three held and the one waiting for room", got)
	}
	if got := metricValue(t, m, "awumeter_dead_letter_buffered_bytes"); got <= 3*size || got > 1<<20 {
		t.Errorf("%v bytes of dead letters held, want three letters' worth, at most %d", got, 1<<20)
	}

	close(release)
	if at := waitCommitted(t, kadm.NewClient(cl), source.DefaultGroup, n, stopped, 20*time.Second); at != n {
		t.Errorf("committed offset %d after the broker acknowledged, want %d", at, n)
	}
	stop()
	if got := metricValue(t, m, "awumeter_dead_letter_buffered_bytes"); got != 0 {
		t.Errorf("%v bytes of dead letters still held after every acknowledgement", got)
	}

	// Every record is in the dead-letter topic once, bytes intact.
	rd, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.ConsumeTopics("dlq"))
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	want := map[string]int{}
	for _, r := range recs {
		want[string(r.Value)]++
	}
	for got := 0; got < n && ctx.Err() == nil; {
		rd.PollFetches(ctx).EachRecord(func(r *kgo.Record) {
			got++
			want[string(r.Value)]--
		})
	}
	for v, k := range want {
		if k != 0 {
			t.Errorf("record %.16q… dead-lettered %d times too few", v, k)
		}
	}
}
