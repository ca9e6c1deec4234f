package price

import (
	"slices"
	"sync"
	"sync/atomic"
)

// DefaultUnknownModelsLimit is the number of distinct unknown model names an
// UnknownModels remembers when its limit is not set.
const DefaultUnknownModelsLimit = 1000

// UnknownModels remembers the model names that had no price, so that the
// caller warns once per name and counts the rest in a metric. It keeps no
// more than a fixed number of names: telemetry can carry any string, and a
// flood of distinct bad names must not grow memory or the log without bound.
// Names beyond the limit are counted in Overflow and never reported as first.
// The zero value is ready to use, with DefaultUnknownModelsLimit; it is safe
// for concurrent use.
type UnknownModels struct {
	// Limit is the number of distinct names remembered; 0 means
	// DefaultUnknownModelsLimit.
	Limit int

	names    sync.Map // string -> struct{}
	count    atomic.Int64
	overflow atomic.Int64
}

// Seen records a use of an unknown model name and reports whether it is the
// first, in which case the caller logs one warning. Seen does no logging
// itself.
func (u *UnknownModels) Seen(model string) (first bool) {
	if _, ok := u.names.Load(model); ok {
		return false
	}
	limit := int64(u.Limit)
	if limit <= 0 {
		limit = DefaultUnknownModelsLimit
	}
	if u.count.Add(1) > limit {
		u.count.Add(-1)
		u.overflow.Add(1)
		return false
	}
	if _, loaded := u.names.LoadOrStore(model, struct{}{}); loaded {
		u.count.Add(-1)
		return false
	}
	return true
}

// Names returns the remembered unknown model names, sorted.
func (u *UnknownModels) Names() []string {
	var names []string
	u.names.Range(func(k, _ any) bool {
		names = append(names, k.(string))
		return true
	})
	slices.Sort(names)
	return names
}

// Overflow is the number of uses of unknown names that were not remembered
// because the limit was reached.
func (u *UnknownModels) Overflow() int64 { return u.overflow.Load() }
