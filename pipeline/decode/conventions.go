package decode

import (
	"fmt"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// The GenAI span conventions the OTLP decoders read, as
// kafka.topics[i].otlp.conventions names them.
const (
	// ConventionOTelGenAI is the OpenTelemetry GenAI semantic conventions
	// (gen_ai.*), with the earlier and variant attribute names that
	// instrumentations emit.
	ConventionOTelGenAI = "otel-genai"
	// ConventionOpenInference is Arize's OpenInference (llm.*,
	// openinference.span.kind), emitted by LlamaIndex, LangChain and
	// Phoenix instrumentations.
	ConventionOpenInference = "openinference"
	// ConventionOpenLLMetry is Traceloop's OpenLLMetry as its releases
	// before gen_ai.operation.name wrote it (llm.request.type,
	// gen_ai.usage.prompt_tokens, llm.usage.total_tokens).
	ConventionOpenLLMetry = "openllmetry"
)

// Conventions lists the known conventions, in their default order.
func Conventions() []string {
	return []string{ConventionOTelGenAI, ConventionOpenInference, ConventionOpenLLMetry}
}

// Convention is one entry of kafka.topics[i].otlp.conventions: a known
// convention, and whether its input token count includes the cached
// tokens. In YAML it is the convention's name, or a mapping:
//
//	conventions:
//	  - otel-genai
//	  - convention: openinference
//	    input_includes_cache: false
type Convention struct {
	Name string `yaml:"convention"`
	// InputIncludesCache overrides the convention's own rule (see the
	// profile tables in docs/contract.md): true when the input token
	// count already includes cache reads and writes, as OpenTelemetry
	// specifies; false when they come on top of it, as in Anthropic's raw
	// usage. Nil keeps the convention's rule.
	InputIncludesCache *bool `yaml:"input_includes_cache"`
}

// UnmarshalYAML accepts a bare name as well as the mapping.
func (c *Convention) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		c.Name = n.Value
		return nil
	}
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: a convention is a name or a mapping with convention and input_includes_cache", n.Line)
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := n.Content[i].Value; k != "convention" && k != "input_includes_cache" {
			return fmt.Errorf("line %d: field %s not found in a convention (convention, input_includes_cache)", n.Content[i].Line, k)
		}
	}
	type plain Convention // without this method
	var p plain
	if err := n.Decode(&p); err != nil {
		return err
	}
	*c = Convention(p)
	return nil
}

// validateConventions reports unknown and repeated conventions.
func validateConventions(cs []Convention) []error {
	var errs []error

	seen := map[string]bool{}
	for i, c := range cs {
		switch {
		case !slices.Contains(Conventions(), c.Name):
			errs = append(errs, fmt.Errorf("otlp.conventions[%d]: unknown convention %q; known: %s", i, c.Name, strings.Join(Conventions(), ", ")))
		case seen[c.Name]:
			errs = append(errs, fmt.Errorf("otlp.conventions[%d]: %s is listed twice", i, c.Name))
		}
		seen[c.Name] = true
	}
	return errs
}

// opClass is what a span's operation means for metering.
type opClass uint8

const (
	opUnknown    opClass = iota // a value the convention does not define
	opModelCall                 // priced by its input and output tokens
	opEmbeddings                // priced by its input tokens
	opTool                      // a tool invocation
	opAggregate                 // totals of child spans, which are priced: never priced again
	opOther                     // a defined operation that is not a paid call by itself
)

// profileSpec is a convention as a table: for each event field, the
// attributes that carry it, in order of preference (the first present
// wins), and the values of its operation attribute.
type profileSpec struct {
	name               string
	inputIncludesCache bool
	operation          string
	operations         map[string]opClass // lowercase values
	model              []string           // response model first
	provider           []string
	input              []string
	output             []string
	total              []string // input + output, for spans that give only the total
	cacheRead          []string
	cacheCreation      []string
	reasoning          []string
	tool               []string
	toolCallID         []string
	conversation       []string
}

