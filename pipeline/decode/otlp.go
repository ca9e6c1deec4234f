package decode

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/awumeter/awumeter/pipeline/event"
)

// Semantic-convention attribute names the OTLP decoders read.
const (
	attrOperationName  = "gen_ai.operation.name"
	attrProviderName   = "gen_ai.provider.name"
	attrSystem         = "gen_ai.system" // deprecated for gen_ai.provider.name
	attrRequestModel   = "gen_ai.request.model"
	attrResponseModel  = "gen_ai.response.model"
	attrInputTokens    = "gen_ai.usage.input_tokens"
	attrOutputTokens   = "gen_ai.usage.output_tokens"
	attrPromptTokens   = "gen_ai.usage.prompt_tokens"     // deprecated for input_tokens
	attrCompletionToks = "gen_ai.usage.completion_tokens" // deprecated for output_tokens
	attrCacheRead      = "gen_ai.usage.cache_read.input_tokens"
	attrCacheCreation  = "gen_ai.usage.cache_creation.input_tokens"
	attrReasoning      = "gen_ai.usage.reasoning.output_tokens"
	attrToolName       = "gen_ai.tool.name"
	attrToolCallID     = "gen_ai.tool.call.id"
	attrAgentID        = "gen_ai.agent.id"
	attrAgentName      = "gen_ai.agent.name"
	attrConversationID = "gen_ai.conversation.id"
	attrErrorType      = "error.type"
	attrChannel        = "awu.channel"

	// Variant names of the same counts, seen from instrumentations.
	attrCacheWrite        = "gen_ai.usage.cache_write.input_tokens"
	attrCacheReadFlat     = "gen_ai.usage.cache_read_input_tokens"     // Anthropic's usage field names
	attrCacheCreationFlat = "gen_ai.usage.cache_creation_input_tokens" // Anthropic's usage field names
	attrInputCached       = "gen_ai.usage.input_tokens.cached"
	attrInputCacheWrite   = "gen_ai.usage.input_tokens.cache_write"
	attrReasoningTokens   = "gen_ai.usage.reasoning_tokens"
	attrGenAITotal        = "gen_ai.usage.total_tokens"

	// OpenLLMetry.
	attrLLMRequestType = "llm.request.type"
	attrLLMUsageTotal  = "llm.usage.total_tokens"

	// OpenInference.
	attrOISpanKind       = "openinference.span.kind"
	attrOIModel          = "llm.model_name"
	attrOIProvider       = "llm.provider"
	attrOISystem         = "llm.system"
	attrOIPrompt         = "llm.token_count.prompt"
	attrOICompletion     = "llm.token_count.completion"
	attrOITotal          = "llm.token_count.total"
	attrOICacheRead      = "llm.token_count.prompt_details.cache_read"
	attrOICacheWrite     = "llm.token_count.prompt_details.cache_write"
	attrOIReasoning      = "llm.token_count.completion_details.reasoning"
	attrOIEmbeddingModel = "embedding.model_name"
	attrOIToolName       = "tool.name"
	attrOIToolCallID     = "tool_call.id"
	attrSessionID        = "session.id"
	statusCodeError      = 2  // STATUS_CODE_ERROR
	rejectedSpanIDLimit  = 16 // hex digits of a span id quoted in details
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
	slotCacheWrite
	slotCacheReadFlat
	slotCacheCreationFlat
	slotInputCached
	slotInputCacheWrite
	slotReasoningTokens
	slotGenAITotal
	slotLLMRequestType
	slotLLMUsageTotal
	slotOISpanKind
	slotOIModel
	slotOIProvider
	slotOISystem
	slotOIPrompt
	slotOICompletion
	slotOITotal
	slotOICacheRead
	slotOICacheWrite
	slotOIReasoning
	slotOIEmbeddingModel
	slotOIToolName
	slotOIToolCallID
	slotSessionID
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
	case attrCacheWrite:
		return slotCacheWrite, true
	case attrCacheReadFlat:
		return slotCacheReadFlat, true
	case attrCacheCreationFlat:
		return slotCacheCreationFlat, true
	case attrInputCached:
		return slotInputCached, true
	case attrInputCacheWrite:
		return slotInputCacheWrite, true
	case attrReasoningTokens:
		return slotReasoningTokens, true
	case attrGenAITotal:
		return slotGenAITotal, true
	case attrLLMRequestType:
		return slotLLMRequestType, true
	case attrLLMUsageTotal:
		return slotLLMUsageTotal, true
	case attrOISpanKind:
		return slotOISpanKind, true
	case attrOIModel:
		return slotOIModel, true
	case attrOIProvider:
		return slotOIProvider, true
	case attrOISystem:
		return slotOISystem, true
	case attrOIPrompt:
		return slotOIPrompt, true
	case attrOICompletion:
		return slotOICompletion, true
	case attrOITotal:
		return slotOITotal, true
	case attrOICacheRead:
		return slotOICacheRead, true
	case attrOICacheWrite:
		return slotOICacheWrite, true
	case attrOIReasoning:
		return slotOIReasoning, true
	case attrOIEmbeddingModel:
		return slotOIEmbeddingModel, true
	case attrOIToolName:
		return slotOIToolName, true
	case attrOIToolCallID:
		return slotOIToolCallID, true
	case attrSessionID:
		return slotSessionID, true
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
	profiles []*profile // the configured conventions, in order
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
	attrCacheWrite, attrCacheReadFlat, attrCacheCreationFlat, attrInputCached, attrInputCacheWrite,
	attrReasoningTokens, attrGenAITotal, attrLLMRequestType, attrLLMUsageTotal,
	attrOISpanKind, attrOIModel, attrOIProvider, attrOISystem, attrOIPrompt, attrOICompletion, attrOITotal,
	attrOICacheRead, attrOICacheWrite, attrOIReasoning, attrOIEmbeddingModel, attrOIToolName, attrOIToolCallID,
	attrSessionID,
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
//
// The span is read with the first configured convention whose operation
// attribute it has, else the first whose token counts it has. A model
// call, an embeddings call or a tool call becomes an event. A span whose
// operation is unknown or missing, or is defined but not a paid call, is
// still a model call when it has token counts and a model; with token
// counts and no model it is rejected (usage_without_operation), and
// without token counts it is ignored. Spans whose totals are those of
// their children (invoke_agent, AGENT, CHAIN) are ignored.
func (m *otlpMapper) span(sv *spanView, pos event.Position, dst []event.Event, res *Result) []event.Event {
	sv.ix = m.index(sv.attrs)
	p, op := m.profileOf(sv)
	if p == nil {
		res.Ignored.NotGenAI++
		return dst
	}
	class := opUnknown
	if op != "" {
		class = p.classify(op)
	}
	var ev event.Event
	switch class {
	case opModelCall, opEmbeddings:
		ev.Type = event.TypeTokenUsage
	case opTool:
		ev.Type = event.TypeToolInvocation
	case opAggregate:
		res.Ignored.InvokeAgent++
		return dst
	default:
		if !p.hasUsage(sv) {
			// The operation came from one convention, the counts may come
			// from another.
			q := m.usageProfile(sv)
			if q == nil {
				if op == "" {
					res.Ignored.NotGenAI++
				} else {
					res.Ignored.OtherOperation++
				}
				return dst
			}
			p = q
		}
		if sv.firstStr(p.model) == "" {
			what := "no operation attribute " + m.slotKey(p.operation)
			if op != "" {
				what = fmt.Sprintf("operation %s %q", m.slotKey(p.operation), clip(s2b(op)))
			}
			res.Rejections = append(res.Rejections, reject(ReasonUsageWithoutOperation,
				"span %s: token counts (%s convention) with %s and no model to price them by", spanLabel(sv.spanID), p.name, what))
			return dst
		}
		ev.Type = event.TypeTokenUsage
	}
	if rej, ok := m.fill(sv, p, class, &ev, res); !ok {
		if rej.Reason != "" {
			rej.Detail = "span " + spanLabel(sv.spanID) + ": " + rej.Detail
			res.Rejections = append(res.Rejections, rej)
		}
		return dst
	}
	ev.Source = pos
	return append(dst, ev)
}

// profileOf picks the convention to read the span with, and its operation
// ("" when it has none): the first with its operation attribute and token
// counts, else the first with its operation attribute, else the first with
// token counts.
func (m *otlpMapper) profileOf(sv *spanView) (*profile, string) {
	var first *profile
	var firstOp string
	for _, p := range m.profiles {
		if a, ok := sv.get(p.operation); ok && a.kind == kindString && a.s != "" {
			if p.hasUsage(sv) {
				return p, a.s
			}
			if first == nil {
				first, firstOp = p, a.s
			}
		}
	}
	if first != nil {
		return first, firstOp
	}
	return m.usageProfile(sv), ""
}

// usageProfile is the first convention whose token counts the span has.
func (m *otlpMapper) usageProfile(sv *spanView) *profile {
	for _, p := range m.profiles {
		if p.hasUsage(sv) {
			return p
		}
	}
	return nil
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

// fill maps a model-call or tool span read with convention p; class is
// its operation's. It returns ok=false with a zero Rejection for a span
// that is ignored rather than rejected.
func (m *otlpMapper) fill(sv *spanView, p *profile, class opClass, ev *event.Event, res *Result) (Rejection, bool) {
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
	if conversation == "" {
		conversation = sv.firstStr(p.conversation)
	}
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
	} else if call := sv.firstStr(p.toolCallID); call != "" {
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
		tool := sv.firstStr(p.tool)
		if tool == "" {
			return reject(ReasonMissingField, "missing attribute %s", m.names(p.tool)), false
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

	// Model call, embeddings, or token counts under another operation.
	in, haveIn, rej := m.firstCount(sv, p.input)
	if rej.Reason != "" {
		return rej, false
	}
	out, haveOut, rej := m.firstCount(sv, p.output)
	if rej.Reason != "" {
		return rej, false
	}
	total, haveTotal, rej := m.firstCount(sv, p.total)
	if rej.Reason != "" {
		return rej, false
	}
	if !haveIn && !haveOut && !haveTotal && failed {
		res.Ignored.FailedModelCall++ // nothing was billed for it
		return Rejection{}, false
	}
	if !haveIn && haveTotal {
		// Input is what the total leaves of the output; with no output,
		// an embeddings call's (or another operation's) total is input.
		switch {
		case haveOut && out <= total:
			in, haveIn = total-out, true
		case !haveOut && class != opModelCall:
			in, haveIn = total, true
		}
	}
	if !haveOut && haveIn && haveTotal && in <= total {
		out, haveOut = total-in, true // what the total leaves of the input
	}
	if class != opModelCall && (haveIn || haveOut || class != opEmbeddings) {
		// Embeddings have no output; a span under another operation
		// prices the counts it has.
		haveIn, haveOut = true, true
	}
	if !haveIn {
		if haveTotal && haveOut {
			return reject(ReasonMissingField, "missing attribute %s, and the total %d (%s) is less than the output %d, so the input cannot be derived",
				m.names(p.input), total, m.names(p.total), out), false
		}
		return reject(ReasonMissingField, "missing attribute %s", m.names(p.input)), false
	}
	if !haveOut {
		if haveTotal {
			return reject(ReasonMissingField, "missing attribute %s, and the total %d (%s) is less than the input %d, so the output cannot be derived",
				m.names(p.output), total, m.names(p.total), in), false
		}
		return reject(ReasonMissingField, "missing attribute %s", m.names(p.output)), false
	}
	ev.InputTokens, ev.OutputTokens = in, out
	for _, c := range [...]struct {
		slots []attrSlot
		dst   *int64
	}{
		{p.cacheRead, &ev.CacheReadInputTokens},
		{p.cacheCreation, &ev.CacheCreationInputTokens},
		{p.reasoning, &ev.ReasoningTokens},
	} {
		n, _, rej := m.firstCount(sv, c.slots)
		if rej.Reason != "" {
			return rej, false
		}
		*c.dst = n
	}
	if !p.inputIncludesCache {
		// The convention counts cached tokens apart from the input; v1's
		// input_tokens includes them.
		sum := ev.InputTokens + ev.CacheReadInputTokens + ev.CacheCreationInputTokens // each at most max_tokens_per_event: no wrap
		if sum > m.limits.tokens {
			return reject(ReasonTokensBound, "input tokens %d with the cached tokens of attributes %s and %s (%d) exceed max_tokens_per_event %d",
				ev.InputTokens, m.names(p.cacheRead), m.names(p.cacheCreation), sum, m.limits.tokens), false
		}
		ev.InputTokens = sum
	}
	if rej, ok := checkTokens(ev); !ok {
		return rej, false
	}
	model := sv.firstStr(p.model)
	if model == "" {
		return reject(ReasonMissingField, "missing attribute %s", m.names(p.model)), false
	}
	s.add(fModel, s2b(model))
	s.add(fProvider, s2b(sv.firstStr(p.provider)))
	if rej, ok := m.limits.checkLengths(&s); !ok {
		return rej, false
	}
	s.copyOut(ev)
	return Rejection{}, true
}

// firstCount reads the first of the count attributes the span has.
func (m *otlpMapper) firstCount(sv *spanView, slots []attrSlot) (int64, bool, Rejection) {
	for _, s := range slots {
		if n, ok, rej := m.count(sv, s); ok || rej.Reason != "" {
			return n, ok, rej
		}
	}
	return 0, false, Rejection{}
}

// names writes the attribute names of slots for a rejection detail: "a",
// "a or b", "a, b or c".
func (m *otlpMapper) names(slots []attrSlot) string {
	var b strings.Builder
	for i, s := range slots {
		switch {
		case i == 0:
		case i == len(slots)-1:
			b.WriteString(" or ")
		default:
			b.WriteString(", ")
		}
		b.WriteString(m.slotKey(s))
	}
	return b.String()
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
