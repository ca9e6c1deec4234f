package report

import (
	"time"

	"github.com/shopspring/decimal"

	"github.com/awumeter/awumeter/pipeline/economics"
	"github.com/awumeter/awumeter/pipeline/engine"
	"github.com/awumeter/awumeter/pipeline/sink"
)

// october is the known data of the ClickHouse tests, October 2026:
//
//   - acme/w1, agent support, resolved by the agent, rated 5: u1 a search
//     tool call that succeeded on its 2nd attempt and was validated (one
//     action: 20 credits, $0.10), u2 a prompt. 3 Oct. Token cost $0.0123.
//   - acme/w2 escalated, resolved by a human after 6 human minutes: u3 a
//     refund tool call that failed 3 times. 4 Oct. $0.004.
//   - acme/w3 resolved (resolved_by unsaid): u4 a voice refund that
//     succeeded (a voice action: 30 credits, $0.15). 4 Oct. $0.5.
//   - bigco/w4 resolved: u5 a prompt, 5 Oct, $2.5; bigco/w5, of agent
//     intake, abandoned with no AWU at all, 6 Oct.
//   - acme/w0 in September, which an October report never shows.
func october() sink.Batch {
	at := func(s string) time.Time {
		t, err := time.Parse(time.DateTime, s)
		if err != nil {
			panic(err)
		}
		return t
	}
	dec := decimal.RequireFromString
	toks := func(in, out int64) engine.TokenCounts { return engine.TokenCounts{InputTokens: in, OutputTokens: out} }
	type wcSpec struct {
		tenant, id, outcome, resolvedBy string
		start, end                      string
		awus                            []engine.AWURow
		humanMillis                     int64
		csat                            uint8
	}
	awu := func(tenant, wc, id, kind, tool, channel, status string, valid bool, attempts int64, first string, tc engine.TokenCounts, cost string, credits int64, list string) engine.AWURow {
		return engine.AWURow{TenantID: tenant, WorkcycleID: wc, AWUID: id, AgentID: "support", Kind: engine.AWUKind(kind), Tool: tool, Channel: engine.AWUChannel(channel),
			Status: engine.AWUStatus(status), Validated: valid, Attempts: attempts, FirstSeen: at(first), LastSeen: at(first).Add(time.Second),
			TokenCounts: tc, TokenCost: dec(cost), Credits: credits, ListCost: dec(list), Version: 1}
	}
	specs := []wcSpec{
		{"acme", "w1", "resolved", "agent", "2026-10-03 10:00:00", "2026-10-03 10:05:00", []engine.AWURow{
			awu("acme", "w1", "u1", "tool", "search", "text", "succeeded", true, 2, "2026-10-03 10:00:00", toks(1000, 200), "0.0083", 20, "0.1"),
			awu("acme", "w1", "u2", "prompt", "", "text", "succeeded", false, 1, "2026-10-03 10:04:00", toks(500, 100), "0.004", 0, "0"),
		}, 0, 5},
		{"acme", "w2", "escalated", "human", "2026-10-04 09:00:00", "2026-10-04 09:10:00", []engine.AWURow{
			awu("acme", "w2", "u3", "tool", "refund", "text", "failed", false, 3, "2026-10-04 09:00:00", toks(300, 30), "0.004", 0, "0"),
		}, 360_000, 0},
		{"acme", "w3", "resolved", "", "2026-10-04 12:00:00", "2026-10-04 12:01:00", []engine.AWURow{
			awu("acme", "w3", "u4", "tool", "refund", "voice", "succeeded", false, 1, "2026-10-04 12:00:00", toks(4000, 800), "0.5", 30, "0.15"),
		}, 0, 0},
		{"bigco", "w4", "resolved", "agent", "2026-10-05 08:00:00", "2026-10-05 08:00:30", []engine.AWURow{
			awu("bigco", "w4", "u5", "prompt", "", "text", "succeeded", false, 1, "2026-10-05 08:00:00", toks(10000, 2000), "2.5", 0, "0"),
		}, 0, 0},
		{"bigco", "w5", "abandoned", "", "2026-10-06 08:00:00", "2026-10-06 08:00:01", nil, 0, 0},
		{"acme", "w0", "resolved", "agent", "2026-09-30 23:00:00", "2026-09-30 23:30:00", []engine.AWURow{
			awu("acme", "w0", "u0", "prompt", "", "text", "succeeded", false, 1, "2026-09-30 23:00:00", toks(7, 7), "9", 0, "0"),
		}, 0, 0},
	}
	var b sink.Batch
	for _, s := range specs {
		agent := "support"
		if len(s.awus) == 0 {
			agent = "intake"
		}
		w := engine.WorkcycleRow{TenantID: s.tenant, WorkcycleID: s.id, AgentID: agent, Outcome: s.outcome, ResolvedBy: s.resolvedBy,
			HumanMillis: s.humanMillis, CSAT: s.csat, StartedAt: at(s.start), EndedAt: at(s.end), TokenCost: decimal.Zero, ListCost: decimal.Zero, Version: 1}
		for _, a := range s.awus {
			w.AWUs++
			w.Attempts += a.Attempts
			w.Retries += a.Attempts - 1
			switch a.Status {
			case "succeeded":
				w.AWUsSucceeded++
			case "failed":
				w.AWUsFailed++
			}
			if a.Validated {
				w.AWUsValidated++
			}
			if a.Credits > 0 {
				w.Actions++
			}
			if a.Channel == "voice" {
				w.VoiceActions++
			}
			w.InputTokens += a.InputTokens
			w.OutputTokens += a.OutputTokens
			w.TokenCost = w.TokenCost.Add(a.TokenCost)
			w.Credits += a.Credits
			w.ListCost = w.ListCost.Add(a.ListCost)
			b.AWUs = append(b.AWUs, a)
		}
		b.Workcycles = append(b.Workcycles, w)
	}
	return b
}

