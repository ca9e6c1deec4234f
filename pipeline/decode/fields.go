package decode

import (
	"errors"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shopspring/decimal"

	"github.com/awumeter/awumeter/pipeline/event"
)

// field indexes the v1 contract's JSON fields in a rawFields array.
type field uint8

const (
	fEventID field = iota
	fType
	fTime
	fTenantID
	fWorkcycleID
	fAgentID
	fConversationID
	fAWUID
	fAttempt
	fModel
	fProvider
	fInputTokens
	fOutputTokens
	fCacheReadInputTokens
	fCacheCreationInputTokens
	fReasoningTokens
	fTool
	fChannel
	fStatus
	fPhase
	fOutcome
	fOutcomeType
	fHumanMinutes
	fCSAT
	fResolvedBy
	fBy
	numFields
)

var fieldNames = [numFields]string{
	"event_id", "type", "time", "tenant_id", "workcycle_id", "agent_id", "conversation_id",
	"awu_id", "attempt", "model", "provider", "input_tokens", "output_tokens",
	"cache_read_input_tokens", "cache_creation_input_tokens", "reasoning_tokens",
	"tool", "channel", "status", "phase", "outcome", "outcome_type",
	"human_minutes", "csat", "resolved_by", "by",
}

func lookupField(k []byte) (field, bool) {
	switch string(k) { // compiled without allocating
	case "event_id":
		return fEventID, true
	case "type":
		return fType, true
	case "time":
		return fTime, true
	case "tenant_id":
		return fTenantID, true
	case "workcycle_id":
		return fWorkcycleID, true
	case "agent_id":
		return fAgentID, true
	case "conversation_id":
		return fConversationID, true
	case "awu_id":
		return fAWUID, true
	case "attempt":
		return fAttempt, true
	case "model":
		return fModel, true
	case "provider":
		return fProvider, true
	case "input_tokens":
		return fInputTokens, true
	case "output_tokens":
		return fOutputTokens, true
	case "cache_read_input_tokens":
		return fCacheReadInputTokens, true
	case "cache_creation_input_tokens":
		return fCacheCreationInputTokens, true
	case "reasoning_tokens":
		return fReasoningTokens, true
	case "tool":
		return fTool, true
	case "channel":
		return fChannel, true
	case "status":
		return fStatus, true
	case "phase":
		return fPhase, true
	case "outcome":
		return fOutcome, true
	case "outcome_type":
		return fOutcomeType, true
	case "human_minutes":
		return fHumanMinutes, true
	case "csat":
		return fCSAT, true
	case "resolved_by":
		return fResolvedBy, true
	case "by":
		return fBy, true
	}
	return 0, false
}

// rawFields holds the scanned value of each known field; unknown fields are
// ignored. Values point into the record or the scanner and die with them.
type rawFields [numFields]jvalue

// scanFields scans the object at the scanner's position into r.
func (r *rawFields) scanFields(s *scanner) bool {
	return s.object(0, func(k []byte, v jvalue) {
		if f, ok := lookupField(k); ok {
			r[f] = v // a repeated key: the last one wins, as in encoding/json
		}
	})
}

// envelope carries what a CloudEvents envelope decides instead of data.
type envelope struct {
	typ      event.Type // TypeUnknown: read data's type field
	source   []byte     // with id: event_id = source + " " + id
	id       []byte
	time     []byte // non-nil: the event time, data's time is ignored
	haveTime bool
}

// strs collects an event's strings, which point into a reused buffer, and
// copies them out with a single allocation. It stores slot numbers rather
// than pointers into the event so that the event can stay on the stack.
type strs struct {
	parts [2 * numFields][]byte
	first [numFields]int8 // first part of each field's string, -1 for none
	last  [numFields]int8
	n     int8
	total int
	offs  [2*numFields + 1]int
	all   string
}

func newStrs() strs {
	var s strs
	for i := range s.first {
		s.first[i] = -1
	}
	return s
}

// add sets field f's string to the concatenation of parts.
func (s *strs) add(f field, b []byte) {
	s.first[f], s.last[f] = s.n, s.n
	s.parts[s.n] = b
	s.n++
	s.total += len(b)
}

// append adds b to the string of the field added last, which is f.
func (s *strs) append(f field, b []byte) {
	s.last[f] = s.n
	s.parts[s.n] = b
	s.n++
	s.total += len(b)
}

