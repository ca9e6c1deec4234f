package engine

import (
	"strings"
	"unsafe"

	"github.com/awumeter/awumeter/pipeline/price"
)

// stringPool copies strings out of decoded events so that held state never
// pins a decoder's buffers, and interns values of low cardinality (tenants,
// agents, tools, outcomes, model names and providers) so that each is
// stored once. It also shares usage keys among the workcycles that use the
// same (rate, model, provider).
//
// Interned strings and shared keys are reference counted by workcycle: the
// workcycle being folded (owner) takes a reference on every value it
// interns, and gives all of them back when it is evicted. A value no held
// workcycle references is dropped at once, so the pool never holds more than
// what the held workcycles use: evicting workcycles returns their strings,
// however long or unique.
type stringPool struct {
	strs map[string]*internedString
	keys map[usageKey]*sharedKey
	// owner is the workcycle on whose behalf intern and usageKey take
	// references; set by Apply and load around folding, nil otherwise.
	owner *workcycle
	// bytes estimates what the pool holds: string bytes and entries.
	bytes int64
	// peak is the largest number of entries since the maps were last
	// rebuilt; Go maps do not shrink, so they are rebuilt when mostly empty.
	peak int
}

// internedString is one interned value and the number of references held
// workcycles (and shared keys) have on it.
type internedString struct {
	s    string
	refs int32
	// owner is the last workcycle that took a reference: a cheap check
	// against taking two for the same workcycle.
	owner *workcycle
}

// sharedKey is one shared usage key and its references.
type sharedKey struct {
	key   usageKey
	refs  int32
	owner *workcycle
	// model and provider are the key's references on its strings; nil when
	// the string is empty or was not interned.
	model, provider *internedString
}

// internLimit and usageKeyLimit cap the pool's entries; beyond them values
// are copied, not shared, which costs memory (counted against
// engine.max_state_bytes) but not correctness: values are compared by
// content.
const (
	internLimit   = 1 << 16
	usageKeyLimit = 1 << 16
)

// Estimated bytes of one pool entry besides its string: the entry, its map
// slot and the owner's reference to it.
const (
	internedStringBytes = int64(unsafe.Sizeof(internedString{})) + 48
	sharedKeyBytes      = int64(unsafe.Sizeof(sharedKey{})) + 72
)

// refScan is how many of a workcycle's latest references intern checks
// before it takes another one for a value it may already hold; a repeated
// reference is harmless (each is given back).
const refScan = 4

// intern returns the pool's copy of s, held by the current owner.
func (p *stringPool) intern(s string) string {
	if s == "" {
		return ""
	}
	wc := p.owner
	v := p.strs[s]
	if v == nil {
		if wc == nil || len(p.strs) >= internLimit {
			if wc != nil {
				wc.mem.extra += int64(len(s))
			}
			return strings.Clone(s)
		}
		v = p.add(s)
	}
	if v.owner != wc {
		p.holdString(wc, v)
	}
	return v.s
}

// add creates the entry of s, with no references.
func (p *stringPool) add(s string) *internedString {
	if p.strs == nil {
		p.strs = map[string]*internedString{}
	}
	v := &internedString{s: strings.Clone(s)}
	p.strs[v.s] = v
	p.bytes += internedStringBytes + int64(len(s))
	p.peak = max(p.peak, len(p.strs)+len(p.keys))
	return v
}

func (p *stringPool) holdString(wc *workcycle, v *internedString) {
	refs := wc.mem.strs
	for i := len(refs) - 1; i >= 0 && i >= len(refs)-refScan; i-- {
		if refs[i] == v {
			v.owner = wc
			return
		}
	}
	v.refs++
	v.owner = wc
	if refs == nil {
		refs = wc.mem.strBuf[:0]
	}
	wc.mem.strs = append(refs, v)
}

// acquire returns a reference, held by a shared key, on the interned copy
// of s; nil for an empty s or a full pool.
func (p *stringPool) acquire(s string) *internedString {
	if s == "" {
		return nil
	}
	v := p.strs[s]
	if v == nil {
		if len(p.strs) >= internLimit {
			return nil
		}
		v = p.add(s)
	}
	v.refs++
	return v
}

