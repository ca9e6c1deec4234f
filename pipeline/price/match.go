package price

import (
	"strings"
	"sync"
	"sync/atomic"
)

// resolveCacheLimit bounds the names remembered by the pattern cache. Model
// names come from telemetry, so an unbounded cache could grow without end on
// bad data; when full, the cache is replaced by an empty one and refills with
// the names in use.
const resolveCacheLimit = 4096

// resolveCache remembers, per model name, the result of the slow part of
// matching (lowercasing and patterns), including "unknown" as a nil *model.
// Reads are lock-free: a sync.Map suits a set of keys that is written once
// and read many times from many goroutines.
type resolveCache struct {
	names atomic.Pointer[sync.Map] // string -> *model
	size  atomic.Int64
	limit int64
}

func (c *resolveCache) get(name string) (m *model, ok bool) {
	names := c.names.Load()
	if names == nil {
		return nil, false
	}
	v, ok := names.Load(name)
	if !ok {
		return nil, false
	}
	return v.(*model), true
}

func (c *resolveCache) put(name string, m *model) {
	names := c.names.Load()
	if names == nil || c.size.Add(1) > c.limit {
		// Start over. Racing writers may each start a new map; one wins and
		// the others' entries are simply computed again later.
		fresh := new(sync.Map)
		if c.names.CompareAndSwap(names, fresh) {
			c.size.Store(1)
		}
		names = c.names.Load()
	}
	names.Store(name, m)
}

// len is the number of cached names, for tests.
func (c *resolveCache) len() int {
	n := 0
	if names := c.names.Load(); names != nil {
		names.Range(func(_, _ any) bool { n++; return true })
	}
	return n
}

// match resolves a model name to its entry, or nil when unknown.
func (b *Book) match(name string) *model {
	if m, ok := b.byName[name]; ok {
		return m
	}
	if m, ok := b.resolved.get(name); ok {
		return m
	}
	m := b.matchSlow(name)
	b.resolved.put(name, m)
	return m
}

func (b *Book) matchSlow(name string) *model {
	l := strings.ToLower(name)
	if m, ok := b.byName[l]; ok {
		return m
	}
	for _, p := range b.patterns {
		if p.re.MatchString(l) {
			return p.model
		}
	}
	return nil
}
