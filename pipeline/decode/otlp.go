package decode

import (
	"encoding/binary"
	"encoding/hex"
	"math"
	"strconv"

	"github.com/awumeter/awumeter/pipeline/event"
)

// Semantic-convention attribute names the OTLP decoders read.
const (
	attrOperationName   = "gen_ai.operation.name"
	attrProviderName    = "gen_ai.provider.name"
	attrSystem          = "gen_ai.system" // deprecated for gen_ai.provider.name
	attrRequestModel    = "gen_ai.request.model"
	attrResponseModel   = "gen_ai.response.model"
	attrInputTokens     = "gen_ai.usage.input_tokens"
	attrOutputTokens    = "gen_ai.usage.output_tokens"
	attrPromptTokens    = "gen_ai.usage.prompt_tokens"     // deprecated for input_tokens
	attrCompletionToks  = "gen_ai.usage.completion_tokens" // deprecated for output_tokens
	attrCacheRead       = "gen_ai.usage.cache_read.input_tokens"
	attrCacheCreation   = "gen_ai.usage.cache_creation.input_tokens"
	attrReasoning       = "gen_ai.usage.reasoning.output_tokens"
	attrToolName        = "gen_ai.tool.name"
	attrToolCallID      = "gen_ai.tool.call.id"
	attrAgentID         = "gen_ai.agent.id"
	attrAgentName       = "gen_ai.agent.name"
	attrConversationID  = "gen_ai.conversation.id"
	attrErrorType       = "error.type"
	attrChannel         = "awu.channel"
	statusCodeError     = 2 // STATUS_CODE_ERROR
	opChat              = "chat"
	opGenerateContent   = "generate_content"
	opTextCompletion    = "text_completion"
	opExecuteTool       = "execute_tool"
	opInvokeAgent       = "invoke_agent"
	rejectedSpanIDLimit = 16 // hex digits of a span id quoted in details
)

type attrKind uint8

const (
	kindNone attrKind = iota
	kindString
	kindInt
	kindDouble
	kindBool
	kindOther // bytes, arrays, key-value lists: never meaningful here
)

// attr is one span or resource attribute, in a form both OTLP encodings
// produce. The strings point into the parser's buffer (otlp_json) or the
// record (otlp_proto), and are copied out of what an event keeps.
type attr struct {
	key  string
	kind attrKind
	s    string
	// i is the value of an int or double attribute when ist is intOK: an
	// exact integer within int64. Otherwise ist says why it is not one.
	i   int64
	ist intStatus
}

type attrs []attr

// Slots of the attributes the mapper reads: the semantic-convention names
// above, then the four whose names are configured (OTLPConfig).
type attrSlot uint8

const (
	slotOperation attrSlot = iota
	slotProvider
	slotSystem
	slotRequestModel
	slotResponseModel
	slotInput
	slotOutput
	slotPrompt
	slotCompletion
	slotCacheRead
	slotCacheCreation
	slotReasoning
	slotToolName
	slotToolCallID
	slotAgentID
	slotAgentName
	slotConversationID
	slotErrorType
	slotChannel
	slotTenant // configured names from here on
	slotWorkcycle
	slotAWU
	slotAttempt
	numSlots
)

const numFixedSlots = slotTenant

// fixedSlot returns the slot of a semantic-convention attribute name.
func fixedSlot(key string) (attrSlot, bool) {
	switch key { // compiled to a search, without allocating
	case attrOperationName:
		return slotOperation, true
	case attrProviderName:
		return slotProvider, true
	case attrSystem:
		return slotSystem, true
	case attrRequestModel:
		return slotRequestModel, true
	case attrResponseModel:
		return slotResponseModel, true
	case attrInputTokens:
		return slotInput, true
	case attrOutputTokens:
		return slotOutput, true
	case attrPromptTokens:
		return slotPrompt, true
	case attrCompletionToks:
		return slotCompletion, true
	case attrCacheRead:
		return slotCacheRead, true
	case attrCacheCreation:
		return slotCacheCreation, true
	case attrReasoning:
		return slotReasoning, true
	case attrToolName:
		return slotToolName, true
	case attrToolCallID:
		return slotToolCallID, true
	case attrAgentID:
		return slotAgentID, true
	case attrAgentName:
		return slotAgentName, true
	case attrConversationID:
		return slotConversationID, true
	case attrErrorType:
		return slotErrorType, true
	case attrChannel:
		return slotChannel, true
	}
	return 0, false
}

// attrIndex locates, for each slot, the last attribute with its name (OTLP
// forbids repeated keys; a later one wins if a producer repeats them
// anyway): 1 + its position in the attrs, 0 for none. Building it is one
// pass over the attributes and every lookup after that is O(1), so a
// record costs time linear in its size: a resource's attributes are indexed
// once, not once per span.
type attrIndex [numSlots]int32

