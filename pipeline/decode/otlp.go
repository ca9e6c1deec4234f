package decode

import (
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
// produce. For otlp_json the strings point into the parser's buffer.
type attr struct {
	key  string
	kind attrKind
	s    string
	i    int64
	f    float64
}

type attrs []attr

// get returns the last attribute named key; OTLP forbids repeated keys, and
// a later one wins if a producer repeats it anyway.
func (a attrs) get(key string) (attr, bool) {
	for i := len(a) - 1; i >= 0; i-- {
		if a[i].key == key {
			return a[i], true
		}
	}
	return attr{}, false
}

// spanView is what the mapping needs from one span.
type spanView struct {
	traceID, spanID []byte
	endNanos        uint64
	statusCode      int32
	attrs, res      attrs
}

// otlpMapper turns gen-ai spans into v1 events; both OTLP decoders share it.
type otlpMapper struct {
	maxBytes int
	bounds   bounds
	cfg      OTLPConfig
}

// str looks an identity attribute up on the span, then on its resource.
// Only string values count; an empty string counts as absent.
func (sv *spanView) str(key string) string {
	if a, ok := sv.attrs.get(key); ok && a.kind == kindString && a.s != "" {
		return a.s
	}
	if a, ok := sv.res.get(key); ok && a.kind == kindString && a.s != "" {
		return a.s
	}
	return ""
}

// count reads an integer attribute of the span: an int, an integral double
// or a decimal string, as SDKs differ.
func (sv *spanView) count(key string) (int64, bool, Rejection) {
	a, ok := sv.attrs.get(key)
	if !ok {
		return 0, false, Rejection{}
	}
	if n, ok := attrInt(a); ok {
		return n, true, Rejection{}
	}
	return 0, false, reject(ReasonBadInteger, "attribute %s must be an integer", key)
}

// span maps one span, appending its event to dst or recording why not.
func (m *otlpMapper) span(sv *spanView, pos event.Position, dst []event.Event, res *Result) []event.Event {
	op, _ := sv.attrs.get(attrOperationName)
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
	var traceHex [32]byte
	var spanHex [16]byte
	hex.Encode(traceHex[:], sv.traceID)
	hex.Encode(spanHex[:], sv.spanID)

	var ok bool
	if ev.Time, ok = eventTime(sv.endNanos); !ok {
		return reject(ReasonMissingField, "missing end_time_unix_nano"), false
	}
	if rej, ok := m.bounds.check(ev.Time); !ok {
		return rej, false
	}

	s := newStrs()
	s.add(fEventID, traceHex[:])
	s.append(fEventID, dash)
	s.append(fEventID, spanHex[:])

	tenant := sv.str(m.cfg.TenantAttribute)
	if tenant == "" {
		tenant = m.cfg.DefaultTenantID
	}
	if tenant == "" {
		return reject(ReasonMissingField, "missing attribute %s on the span or its resource", m.cfg.TenantAttribute), false
	}
	s.add(fTenantID, s2b(tenant))

	conversation := sv.str(attrConversationID)
	s.add(fConversationID, s2b(conversation))
	if wc := sv.str(m.cfg.WorkcycleAttribute); wc != "" {
		s.add(fWorkcycleID, s2b(wc))
	} else if conversation != "" {
		s.add(fWorkcycleID, s2b(conversation))
	} else {
		s.add(fWorkcycleID, traceHex[:])
	}

	agent := sv.str(attrAgentID)
	if agent == "" {
		agent = sv.str(attrAgentName)
	}
	s.add(fAgentID, s2b(agent))

	if awu := sv.str(m.cfg.AWUAttribute); awu != "" {
		s.add(fAWUID, s2b(awu))
	} else if call := sv.str(attrToolCallID); call != "" {
		s.add(fAWUID, s2b(call))
	} else {
		s.add(fAWUID, spanHex[:])
	}

	ev.Attempt = 1
	if a, ok := sv.attrs.get(m.cfg.AttemptAttribute); ok || hasAttr(sv.res, m.cfg.AttemptAttribute) {
		if !ok {
			a, _ = sv.res.get(m.cfg.AttemptAttribute)
		}
		n, valid := attrInt(a)
		if !valid || n < 1 || n > math.MaxInt32 {
			return reject(ReasonBadAttempt, "attribute %s must be an integer between 1 and 2147483647", m.cfg.AttemptAttribute), false
		}
		ev.Attempt = int32(n)
	}

	failed := sv.statusCode == statusCodeError
	if a, ok := sv.attrs.get(attrErrorType); ok && (a.kind != kindString || a.s != "") {
		failed = true
	}

	if ev.Type == event.TypeToolInvocation {
		tool := sv.str(attrToolName)
		if tool == "" {
			return reject(ReasonMissingField, "missing attribute %s", attrToolName), false
		}
		s.add(fTool, s2b(tool))
		if ch := sv.str(attrChannel); ch != "" {
			if ev.Channel, ok = event.ParseChannel(ch); !ok {
				return reject(ReasonBadChannel, "attribute %s %q is not text or voice", attrChannel, clip(s2b(ch))), false
			}
		}
		ev.Status = event.StatusSucceeded
		if failed {
			ev.Status = event.StatusFailed
		}
		s.copyOut(ev)
		return Rejection{}, true
	}

	// Model call.
	in, haveIn, rej := m.firstCount(sv, attrInputTokens, attrPromptTokens)
	if rej.Reason != "" {
		return rej, false
	}
	out, haveOut, rej := m.firstCount(sv, attrOutputTokens, attrCompletionToks)
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
		key string
		dst *int64
	}{
		{attrCacheRead, &ev.CacheReadInputTokens},
		{attrCacheCreation, &ev.CacheCreationInputTokens},
		{attrReasoning, &ev.ReasoningTokens},
	} {
		n, _, rej := sv.count(c.key)
		if rej.Reason != "" {
			return rej, false
		}
		*c.dst = n
	}
	for _, c := range [...]struct {
		key string
		n   int64
	}{
		{attrInputTokens, ev.InputTokens}, {attrOutputTokens, ev.OutputTokens},
		{attrCacheRead, ev.CacheReadInputTokens}, {attrCacheCreation, ev.CacheCreationInputTokens},
		{attrReasoning, ev.ReasoningTokens},
	} {
		if c.n < 0 {
			return reject(ReasonNegative, "attribute %s is negative: %d", c.key, c.n), false
		}
	}
	if rej, ok := checkTokens(ev); !ok {
		return rej, false
	}
	model := sv.str(attrResponseModel)
	if model == "" {
		model = sv.str(attrRequestModel)
	}
	if model == "" {
		return reject(ReasonMissingField, "missing attribute %s or %s", attrResponseModel, attrRequestModel), false
	}
	s.add(fModel, s2b(model))
	provider := sv.str(attrProviderName)
	if provider == "" {
		provider = sv.str(attrSystem)
	}
	s.add(fProvider, s2b(provider))
	s.copyOut(ev)
	return Rejection{}, true
}

// firstCount reads the current attribute, falling back to its deprecated name.
func (m *otlpMapper) firstCount(sv *spanView, key, deprecated string) (int64, bool, Rejection) {
	if n, ok, rej := sv.count(key); ok || rej.Reason != "" {
		return n, ok, rej
	}
	return sv.count(deprecated)
}

func hasAttr(a attrs, key string) bool {
	_, ok := a.get(key)
	return ok
}

func attrInt(a attr) (int64, bool) {
	switch a.kind {
	case kindInt:
		return a.i, true
	case kindDouble:
		if a.f == math.Trunc(a.f) && a.f < math.MaxInt64 && a.f >= math.MinInt64 {
			return int64(a.f), true
		}
	case kindString:
		n, err := strconv.ParseInt(a.s, 10, 64)
		return n, err == nil
	}
	return 0, false
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
