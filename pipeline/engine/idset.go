package engine

// idSet maps event fingerprints to the content hash of their first copy. It
// is an open-addressing table with linear probing: the fingerprints are
// already uniform random bits, so a slot index is taken from them directly
// instead of hashing the key again, and a lookup followed by an insert of
// the same key costs one probe sequence, usually one cache line.
// Deletion shifts later entries of the probe run back (no tombstones).
type idSet struct {
	slots []idSlot // len is a power of two, or zero
	n     int
}

// idSlot is one table entry; a zero key.a marks an empty slot (key.a is
// never zero, see slotKey).
type idSlot struct {
	key     idKey
	content uint64
}

const idSetMinSlots = 64

// slotKey maps the one fingerprint with a == 0 onto a == 1, so that zero can
// mark empty slots.
func slotKey(id idKey) idKey {
	if id.a == 0 {
		id.a = 1
	}
	return id
}

// find returns the slot holding id, or the empty slot where it would go.
func (s *idSet) find(id idKey) (i int, found bool) {
	mask := len(s.slots) - 1
	for i = int(id.a) & mask; ; i = (i + 1) & mask {
		k := s.slots[i].key
		if k == id {
			return i, true
		}
		if k.a == 0 {
			return i, false
		}
	}
}

func (s *idSet) get(id idKey) (uint64, bool) {
	if s.n == 0 {
		return 0, false
	}
	i, ok := s.find(slotKey(id))
	return s.slots[i].content, ok
}

// add inserts id, which must not be present.
func (s *idSet) add(id idKey, content uint64) {
	if (s.n+1)*4 > len(s.slots)*3 { // keep the load at most 3/4
		s.grow()
	}
	id = slotKey(id)
	i, _ := s.find(id)
	s.slots[i] = idSlot{key: id, content: content}
	s.n++
}

func (s *idSet) grow() { s.resize(max(2*len(s.slots), idSetMinSlots)) }

// resize rehashes into n slots, a power of two that holds every entry.
func (s *idSet) resize(n int) {
	old := s.slots
	s.slots = make([]idSlot, n)
	mask := len(s.slots) - 1
	for _, sl := range old {
		if sl.key.a == 0 {
			continue
		}
		i := int(sl.key.a) & mask
		for s.slots[i].key.a != 0 {
			i = (i + 1) & mask
		}
		s.slots[i] = sl
	}
}

func (s *idSet) del(id idKey) {
	if s.n == 0 {
		return
	}
	i, ok := s.find(slotKey(id))
	if !ok {
		return
	}
	// Backward-shift deletion: move later entries of the run into the hole
	// when the hole lies between their home slot and where they are.
	mask := len(s.slots) - 1
	for j := (i + 1) & mask; ; j = (j + 1) & mask {
		k := s.slots[j].key
		if k.a == 0 {
			break
		}
		home := int(k.a) & mask
		// Entry j may move to i if its home is not in (i, j] cyclically.
		if (j > i && (home <= i || home > j)) || (j < i && home <= i && home > j) {
			s.slots[i] = s.slots[j]
			i = j
		}
	}
	s.slots[i] = idSlot{}
	s.n--
	// Shrink below a load of 1/8, to a load of at most 1/2, so that the
	// table of a burst of events is returned when its workcycles are
	// evicted; the gap to the growth at 3/4 keeps resizing amortized.
	if len(s.slots) > idSetMinSlots && s.n*8 < len(s.slots) {
		s.resize(max(len(s.slots)/4, idSetMinSlots))
	}
}

func (s *idSet) len() int { return s.n }