// copyOut copies every string out and sets the event's string fields.
func (s *strs) copyOut(ev *event.Event) {
	var b strings.Builder
	b.Grow(s.total)
	for i := int8(0); i < s.n; i++ {
		s.offs[i] = b.Len()
		b.Write(s.parts[i])
	}
	s.offs[s.n] = b.Len()
	s.all = b.String()
	ev.EventID = s.get(fEventID)
	ev.TenantID = s.get(fTenantID)
	ev.WorkcycleID = s.get(fWorkcycleID)
	ev.AgentID = s.get(fAgentID)
	ev.ConversationID = s.get(fConversationID)
	ev.AWUID = s.get(fAWUID)
	ev.Model = s.get(fModel)
	ev.Provider = s.get(fProvider)
	ev.Tool = s.get(fTool)
	ev.Outcome = s.get(fOutcome)
	ev.OutcomeType = s.get(fOutcomeType)
}

func (s *strs) get(f field) string {
	if s.first[f] < 0 {
		return ""
	}
	return s.all[s.offs[s.first[f]]:s.offs[s.last[f]+1]]
}

// limits are the size bounds of decoded events (Config.MaxTokensPerEvent,
// MaxIDBytes, MaxLabelBytes).
type limits struct {
	tokens     int64 // tokens; every count
	idBytes    int   // bytes; event_id, tenant_id, workcycle_id, agent_id, conversation_id, awu_id
	labelBytes int   // bytes; model, provider, tool, outcome, outcome_type
}

func newLimits(cfg Config) limits {
	return limits{tokens: cfg.MaxTokensPerEvent, idBytes: cfg.MaxIDBytes, labelBytes: cfg.MaxLabelBytes}
}

// boundedFields are the strings an event keeps, in the order their lengths
// are checked, and whether each is an id (max_id_bytes) or a label
// (max_label_bytes).
var boundedFields = [...]struct {
	f  field
	id bool
}{
	{fEventID, true}, {fTenantID, true}, {fWorkcycleID, true}, {fAgentID, true}, {fConversationID, true}, {fAWUID, true},
	{fModel, false}, {fProvider, false}, {fTool, false}, {fOutcome, false}, {fOutcomeType, false},
}

// checkLengths rejects the first string in boundedFields that is longer than
// its limit. The detail names the field and its length and quotes only a
// short prefix of the value.
func (l limits) checkLengths(s *strs) (Rejection, bool) {
	if s.total <= l.idBytes && s.total <= l.labelBytes {
		return Rejection{}, true // no string is longer than all of them together
	}
	for _, b := range boundedFields {
		if s.first[b.f] < 0 {
			continue
		}
		n := 0
		for i := s.first[b.f]; i <= s.last[b.f]; i++ {
			n += len(s.parts[i])
		}
		reason, key, max := ReasonIDTooLong, "max_id_bytes", l.idBytes
		if !b.id {
			reason, key, max = ReasonFieldTooLong, "max_label_bytes", l.labelBytes
		}
		if n > max {
			var prefix []byte
			for i := s.first[b.f]; i <= s.last[b.f] && len(prefix) <= clipBytes; i++ {
				prefix = append(prefix, s.parts[i]...)
			}
			return reject(reason, "field %s is %d bytes, more than %s %d: %q", fieldNames[b.f], n, key, max, clip(prefix)), false
		}
	}
	return Rejection{}, true
}

