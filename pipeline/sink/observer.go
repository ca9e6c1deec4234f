package sink

import "time"

// Observer receives one call per insert attempt, so the service can export
// latency and error metrics. Calls come from the goroutine doing the insert,
// several at once (Writer inserts a batch's tables concurrently), so an
// Observer must be safe for concurrent use; it must not block.
type Observer interface {
	InsertDone(table string, rows int, d time.Duration, err error)
}

// ObserverFunc adapts a function to Observer.
type ObserverFunc func(table string, rows int, d time.Duration, err error)

// InsertDone calls f.
func (f ObserverFunc) InsertDone(table string, rows int, d time.Duration, err error) {
	f(table, rows, d, err)
}

type nopObserver struct{}

func (nopObserver) InsertDone(string, int, time.Duration, error) {}