// profileSpecs are the conventions. docs/contract.md shows each as a
// table, and TestContractShowsEveryProfile keeps the two in step.
var profileSpecs = []profileSpec{
	{
		name:               ConventionOTelGenAI,
		inputIncludesCache: true, // "SHOULD include all types of input tokens, including cached tokens"
		operation:          attrOperationName,
		operations: map[string]opClass{
			"chat": opModelCall, "generate_content": opModelCall, "text_completion": opModelCall,
			"embeddings":   opEmbeddings,
			"execute_tool": opTool,
			"invoke_agent": opAggregate,
			"create_agent": opOther,
		},
		model:     []string{attrResponseModel, attrRequestModel},
		provider:  []string{attrProviderName, attrSystem},
		input:     []string{attrInputTokens, attrPromptTokens},
		output:    []string{attrOutputTokens, attrCompletionToks},
		total:     []string{attrGenAITotal},
		cacheRead: []string{attrCacheRead, attrCacheReadFlat, attrInputCached},
		cacheCreation: []string{attrCacheCreation, attrCacheWrite, attrCacheCreationFlat,
			attrInputCacheWrite},
		reasoning:  []string{attrReasoning, attrReasoningTokens},
		tool:       []string{attrToolName},
		toolCallID: []string{attrToolCallID},
	},
	{
		name:               ConventionOpenInference,
		inputIncludesCache: true, // prompt_details.cache_read and cache_write are parts of llm.token_count.prompt
		operation:          attrOISpanKind,
		operations: map[string]opClass{
			"llm":       opModelCall,
			"embedding": opEmbeddings,
			"tool":      opTool,
			"agent":     opAggregate, "chain": opAggregate,
			"retriever": opOther, "reranker": opOther, "guardrail": opOther, "evaluator": opOther,
		},
		model:         []string{attrOIModel, attrOIEmbeddingModel},
		provider:      []string{attrOIProvider, attrOISystem},
		input:         []string{attrOIPrompt},
		output:        []string{attrOICompletion},
		total:         []string{attrOITotal},
		cacheRead:     []string{attrOICacheRead},
		cacheCreation: []string{attrOICacheWrite},
		reasoning:     []string{attrOIReasoning},
		tool:          []string{attrOIToolName},
		toolCallID:    []string{attrOIToolCallID},
		conversation:  []string{attrSessionID},
	},
	{
		name:               ConventionOpenLLMetry,
		inputIncludesCache: true, // prompt_tokens as the provider's usage reports it, cached tokens included
		operation:          attrLLMRequestType,
		operations: map[string]opClass{
			"chat": opModelCall, "completion": opModelCall,
			"embedding": opEmbeddings,
			"rerank":    opOther,
		},
		model:         []string{attrResponseModel, attrRequestModel},
		provider:      []string{attrSystem, attrProviderName},
		input:         []string{attrPromptTokens, attrInputTokens},
		output:        []string{attrCompletionToks, attrOutputTokens},
		total:         []string{attrLLMUsageTotal, attrGenAITotal},
		cacheRead:     []string{attrCacheReadFlat, attrCacheRead},
		cacheCreation: []string{attrCacheCreationFlat, attrCacheCreation},
		reasoning:     []string{attrReasoningTokens, attrReasoning},
	},
}

// profile is a profileSpec resolved to attribute slots.
type profile struct {
	name                                                  string
	inputIncludesCache                                    bool
	operation                                             attrSlot
	operations                                            map[string]opClass
	model, provider, input, output, total                 []attrSlot
	cacheRead, cacheCreation, reasoning, tool, toolCallID []attrSlot
	conversation                                          []attrSlot
}

// profiles are profileSpecs resolved, by name.
var profiles = func() map[string]*profile {
	slots := func(names []string) []attrSlot {
		out := make([]attrSlot, len(names))
		for i, n := range names {
			s, ok := fixedSlot(n)
			if !ok {
				panic("decode: profile attribute " + n + " has no slot")
			}
			out[i] = s
		}
		return out
	}
	m := map[string]*profile{}
	for _, sp := range profileSpecs {
		op := slots([]string{sp.operation})[0]
		m[sp.name] = &profile{
			name: sp.name, inputIncludesCache: sp.inputIncludesCache, operation: op, operations: sp.operations,
			model: slots(sp.model), provider: slots(sp.provider), input: slots(sp.input), output: slots(sp.output),
			total: slots(sp.total), cacheRead: slots(sp.cacheRead), cacheCreation: slots(sp.cacheCreation),
			reasoning: slots(sp.reasoning), tool: slots(sp.tool), toolCallID: slots(sp.toolCallID),
			conversation: slots(sp.conversation),
		}
	}
	return m
}()

// resolveProfiles returns the configured conventions' profiles, in order;
// no conventions configured means all of them, in the default order.
func resolveProfiles(cs []Convention) []*profile {
	if len(cs) == 0 {
		for _, n := range Conventions() {
			cs = append(cs, Convention{Name: n})
		}
	}
	out := make([]*profile, 0, len(cs))
	for _, c := range cs {
		p, ok := profiles[c.Name]
		if !ok {
			continue // refused by Validate
		}
		if c.InputIncludesCache != nil && *c.InputIncludesCache != p.inputIncludesCache {
			cp := *p
			cp.inputIncludesCache = *c.InputIncludesCache
			p = &cp
		}
		out = append(out, p)
	}
	return out
}

// classify looks an operation value up, ignoring case.
func (p *profile) classify(op string) opClass {
	if c, ok := p.operations[op]; ok {
		return c
	}
	for v, c := range p.operations {
		if strings.EqualFold(v, op) {
			return c
		}
	}
	return opUnknown
}

// hasAny reports whether the span has any of the slots.
func (sv *spanView) hasAny(slots []attrSlot) bool {
	for _, s := range slots {
		if sv.ix[s] > 0 {
			return true
		}
	}
	return false
}

// firstStr is str of the first of the slots with a non-empty string.
func (sv *spanView) firstStr(slots []attrSlot) string {
	for _, s := range slots {
		if v := sv.str(s); v != "" {
			return v
		}
	}
	return ""
}

// hasUsage reports whether the span carries any token count of p.
func (p *profile) hasUsage(sv *spanView) bool {
	for _, ss := range [...][]attrSlot{p.input, p.output, p.total, p.cacheRead, p.cacheCreation, p.reasoning} {
		if sv.hasAny(ss) {
			return true
		}
	}
	return false
}
