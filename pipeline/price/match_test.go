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
