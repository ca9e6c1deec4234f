package engine

import "hash/maphash"

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