// sample is a report made by hand for the page tests, with names a page
// must escape and amounts finer than a cent.
func sample(tenant string) *Report {
	dec := decimal.RequireFromString
	f := 0.25
	r := &Report{
		Month: "2026-10", Tenant: tenant, Database: "awumeter", GeneratedAt: time.Date(2026, 11, 1, 6, 0, 0, 0, time.UTC),
		AssumptionsSource: "the article", Version: "test",
		Totals: Totals{AWUs: 4, Attempts: 7, Actions: 2, VoiceActions: 1, InputTokens: 5800, OutputTokens: 1130,
			TokenCost: dec("0.5163"), ListCost: dec("0.25"), Credits: 50, Workcycles: 3, Completed: 3},
		Days: []Day{
			{Day: "2026-10-03", AWUs: 2, Succeeded: 2, Attempts: 3, InputTokens: 1500, OutputTokens: 300, TokenCost: dec("0.0123"), ListCost: dec("0.1")},
			{Day: "2026-10-04", AWUs: 2, Succeeded: 1, Attempts: 4, InputTokens: 4300, OutputTokens: 830, TokenCost: dec("0.504000000001"), ListCost: dec("0.15")},
		},
		CostBuckets: []CostBucket{{From: dec("0"), List: 1}, {From: dec("0.002"), Token: 1}, {From: dec("0.01"), Token: 1}, {From: dec("0.1"), List: 2}, {From: dec("0.5"), Token: 1}},
		Funnel:      Funnel{Attempted: 4, Succeeded: 3, Validated: 1, Failed: 1, Attempts: 7},
		Agents:      []AgentFunnel{{Agent: "</script><script>alert('agent')</script>", Funnel: Funnel{Attempted: 4, Succeeded: 3, Validated: 1, Failed: 1, Attempts: 7}}},
		Tools:       []Tool{{Tool: "refund", AWUs: 2, Succeeded: 1, Attempts: 4}, {Tool: `"><img src=x onerror=alert(1)>`, AWUs: 1, Succeeded: 1, Attempts: 2}},
		Outcomes: []Outcome{{Tenant: "acme", Agent: "support", Completed: 3, Resolved: 2, ResolutionRate: 0.6667, EscalationRate: 0.3333,
			OverrideRate: ptr(0.0), CycleTimeP50Seconds: 300, CycleTimeP90Seconds: 600, TokenCostPerResolution: ptr(dec("0.25815")),
			TokensPerAWU: ptr(1732.5), ResolvedByHuman: 1, HumanMinutes: 6, CSAT: &f}},
	}
	m := economics.Measured{Completed: 3, ResolvedByAgent: 2, EscalatedTimed: 1, EscalatedHumanMillis: 360_000, ListCost: dec("0.25"), TokenCost: dec("0.5163")}
	r.ROI = NewROI(economics.DefaultAssumptions(), m, AICostConversation)
	return r
}

func ptr[T any](v T) *T { return &v }
