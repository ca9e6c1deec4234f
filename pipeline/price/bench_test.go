package price

import (
	"fmt"
	"testing"
)

// BenchmarkRate measures resolution on the hot path, by kind of name.
func BenchmarkRate(b *testing.B) {
	book := Default()
	for _, bc := range []struct{ kind, name string }{
		{"exact id", "claude-sonnet-4.6"},
		{"alias", "vertex_ai/gemini-3-pro-preview"},
		{"pattern", "bedrock/us.anthropic.claude-sonnet-4-6-v1:0"},
		{"unknown", "gpt-x-unknown"},
	} {
		b.Run(bc.kind, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, ok := book.Rate(bc.name, jan2026, 4000); ok != (bc.kind != "unknown") {
					b.Fatal("unexpected result")
				}
			}
		})
	}
	b.Run("pattern parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				book.Rate("bedrock/us.anthropic.claude-sonnet-4-6-v1:0", jan2026, 4000)
			}
		})
	})
}

// BenchmarkRateManyNames resolves N distinct pattern-matched names in turn.
func BenchmarkRateManyNames(b *testing.B) {
	book := Default()
	for _, n := range []int{10, 100, 1000, 10000} {
		names := make([]string, n)
		for i := range names {
			names[i] = fmt.Sprintf("vertex_ai/claude-sonnet-4-6@2026%04d", i)
		}
		b.Run(fmt.Sprintf("N=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				book.Rate(names[i%n], jan2026, 4000)
				i++
			}
		})
	}
}

func BenchmarkCost(b *testing.B) {
	r := mustRate(b, Default(), "claude-sonnet-4.6", jan2026, 4000)
	for _, bc := range []struct {
		name string
		u    Usage
	}{
		{"typical request", Usage{InputTokens: 4000, OutputTokens: 800, CacheReadInputTokens: 3000, ReasoningTokens: 200}},
		{"month of tokens", Usage{InputTokens: 90_000_000_000, OutputTokens: 12_000_000_000}},
		{"overflows int64", Usage{InputTokens: 1 << 62, OutputTokens: 1 << 61}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = r.Cost(bc.u)
			}
		})
	}
}

func BenchmarkCreditsCost(b *testing.B) {
	p := Default().PlanFor("t")
	b.ReportAllocs()
	for b.Loop() {
		c, _ := p.Credits(3, 1, 5)
		_ = p.CreditsCost(c)
	}
}