// index builds the attrIndex of a.
func (m *otlpMapper) index(a attrs) attrIndex {
	var ix attrIndex
	cfg := &m.cfg
	for i := range a {
		k := a[i].key
		p := int32(i + 1)
		if s, ok := fixedSlot(k); ok {
			ix[s] = p
		}
		// A configured name may equal a fixed one (e.g. awu_attribute:
		// gen_ai.tool.call.id), so these are checked as well.
		if k == cfg.TenantAttribute {
			ix[slotTenant] = p
		}
		if k == cfg.WorkcycleAttribute {
			ix[slotWorkcycle] = p
		}
		if k == cfg.AWUAttribute {
			ix[slotAWU] = p
		}
		if k == cfg.AttemptAttribute {
			ix[slotAttempt] = p
		}
	}
	return ix
}

// spanView is what the mapping needs from one span.
type spanView struct {
	traceID, spanID []byte
	endNanos        uint64
	statusCode      int32
	attrs, res      attrs
	ix              attrIndex  // of attrs
	resIx           *attrIndex // of res, shared by the resource's spans
	// hex, if not nil, is where fill writes the ids in hex. A buffer of
	// fill's own would move to the heap, one allocation per span, since
	// strs keeps slices of it.
	hex *hexIDs
}

// hexIDs holds a span's trace and span ids in hex.
type hexIDs struct {
	trace [32]byte
	span  [16]byte
}

// hexID writes id in lowercase hex to dst, which is twice as long, as
// hex.Encode does, but four bytes at a time with arithmetic on a uint64
// (hexQuad) instead of a table lookup per digit: hex.Encode was a tenth of
// the mapper's instructions. Ids are 8 or 16 bytes; a tail shorter than
// four bytes is left to hex.Encode.
func hexID(dst, id []byte) {
	for len(id) >= 4 {
		binary.BigEndian.PutUint64(dst, hexQuad(binary.BigEndian.Uint32(id)))
		dst, id = dst[8:], id[4:]
	}
	hex.Encode(dst, id)
}

// hexQuad returns the eight hex digits of v, first digit in the top byte.
func hexQuad(v uint32) uint64 {
	x := uint64(v)
	// Give each byte of v a 16-bit lane, then each nibble a byte: the high
	// nibble in the upper byte of its lane.
	x = (x | x<<16) & 0x0000ffff0000ffff
	x = (x | x<<8) & 0x00ff00ff00ff00ff
	x = (x | x<<4) & 0x0f0f0f0f0f0f0f0f
	// Nibble n becomes '0'+n, plus 'a'-'0'-10 = 39 when n > 9 (when n+6
	// carries into bit 4). No byte carries into the next.
	letters := (x + 0x0606060606060606) >> 4 & 0x0101010101010101
	return x + 0x3030303030303030 + letters*39
}

// get returns the span's attribute in slot s.
func (sv *spanView) get(s attrSlot) (attr, bool) {
	if p := sv.ix[s]; p > 0 {
		return sv.attrs[p-1], true
	}
	return attr{}, false
}

// getRes returns the span's attribute in slot s, else its resource's.
func (sv *spanView) getRes(s attrSlot) (attr, bool) {
	if a, ok := sv.get(s); ok {
		return a, true
	}
	if sv.resIx != nil {
		if p := sv.resIx[s]; p > 0 {
			return sv.res[p-1], true
		}
	}
	return attr{}, false
}

// otlpMapper turns gen-ai spans into v1 events; both OTLP decoders share it.
type otlpMapper struct {
	maxBytes int
	bounds   bounds
	limits   limits
	cfg      OTLPConfig
}

// slotKey is the attribute name of slot s, for rejection details.
func (m *otlpMapper) slotKey(s attrSlot) string {
	switch s {
	case slotTenant:
		return m.cfg.TenantAttribute
	case slotWorkcycle:
		return m.cfg.WorkcycleAttribute
	case slotAWU:
		return m.cfg.AWUAttribute
	case slotAttempt:
		return m.cfg.AttemptAttribute
	}
	return fixedSlotKeys[s]
}

var fixedSlotKeys = [numFixedSlots]string{
	attrOperationName, attrProviderName, attrSystem, attrRequestModel, attrResponseModel,
	attrInputTokens, attrOutputTokens, attrPromptTokens, attrCompletionToks, attrCacheRead,
	attrCacheCreation, attrReasoning, attrToolName, attrToolCallID, attrAgentID, attrAgentName,
	attrConversationID, attrErrorType, attrChannel,
}

