package engine

import (
	"hash/maphash"
	"strings"
)

// idKey is a 128-bit fingerprint of (tenant_id, event_id). Two fingerprints
// from independent seeds make an accidental match (2^-128 per pair) far
// less likely than a hardware error, and cost 16 bytes instead of the id.
type idKey struct{ a, b uint64 }

var idSeedA, idSeedB = maphash.MakeSeed(), maphash.MakeSeed()

// fingerprint hashes the pair with the runtime's seeded string hash, twice.
// maphash.Comparable hashes the two strings' bytes in place, without the
// copying into a buffer that a maphash.Hash does.
func fingerprint(tenant, eventID string) idKey {
	k := eventKey{tenant, eventID}
	return idKey{maphash.Comparable(idSeedA, k), maphash.Comparable(idSeedB, k)}
}

type eventKey struct{ tenant, eventID string }

// stringPool copies strings out of decoded events so that held state never
// pins a decoder's buffers, and interns values of low cardinality (tenants,
// agents, tools, outcomes) so that each is stored once.
type stringPool struct {
	interned map[string]string
}

// internLimit caps the pool; beyond it values are copied, not interned, so
// a producer that puts unique values in a low-cardinality field cannot grow
// memory without bound.
const internLimit = 1 << 16

func (p *stringPool) intern(s string) string {
	if s == "" {
		return ""
	}
	if v, ok := p.interned[s]; ok {
		return v
	}
	v := strings.Clone(s)
	if len(p.interned) < internLimit {
		if p.interned == nil {
			p.interned = map[string]string{}
		}
		p.interned[v] = v
	}
	return v
}

func (p *stringPool) clone(s string) string {
	if s == "" {
		return ""
	}
	return strings.Clone(s)
}