// buildEvent validates the fields of one v1 event and fills ev. Checks run in
// a fixed order, so a record breaking several rules always gets the same
// reason: identity fields first, then the type's own fields, then the
// lengths of the strings kept.
func buildEvent(raw *rawFields, env *envelope, b bounds, lim limits, ev *event.Event) (Rejection, bool) {
	s := newStrs()
	var rej Rejection
	var ok bool

	// type
	ev.Type = env.typ
	if ev.Type == event.TypeUnknown {
		var t []byte
		if t, rej, ok = str(raw[fType], fType, true); !ok {
			return rej, false
		}
		if ev.Type, ok = event.ParseType(string(t)); !ok {
			return reject(ReasonUnknownType, "unknown type %q; expected token_usage, tool_invocation or workcycle", clip(t)), false
		}
	}

	// event_id
	if env.id != nil {
		s.add(fEventID, env.source)
		s.append(fEventID, space)
		s.append(fEventID, env.id)
	} else {
		var id []byte
		if id, rej, ok = str(raw[fEventID], fEventID, true); !ok {
			return rej, false
		}
		s.add(fEventID, id)
	}

	// time
	tv := env.time
	if !env.haveTime {
		if tv, rej, ok = str(raw[fTime], fTime, true); !ok {
			return rej, false
		}
	}
	if ev.Time, ok = parseRFC3339(tv); !ok {
		return reject(ReasonBadTime, "field time %q is not an RFC 3339 date-time", clip(tv)), false
	}
	ev.Time = ev.Time.Truncate(TimePrecision)
	if rej, ok = b.check(ev.Time); !ok {
		return rej, false
	}

	// identity
	for _, f := range [...]struct {
		f        field
		required bool
	}{{fTenantID, true}, {fWorkcycleID, true}, {fAgentID, false}, {fConversationID, false}} {
		var v []byte
		if v, rej, ok = str(raw[f.f], f.f, f.required); !ok {
			return rej, false
		}
		s.add(f.f, v)
	}

	switch ev.Type {
	case event.TypeTokenUsage:
		if rej, ok = tokenUsage(raw, ev, &s, lim); !ok {
			return rej, false
		}
	case event.TypeToolInvocation:
		if rej, ok = toolInvocation(raw, ev, &s); !ok {
			return rej, false
		}
	case event.TypeWorkcycle:
		if rej, ok = workcycle(raw, ev, &s); !ok {
			return rej, false
		}
	}
	if rej, ok = lim.checkLengths(&s); !ok {
		return rej, false
	}
	s.copyOut(ev)
	return Rejection{}, true
}

var space = []byte{' '}

// awuAttempt reads the AWU id and attempt that token_usage and
// tool_invocation events share.
func awuAttempt(raw *rawFields, ev *event.Event, s *strs) (Rejection, bool) {
	awu, rej, ok := str(raw[fAWUID], fAWUID, true)
	if !ok {
		return rej, false
	}
	s.add(fAWUID, awu)
	if ev.Attempt, rej, ok = attempt(raw[fAttempt]); !ok {
		return rej, false
	}
	return Rejection{}, true
}

func tokenUsage(raw *rawFields, ev *event.Event, s *strs, lim limits) (Rejection, bool) {
	if rej, ok := awuAttempt(raw, ev, s); !ok {
		return rej, false
	}
	model, rej, ok := str(raw[fModel], fModel, true)
	if !ok {
		return rej, false
	}
	s.add(fModel, model)
	provider, rej, ok := str(raw[fProvider], fProvider, false)
	if !ok {
		return rej, false
	}
	s.add(fProvider, provider)
	for _, t := range [...]struct {
		f        field
		dst      *int64
		required bool
	}{
		{fInputTokens, &ev.InputTokens, true},
		{fOutputTokens, &ev.OutputTokens, true},
		{fCacheReadInputTokens, &ev.CacheReadInputTokens, false},
		{fCacheCreationInputTokens, &ev.CacheCreationInputTokens, false},
		{fReasoningTokens, &ev.ReasoningTokens, false},
	} {
		if *t.dst, rej, ok = tokens(raw[t.f], t.f, t.required, lim.tokens); !ok {
			return rej, false
		}
	}
	return checkTokens(ev)
}

// checkTokens enforces the rules between token counts that a schema cannot
// express. The sum is computed without overflow (whatever the counts, even
// though max_tokens_per_event already rules it out).
func checkTokens(ev *event.Event) (Rejection, bool) {
	if ev.CacheReadInputTokens > ev.InputTokens || ev.CacheCreationInputTokens > ev.InputTokens-ev.CacheReadInputTokens {
		return reject(ReasonCacheInput, "cache_read_input_tokens (%d) + cache_creation_input_tokens (%d) exceed input_tokens (%d)",
			ev.CacheReadInputTokens, ev.CacheCreationInputTokens, ev.InputTokens), false
	}
	if ev.ReasoningTokens > ev.OutputTokens {
		return reject(ReasonReasoningOut, "reasoning_tokens (%d) exceed output_tokens (%d)", ev.ReasoningTokens, ev.OutputTokens), false
	}
	return Rejection{}, true
}