// str looks an identity attribute up on the span, then on its resource.
// Only string values count; an empty string counts as absent.
func (sv *spanView) str(s attrSlot) string {
	if a, ok := sv.get(s); ok && a.kind == kindString && a.s != "" {
		return a.s
	}
	if sv.resIx != nil {
		if p := sv.resIx[s]; p > 0 {
			if a := sv.res[p-1]; a.kind == kindString && a.s != "" {
				return a.s
			}
		}
	}
	return ""
}

// count reads a token count attribute of the span: an int, an integral
// double or a decimal string, as SDKs differ; at most max_tokens_per_event.
func (m *otlpMapper) count(sv *spanView, s attrSlot) (int64, bool, Rejection) {
	a, ok := sv.get(s)
	if !ok {
		return 0, false, Rejection{}
	}
	n, st := attrInt(a)
	if st != intOK {
		return 0, false, badInteger("attribute", m.slotKey(s), st, attrText(a))
	}
	n, rej, ok := checkCount("attribute", m.slotKey(s), n, m.limits.tokens)
	return n, ok, rej
}

// span maps one span, appending its event to dst or recording why not.
func (m *otlpMapper) span(sv *spanView, pos event.Position, dst []event.Event, res *Result) []event.Event {
	sv.ix = m.index(sv.attrs)
	op, _ := sv.get(slotOperation)
	if op.kind != kindString || op.s == "" {
		res.Ignored.NotGenAI++
		return dst
	}
	var typ event.Type
	switch op.s {
	case opChat, opGenerateContent, opTextCompletion:
		typ = event.TypeTokenUsage
	case opExecuteTool:
		typ = event.TypeToolInvocation
	case opInvokeAgent:
		res.Ignored.InvokeAgent++
		return dst
	default:
		res.Ignored.OtherOperation++
		return dst
	}
	var ev event.Event
	ev.Type = typ
	if rej, ok := m.fill(sv, &ev, res); !ok {
		if rej.Reason != "" {
			rej.Detail = "span " + spanLabel(sv.spanID) + ": " + rej.Detail
			res.Rejections = append(res.Rejections, rej)
		}
		return dst
	}
	ev.Source = pos
	return append(dst, ev)
}

func spanLabel(id []byte) string {
	if len(id) == 0 {
		return "(no span id)"
	}
	s := hex.EncodeToString(id)
	if len(s) > rejectedSpanIDLimit {
		s = s[:rejectedSpanIDLimit] + "..."
	}
	return s
}

