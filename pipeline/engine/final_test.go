package engine

import "testing"

func TestFinalKeepsTheHighestVersionPerKey(t *testing.T) {
	f := NewFinal()
	wc := func(id string, v uint64, outcome string) WorkcycleRow {
		return WorkcycleRow{TenantID: "t", WorkcycleID: id, Version: v, Outcome: outcome}
	}
	awu := func(wcID, id string, v uint64) AWURow {
		return AWURow{TenantID: "t", WorkcycleID: wcID, AWUID: id, Version: v}
	}
	model := func(id, m string, v uint64, tokens int64) AWUModelRow {
		return AWUModelRow{TenantID: "t", WorkcycleID: "b", AWUID: id, Model: m, Version: v, TokenCounts: TokenCounts{InputTokens: tokens}}
	}
	f.Add(Rows{
		Workcycles: []WorkcycleRow{wc("b", 3, ""), wc("a", 1, "")},
		AWUs:       []AWURow{awu("b", "y", 3), awu("b", "x", 3)},
		AWUModels:  []AWUModelRow{model("x", "m2", 3, 10), model("x", "m1", 3, 5)},
	})
	// A re-emission with more events, then a stale replay of the old version.
	f.Add(Rows{Workcycles: []WorkcycleRow{wc("b", 5, "resolved")}, AWUModels: []AWUModelRow{model("x", "m1", 5, 7)}})
	f.Add(Rows{Workcycles: []WorkcycleRow{wc("b", 3, "")}, AWUModels: []AWUModelRow{model("x", "m1", 3, 5)}})

	got := f.Rows()
	if len(got.Workcycles) != 2 || got.Workcycles[0].WorkcycleID != "a" || got.Workcycles[1].Version != 5 || got.Workcycles[1].Outcome != "resolved" {
		t.Fatalf("workcycles = %+v, want a@1 then b@5 resolved", got.Workcycles)
	}
	if len(got.AWUs) != 2 || got.AWUs[0].AWUID != "x" || got.AWUs[1].AWUID != "y" {
		t.Fatalf("awus = %+v, want x then y", got.AWUs)
	}
	if len(got.AWUModels) != 2 || got.AWUModels[0].Model != "m1" || got.AWUModels[0].InputTokens != 7 || got.AWUModels[1].Model != "m2" {
		t.Fatalf("awu models = %+v, want m1@5 with 7 tokens then m2", got.AWUModels)
	}
}