func toolInvocation(raw *rawFields, ev *event.Event, s *strs) (Rejection, bool) {
	if rej, ok := awuAttempt(raw, ev, s); !ok {
		return rej, false
	}
	tool, rej, ok := str(raw[fTool], fTool, true)
	if !ok {
		return rej, false
	}
	s.add(fTool, tool)
	ch, rej, ok := str(raw[fChannel], fChannel, false)
	if !ok {
		return rej, false
	}
	// "" is not a channel: absent or null means text.
	if ev.Channel, ok = event.ParseChannel(string(ch)); !ok || (ch != nil && len(ch) == 0) {
		return reject(ReasonBadChannel, "channel %q is not text or voice", clip(ch)), false
	}
	st, rej, ok := str(raw[fStatus], fStatus, true)
	if !ok {
		return rej, false
	}
	if ev.Status, ok = event.ParseToolStatus(string(st)); !ok {
		return reject(ReasonBadStatus, "status %q is not succeeded, failed, validated or rolled_back", clip(st)), false
	}
	by, rej, ok := str(raw[fBy], fBy, false)
	if !ok || by == nil {
		return rej, ok
	}
	if ev.Status != event.StatusValidated && ev.Status != event.StatusRolledBack {
		return reject(ReasonBadBy, "by is for validated and rolled_back reports, not %s", ev.Status), false
	}
	if ev.By, ok = event.ParseBy(string(by)); !ok {
		return reject(ReasonBadBy, "by %q is not human or system", clip(by)), false
	}
	return Rejection{}, true
}

func workcycle(raw *rawFields, ev *event.Event, s *strs) (Rejection, bool) {
	ph, rej, ok := str(raw[fPhase], fPhase, false)
	if !ok {
		return rej, false
	}
	if ph != nil {
		if ev.Phase, ok = event.ParsePhase(string(ph)); !ok {
			return reject(ReasonBadPhase, "phase %q is not started or completed", clip(ph)), false
		}
	}
	outcome, rej, ok := str(raw[fOutcome], fOutcome, ev.Phase == event.PhaseCompleted)
	if !ok {
		if rej.Reason == ReasonMissingField {
			rej.Detail += " (required when phase is completed)"
		}
		return rej, false
	}
	s.add(fOutcome, outcome)
	ot, rej, ok := str(raw[fOutcomeType], fOutcomeType, false)
	if !ok {
		return rej, false
	}
	s.add(fOutcomeType, ot)
	return outcomeFields(raw, ev)
}

// outcomeFields reads the optional fields of a completed workcycle event:
// human_minutes, csat and resolved_by. On other workcycle events they are
// refused: the engine reads them from the completed event only.
func outcomeFields(raw *rawFields, ev *event.Event) (Rejection, bool) {
	for _, f := range [...]field{fHumanMinutes, fCSAT, fResolvedBy} {
		if !raw[f].absent() && ev.Phase != event.PhaseCompleted {
			return reject(reasonOf(f), "%s is for completed workcycle events", fieldNames[f]), false
		}
	}
	if v := raw[fHumanMinutes]; !v.absent() {
		if v.kind != jNumber {
			return reject(ReasonBadHumanMinutes, "human_minutes must be a number, got %s", v.kind), false
		}
		// The text and the exponent are bounded before any arithmetic:
		// 1e-2000000000 would make Truncate rescale by 10^2000000000.
		var minutes, millis decimal.Decimal
		err := errTooLong
		if len(v.raw) <= maxHumanMinutesText {
			minutes, err = decimal.NewFromString(string(v.raw))
		}
		if err == nil && (minutes.Exponent() < -maxMinutesExponent || minutes.Exponent() > maxMinutesExponent) {
			err = errTooLong
		}
		if err == nil {
			millis = minutes.Mul(millisPerMinute)
		}
		if err != nil || minutes.Sign() < 0 || !minutes.Equal(minutes.Truncate(3)) || millis.GreaterThan(maxHumanMillis) {
			return reject(ReasonBadHumanMinutes, "human_minutes must be between 0 and 1000000 with at most 3 decimals, got %s", clip(v.raw)), false
		}
		ev.HumanMillis = millis.IntPart()
	}
	if v := raw[fCSAT]; !v.absent() {
		n, st := parseInt(v.raw)
		if v.kind != jNumber || st != intOK || n < 1 || n > 5 {
			return reject(ReasonBadCSAT, "csat must be an integer from 1 to 5, got %s", clip(v.raw)), false
		}
		ev.CSAT = uint8(n)
	}
	rb, rej, ok := str(raw[fResolvedBy], fResolvedBy, false)
	if !ok || rb == nil {
		if !ok {
			rej.Reason = ReasonBadResolvedBy
		}
		return rej, ok
	}
	if ev.ResolvedBy, ok = event.ParseResolvedBy(string(rb)); !ok {
		return reject(ReasonBadResolvedBy, "resolved_by %q is not agent or human", clip(rb)), false
	}
	return Rejection{}, true
}