// fill maps a model-call or tool span. It returns ok=false with a zero
// Rejection for a span that is ignored rather than rejected.
func (m *otlpMapper) fill(sv *spanView, ev *event.Event, res *Result) (Rejection, bool) {
	if !validID(sv.traceID, 16) {
		return reject(ReasonBadID, "trace id must be 16 bytes, not all zero"), false
	}
	if !validID(sv.spanID, 8) {
		return reject(ReasonBadID, "span id must be 8 bytes, not all zero"), false
	}
	ids := sv.hex
	if ids == nil {
		ids = new(hexIDs)
	}
	hexID(ids.trace[:], sv.traceID)
	hexID(ids.span[:], sv.spanID)
	traceHex, spanHex := ids.trace[:], ids.span[:]

	var ok bool
	if ev.Time, ok = eventTime(sv.endNanos); !ok {
		return reject(ReasonMissingField, "missing end_time_unix_nano"), false
	}
	if rej, ok := m.bounds.check(ev.Time); !ok {
		return rej, false
	}

	s := newStrs()
	s.add(fEventID, traceHex)
	s.append(fEventID, dash)
	s.append(fEventID, spanHex)

	tenant := sv.str(slotTenant)
	if tenant == "" {
		tenant = m.cfg.DefaultTenantID
	}
	if tenant == "" {
		return reject(ReasonMissingField, "missing attribute %s on the span or its resource", m.cfg.TenantAttribute), false
	}
	s.add(fTenantID, s2b(tenant))

	conversation := sv.str(slotConversationID)
	s.add(fConversationID, s2b(conversation))
	if wc := sv.str(slotWorkcycle); wc != "" {
		s.add(fWorkcycleID, s2b(wc))
	} else if conversation != "" {
		s.add(fWorkcycleID, s2b(conversation))
	} else {
		s.add(fWorkcycleID, traceHex)
	}

	agent := sv.str(slotAgentID)
	if agent == "" {
		agent = sv.str(slotAgentName)
	}
	s.add(fAgentID, s2b(agent))

	if awu := sv.str(slotAWU); awu != "" {
		s.add(fAWUID, s2b(awu))
	} else if call := sv.str(slotToolCallID); call != "" {
		s.add(fAWUID, s2b(call))
	} else {
		s.add(fAWUID, spanHex)
	}

	ev.Attempt = 1
	if a, ok := sv.getRes(slotAttempt); ok {
		n, st := attrInt(a)
		if st != intOK || n < 1 || n > math.MaxInt32 {
			return reject(ReasonBadAttempt, "attribute %s must be an integer between 1 and 2147483647", m.cfg.AttemptAttribute), false
		}
		ev.Attempt = int32(n)
	}

	failed := sv.statusCode == statusCodeError
	if a, ok := sv.get(slotErrorType); ok && (a.kind != kindString || a.s != "") {
		failed = true
	}

	if ev.Type == event.TypeToolInvocation {
		tool := sv.str(slotToolName)
		if tool == "" {
			return reject(ReasonMissingField, "missing attribute %s", attrToolName), false
		}
		s.add(fTool, s2b(tool))
		if ch := sv.str(slotChannel); ch != "" {
			if ev.Channel, ok = event.ParseChannel(ch); !ok {
				return reject(ReasonBadChannel, "attribute %s %q is not text or voice", attrChannel, clip(s2b(ch))), false
			}
		}
		ev.Status = event.StatusSucceeded
		if failed {
			ev.Status = event.StatusFailed
		}
		if rej, ok := m.limits.checkLengths(&s); !ok {
			return rej, false
		}
		s.copyOut(ev)
		return Rejection{}, true
	}

	// Model call.
	in, haveIn, rej := m.firstCount(sv, slotInput, slotPrompt)
	if rej.Reason != "" {
		return rej, false
	}
	out, haveOut, rej := m.firstCount(sv, slotOutput, slotCompletion)
	if rej.Reason != "" {
		return rej, false
	}
	if !haveIn && !haveOut && failed {
		res.Ignored.FailedModelCall++ // nothing was billed for it
		return Rejection{}, false
	}
	if !haveIn {
		return reject(ReasonMissingField, "missing attribute %s", attrInputTokens), false
	}
	if !haveOut {
		return reject(ReasonMissingField, "missing attribute %s", attrOutputTokens), false
	}
	ev.InputTokens, ev.OutputTokens = in, out
	for _, c := range [...]struct {
		slot attrSlot
		dst  *int64
	}{
		{slotCacheRead, &ev.CacheReadInputTokens},
		{slotCacheCreation, &ev.CacheCreationInputTokens},
		{slotReasoning, &ev.ReasoningTokens},
	} {
		n, _, rej := m.count(sv, c.slot)
		if rej.Reason != "" {
			return rej, false
		}
		*c.dst = n
	}
	if rej, ok := checkTokens(ev); !ok {
		return rej, false
	}
	model := sv.str(slotResponseModel)
	if model == "" {
		model = sv.str(slotRequestModel)
	}
	if model == "" {
		return reject(ReasonMissingField, "missing attribute %s or %s", attrResponseModel, attrRequestModel), false
	}
	s.add(fModel, s2b(model))
	provider := sv.str(slotProvider)
	if provider == "" {
		provider = sv.str(slotSystem)
	}
	s.add(fProvider, s2b(provider))
	if rej, ok := m.limits.checkLengths(&s); !ok {
		return rej, false
	}
	s.copyOut(ev)
	return Rejection{}, true
}

// firstCount reads the current attribute, falling back to its deprecated name.
func (m *otlpMapper) firstCount(sv *spanView, current, deprecated attrSlot) (int64, bool, Rejection) {
	if n, ok, rej := m.count(sv, current); ok || rej.Reason != "" {
		return n, ok, rej
	}
	return m.count(sv, deprecated)
}

// attrInt reads an integer attribute: an int, a double with an integral
// value, or a string of decimal text that is an exact integer (parseInt).
func attrInt(a attr) (int64, intStatus) {
	switch a.kind {
	case kindInt, kindDouble:
		return a.i, a.ist
	case kindString:
		return parseInt(s2b(a.s))
	}
	return 0, intSyntax
}

// attrText describes a non-integer attribute value in a rejection detail.
func attrText(a attr) string {
	switch a.kind {
	case kindString:
		return strconv.Quote(clip(s2b(a.s)))
	case kindInt, kindDouble:
		if a.ist == intRange {
			return "a number beyond int64"
		}
		return "a number that is not an exact integer"
	case kindBool:
		return "a boolean"
	}
	return "a value of another type"
}

// doubleAttr sets a's value from a binary double: an integer when it is
// integral and within int64.
func doubleAttr(a *attr, f float64) {
	a.kind = kindDouble
	switch {
	case f != math.Trunc(f): // fractions, NaN and infinities
		a.ist = intFraction
	case f >= 1<<63 || f < -(1<<63):
		a.ist = intRange
	default:
		a.i, a.ist = int64(f), intOK
	}
}

func validID(id []byte, n int) bool {
	if len(id) != n {
		return false
	}
	for _, b := range id {
		if b != 0 {
			return true
		}
	}
	return false
}

var dash = []byte{'-'}
