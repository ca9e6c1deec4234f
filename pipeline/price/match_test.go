package price

import (
	"fmt"
	"sync"
	"testing"
)

func TestMatchDefaultBook(t *testing.T) {
	b := Default()
	for _, tc := range []struct {
		name string
		want string // "" is unknown
	}{
		{"gemini-3-flash", "gemini-3-flash"},
		{"gemini-3-flash-preview", "gemini-3-flash"},
		{"vertex_ai/gemini-3-flash-preview", "gemini-3-flash"},
		{"gemini-3-flash-preview-12-2025", "gemini-3-flash"},
		{"gemini-3-flash-lite", ""},
		{"gemini-3-pro", "gemini-3-pro"},
		{"vertex_ai/gemini-3-pro", "gemini-3-pro"},
		{"vertex_ai/gemini-3-pro-preview", "gemini-3-pro"},
		{"openrouter/google/gemini-3-pro-preview", "gemini-3-pro"},
		{"gemini-3-pro@001", "gemini-3-pro"},
		{"gemini-3-pro-image-preview", ""},
		{"claude-sonnet-4.6", "claude-sonnet-4.6"},
		{"claude-sonnet-4-6", "claude-sonnet-4.6"},
		{"anthropic/claude-sonnet-4.6", "claude-sonnet-4.6"},
		{"Anthropic/Claude-Sonnet-4.6", "claude-sonnet-4.6"},
		{"claude-sonnet-4-6-20260217", "claude-sonnet-4.6"},
		{"vertex_ai/claude-sonnet-4-6@20260217", "claude-sonnet-4.6"},
		{"bedrock/us.anthropic.claude-sonnet-4-6-v1:0", "claude-sonnet-4.6"},
		{"claude-sonnet-4.5", ""},
		{"claude-sonnet-4-60", ""},
		{"gpt-5", ""},
		{"", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id, ok := b.Match(tc.name)
			if ok != (tc.want != "") || id != tc.want {
				t.Errorf("Match(%q) = %q, %v; want %q", tc.name, id, ok, tc.want)
			}
			r, ok := b.Rate(tc.name, jan2026, 0)
			if tc.want == "" {
				if ok || r != nil {
					t.Errorf("Rate(%q) priced an unknown model", tc.name)
				}
			} else if !ok || r.ModelID() != tc.want {
				t.Errorf("Rate(%q): got %v, %v", tc.name, r, ok)
			}
		})
	}
}

func TestPatternsMatchInFileOrder(t *testing.T) {
	b, err := Parse([]byte(`
models:
  - id: first
    match: {patterns: ['^acme-']}
    prices: [{effective_from: 2025-01-01, input: 1, output: 1}]
  - id: second
    match: {aliases: [acme-exact], patterns: ['^acme-.*-large$']}
    prices: [{effective_from: 2025-01-01, input: 2, output: 2}]
`))
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{
		"acme-x-large": "first",  // both patterns match; the first in the file wins
		"acme-exact":   "second", // an exact name beats any pattern
	} {
		if id, _ := b.Match(name); id != want {
			t.Errorf("Match(%q) = %q, want %q", name, id, want)
		}
	}
}

func TestResolveCacheIsBounded(t *testing.T) {
	b := Default()
	for i := range 3 * resolveCacheLimit {
		b.Rate(fmt.Sprintf("unknown-model-%d", i), jan2026, 0)
	}
	if n := b.resolved.len(); n > resolveCacheLimit {
		t.Errorf("cache holds %d names, limit %d", n, resolveCacheLimit)
	}
	if id, ok := b.Match("vertex_ai/gemini-3-pro-preview-001"); !ok || id != "gemini-3-pro" {
		t.Errorf("matching after the cache was cleared: %q, %v", id, ok)
	}
}

func TestRateIsSafeForConcurrentUse(t *testing.T) {
	b := Default()
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 2000 {
				name := fmt.Sprintf("vertex_ai/claude-sonnet-4-6@2026%04d", i%300)
				if i%3 == g%3 {
					name = fmt.Sprintf("no-such-model-%d", i)
				}
				r, ok := b.Rate(name, jan2026, int64(i))
				if ok && r.ModelID() != "claude-sonnet-4.6" {
					t.Errorf("%q resolved to %q", name, r.ModelID())
					return
				}
			}
		})
	}
	wg.Wait()
}