func (p *stringPool) releaseString(v *internedString) {
	if v == nil {
		return
	}
	v.refs--
	if v.refs > 0 {
		return
	}
	if p.strs[v.s] == v {
		delete(p.strs, v.s)
	}
	p.bytes -= internedStringBytes + int64(len(v.s))
}

// clone copies s out of the event; the copy belongs to whoever stores it.
func (p *stringPool) clone(s string) string {
	if s == "" {
		return ""
	}
	return strings.Clone(s)
}

// usageKey returns the shared key of (r, model, provider), held by the
// workcycle being folded.
func (e *Engine) usageKey(r *price.Rate, model, provider string) *usageKey {
	p := &e.strings
	k := usageKey{rate: r, provider: provider}
	if r == nil {
		k.model = model
	}
	sk := p.keys[k]
	if sk == nil {
		sk = &sharedKey{model: p.acquire(k.model), provider: p.acquire(k.provider)}
		sk.key = usageKey{rate: k.rate, model: sharedCopy(sk.model, k.model), provider: sharedCopy(sk.provider, k.provider)}
		if len(p.keys) < usageKeyLimit {
			if p.keys == nil {
				p.keys = map[usageKey]*sharedKey{}
			}
			p.keys[sk.key] = sk
			p.peak = max(p.peak, len(p.strs)+len(p.keys))
		}
		p.bytes += sharedKeyBytes
	}
	// A new rate (or provider) of an AWU adds a rateUsage to its workcycle;
	// counted here whether it is held inline or in the overflow, which errs
	// on the side of more.
	if wc := p.owner; wc != nil {
		wc.mem.extra += rateUsageBytes
		if sk.owner != wc {
			p.holdKey(wc, sk)
		}
	}
	return &sk.key
}

// sharedCopy is v's string, or a copy of s when v is nil (not interned).
func sharedCopy(v *internedString, s string) string {
	if v != nil {
		return v.s
	}
	return strings.Clone(s)
}

func (p *stringPool) holdKey(wc *workcycle, sk *sharedKey) {
	refs := wc.mem.keys
	for i := len(refs) - 1; i >= 0 && i >= len(refs)-refScan; i-- {
		if refs[i] == sk {
			sk.owner = wc
			return
		}
	}
	sk.refs++
	sk.owner = wc
	if refs == nil {
		refs = wc.mem.keyBuf[:0]
	}
	wc.mem.keys = append(refs, sk)
}

func (p *stringPool) releaseKey(sk *sharedKey) {
	sk.refs--
	if sk.refs > 0 {
		return
	}
	if p.keys[sk.key] == sk {
		delete(p.keys, sk.key)
	}
	p.bytes -= sharedKeyBytes
	p.releaseString(sk.model)
	p.releaseString(sk.provider)
}

// release gives back every reference wc holds, dropping the values no other
// held workcycle references.
func (p *stringPool) release(wc *workcycle) {
	for i, v := range wc.mem.strs {
		if v.owner == wc {
			v.owner = nil
		}
		p.releaseString(v)
		wc.mem.strs[i] = nil
	}
	for i, sk := range wc.mem.keys {
		if sk.owner == wc {
			sk.owner = nil
		}
		p.releaseKey(sk)
		wc.mem.keys[i] = nil
	}
	wc.mem.strs, wc.mem.keys = nil, nil
	p.shrink()
}

// shrink rebuilds the maps once they hold less than an eighth of their peak,
// so that the space of a burst of values is returned too.
func (p *stringPool) shrink() {
	n := len(p.strs) + len(p.keys)
	if p.peak < 1024 || n > p.peak/8 {
		return
	}
	strs := make(map[string]*internedString, len(p.strs))
	for s, v := range p.strs {
		strs[s] = v
	}
	keys := make(map[usageKey]*sharedKey, len(p.keys))
	for k, v := range p.keys {
		keys[k] = v
	}
	p.strs, p.keys, p.peak = strs, keys, n
}

// len is the number of pool entries: interned strings and shared keys.
func (p *stringPool) len() int { return len(p.strs) + len(p.keys) }