var (
	millisPerMinute = decimal.NewFromInt(60_000)
	maxHumanMillis  = decimal.NewFromInt(event.MaxHumanMillis)
	errTooLong      = errors.New("too long")
)

// Bounds of human_minutes' text before it is parsed: every valid value
// fits in 32 characters, and its exponent within ±12.
const (
	maxHumanMinutesText = 32
	maxMinutesExponent  = 12
)

// reasonOf is the rejection reason of an outcome field.
func reasonOf(f field) Reason {
	switch f {
	case fHumanMinutes:
		return ReasonBadHumanMinutes
	case fCSAT:
		return ReasonBadCSAT
	}
	return ReasonBadResolvedBy
}

// str reads a string field. Null counts as absent; so does "" for a required
// field, which is reported as missing.
func str(v jvalue, f field, required bool) ([]byte, Rejection, bool) {
	if v.absent() {
		if required {
			return nil, reject(ReasonMissingField, "missing field %s", fieldNames[f]), false
		}
		return nil, Rejection{}, true
	}
	if v.kind != jString {
		return nil, reject(ReasonWrongType, "field %s must be a string, got %s", fieldNames[f], v.kind), false
	}
	b := v.raw
	if required && len(b) == 0 {
		return nil, reject(ReasonMissingField, "field %s is empty", fieldNames[f]), false
	}
	return b, Rejection{}, true
}

// tokens reads a token count: a JSON number whose decimal text is an exact
// integer (1e3 and 100.0 are accepted, as JSON Schema's integer type does)
// in [0, max].
func tokens(v jvalue, f field, required bool, max int64) (int64, Rejection, bool) {
	if v.absent() {
		if required {
			return 0, reject(ReasonMissingField, "missing field %s", fieldNames[f]), false
		}
		return 0, Rejection{}, true
	}
	if v.kind != jNumber {
		return 0, reject(ReasonWrongType, "field %s must be an integer, got %s", fieldNames[f], v.kind), false
	}
	n, st := parseInt(v.raw)
	if st != intOK {
		return 0, badInteger("field", fieldNames[f], st, clip(v.raw)), false
	}
	return checkCount("field", fieldNames[f], n, max)
}

// badInteger explains why a field or attribute (what) named name is not an
// int64.
func badInteger(what, name string, st intStatus, got string) Rejection {
	if st == intRange {
		return reject(ReasonBadInteger, "%s %s must be an integer between -2^63 and 2^63-1, got %s", what, name, got)
	}
	return reject(ReasonBadInteger, "%s %s must be an exact integer, got %s", what, name, got)
}

// checkCount applies the rules every token count shares: not negative, and
// at most max_tokens_per_event. what and name name the count in details.
func checkCount(what, name string, n, max int64) (int64, Rejection, bool) {
	if n < 0 || n > max {
		return 0, countRejection(what, name, n, max), false
	}
	return n, Rejection{}, true // small enough to inline on the hot path
}

func countRejection(what, name string, n, max int64) Rejection {
	if n < 0 {
		return reject(ReasonNegative, "%s %s is negative: %d", what, name, n)
	}
	return reject(ReasonTokensBound, "%s %s is %d, more than max_tokens_per_event %d", what, name, n, max)
}

// attempt reads the attempt field; absent or null means 1.
func attempt(v jvalue) (int32, Rejection, bool) {
	if v.absent() {
		return 1, Rejection{}, true
	}
	if v.kind == jNumber {
		if n, st := parseInt(v.raw); st == intOK && n >= 1 && n <= math.MaxInt32 {
			return int32(n), Rejection{}, true
		}
	}
	got := clip(v.raw)
	if v.kind != jNumber {
		got = "a " + v.kind.String()
	}
	return 0, reject(ReasonBadAttempt, "field attempt must be an integer between 1 and 2147483647, got %s", got), false
}

// clipBytes is how much of a value a rejection detail quotes.
const clipBytes = 64

// clip shortens a value quoted in a rejection detail to clipBytes.
func clip(b []byte) string {
	max := clipBytes
	if len(b) > max {
		for max > 0 && !utf8.RuneStart(b[max]) {
			max--
		}
		return string(b[:max]) + "..."
	}
	return string(b)
}

// eventTime converts Unix nanoseconds, as OTLP carries them, to a UTC time.
func eventTime(nanos uint64) (time.Time, bool) {
	if nanos == 0 || nanos > math.MaxInt64 {
		return time.Time{}, false
	}
	return time.Unix(0, int64(nanos)).UTC().Truncate(TimePrecision), true
}