// Bedrock names a model <region>.<vendor>.<model>-v<N>:<M>, where the region
// prefix is a cross-region inference profile (us., us-gov., eu., apac., jp.,
// au., ca., global.), optionally behind LiteLLM's bedrock/ provider prefix.
func TestMatchBedrockIDs(t *testing.T) {
	b := Default()
	ids := []string{
		// Every region prefix, named one by one.
		"us.anthropic.claude-sonnet-4-6",
		"us-gov.anthropic.claude-sonnet-4-6",
		"eu.anthropic.claude-sonnet-4-6",
		"apac.anthropic.claude-sonnet-4-6",
		"jp.anthropic.claude-sonnet-4-6",
		"au.anthropic.claude-sonnet-4-6",
		"ca.anthropic.claude-sonnet-4-6",
		"global.anthropic.claude-sonnet-4-6",
		// The reported id, and the same with the usual decorations.
		"us-gov.anthropic.claude-sonnet-4-6-v1:0",
		"bedrock/us-gov.anthropic.claude-sonnet-4-6-v1:0",
		"US-GOV.Anthropic.Claude-Sonnet-4-6-V1:0",
		"bedrock/converse/us-gov.anthropic.claude-sonnet-4-6-v1:0",
		"bedrock/us-gov-west-1/us-gov.anthropic.claude-sonnet-4-6-v1:0",
		// No region prefix: the in-region id.
		"anthropic.claude-sonnet-4-6-v1:0",
		"bedrock/anthropic.claude-sonnet-4-6-v1:0",
		"anthropic.claude-sonnet-4-6-20260217-v1:0",
		"apac.anthropic.claude-sonnet-4-6-v2",
		// Bedrock ARNs, of an inference profile and of a foundation model.
		"arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-sonnet-4-6-v1:0",
		"arn:aws-us-gov:bedrock:us-gov-west-1:123456789012:inference-profile/us-gov.anthropic.claude-sonnet-4-6-v1:0",
		"arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-sonnet-4-6-v1:0",
	}
	// And every region with and without bedrock/ and -v1:0.
	for _, region := range []string{"us", "us-gov", "eu", "apac", "jp", "au", "ca", "global"} {
		for _, provider := range []string{"", "bedrock/"} {
			for _, version := range []string{"", "-v1:0"} {
				ids = append(ids, provider+region+".anthropic.claude-sonnet-4-6"+version)
			}
		}
	}
	for _, name := range ids {
		if id, ok := b.Match(name); !ok || id != "claude-sonnet-4.6" {
			t.Errorf("Match(%q) = %q, %v; want claude-sonnet-4.6", name, id, ok)
		}
	}

	for _, name := range []string{
		"x1.anthropic.claude-sonnet-4-6-v1:0",         // a random prefix with a digit
		"bedrock/x1.anthropic.claude-sonnet-4-6-v1:0", // the same behind bedrock/
		"usgov.anthropic.claude-sonnet-4-6-v1:0",      // not a region prefix
		"us-east-1.anthropic.claude-sonnet-4-6-v1:0",  // an AWS region, not a profile prefix
		"eu.us.anthropic.claude-sonnet-4-6-v1:0",      // two region prefixes
		"us.claude-sonnet-4-6",                        // a region prefix needs the vendor prefix
		"us.meta.claude-sonnet-4-6-v1:0",              // another vendor
		"us-gov.anthropic.claude-sonnet-4-5-v1:0",     // a different model
		"us-gov.anthropic.claude-opus-4-6-v1:0",       // a different model
		"global.anthropic.claude-sonnet-4-6-v1:0x",    // a malformed version
		"us.amazon.nova-pro-v1:0",                     // not in the book
		"global.gemini-3-pro",                         // Gemini is not on Bedrock
		"us.anthropic.claude-sonnet-4-6.evil",         // anchored at the end
		"evil-us.anthropic.claude-sonnet-4-6",         // anchored at the start
		"arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-opus-4-6-v1:0",    // an ARN of another model
		"arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc123",                   // an opaque profile id
		"xarn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-sonnet-4-6-v1:0", // anchored at the start
	} {
		if id, ok := b.Match(name); ok {
			t.Errorf("Match(%q) = %q; want no match", name, id)
		}
	}
}
