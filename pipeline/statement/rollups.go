package statement

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/awumeter/awumeter/pipeline/engine"
)

// Rollups are the final rows of an `awumeter process` output file: for every
// key, the row with the highest version, so files written with or without
// --final-only give the same statements.
type Rollups struct {
	workcycles []engine.WorkcycleRow
	awus       []engine.AWURow
	models     []ModelRow
}

// ReadRollups reads NDJSON rows, each with a "table" field: "workcycles",
// "awus", or "awu_models" for a per-model split when the file has one. Rows
// of other tables are skipped; a line that is not a JSON object with a table
// is an error naming the line.
func ReadRollups(r io.Reader) (*Rollups, error) {
	final := engine.NewFinal()
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 16*1024*1024)
	for n := 1; sc.Scan(); n++ {
		line := sc.Bytes()
		if len(trimSpace(line)) == 0 {
			continue
		}
		var probe struct {
			Table *string `json:"table"`
		}
		if err := json.Unmarshal(line, &probe); err != nil {
			return nil, fmt.Errorf("rollups line %d: %w", n, err)
		}
		if probe.Table == nil {
			return nil, fmt.Errorf("rollups line %d: no \"table\" field; expected awumeter process output", n)
		}
		var err error
		switch *probe.Table {
		case "workcycles":
			var w engine.WorkcycleRow
			if err = json.Unmarshal(line, &w); err == nil {
				final.Add(engine.Rows{Workcycles: []engine.WorkcycleRow{w}})
			}
		case "awus":
			var a engine.AWURow
			if err = json.Unmarshal(line, &a); err == nil {
				final.Add(engine.Rows{AWUs: []engine.AWURow{a}})
			}
		case "awu_models":
			var m engine.AWUModelRow
			if err = json.Unmarshal(line, &m); err == nil {
				final.Add(engine.Rows{AWUModels: []engine.AWUModelRow{m}})
			}
		}
		if err != nil {
			return nil, fmt.Errorf("rollups line %d (%s): %w", n, *probe.Table, err)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("cannot read rollups: %w", err)
	}
	rows := final.Rows()
	out := &Rollups{workcycles: rows.Workcycles, awus: rows.AWUs, models: make([]ModelRow, len(rows.AWUModels))}
	for i, m := range rows.AWUModels {
		out.models[i] = ModelRow{
			TenantID: m.TenantID, WorkcycleID: m.WorkcycleID, AWUID: m.AWUID, Model: m.Model, FirstSeen: m.FirstSeen,
			TokenCounts: m.TokenCounts, TokenCost: m.TokenCost, UnpricedTokens: m.UnpricedTokens, Version: m.Version,
		}
	}
	return out, nil
}

func trimSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t' || b[0] == '\r') {
		b = b[1:]
	}
	return b
}

// HasModelSplit reports whether the file has per-model rows.
func (r *Rollups) HasModelSplit() bool { return len(r.models) > 0 }

// Tenants returns, sorted, the tenants with a workcycle or AWU that began
// before end(tenant), the end of the tenant's period.
func (r *Rollups) Tenants(end func(tenantID string) time.Time) []string {
	seen := map[string]bool{}
	for _, w := range r.workcycles {
		if !seen[w.TenantID] && w.StartedAt.Before(end(w.TenantID)) {
			seen[w.TenantID] = true
		}
	}
	for _, a := range r.awus {
		if !seen[a.TenantID] && a.FirstSeen.Before(end(a.TenantID)) {
			seen[a.TenantID] = true
		}
	}
	ids := make([]string, 0, len(seen))
	for id := range seen {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// Tally feeds a tenant's final rows to a new tally for p. A row that cannot
// be summed is a *SumError.
func (r *Rollups) Tally(tenantID string, p Period) (*Tally, error) {
	t := NewTally(p)
	t.TenantID = tenantID
	for _, a := range r.awus {
		if a.TenantID == tenantID {
			if _, err := t.AddAWU(&a); err != nil {
				return nil, err
			}
		}
	}
	if r.HasModelSplit() {
		t.Models = map[string]*ModelTally{}
		for _, m := range r.models {
			if m.TenantID == tenantID {
				if _, err := t.AddModel(&m); err != nil {
					return nil, err
				}
			}
		}
	}
	starts := ConversationStarts{}
	for _, w := range r.workcycles {
		if w.TenantID == tenantID {
			starts.Add(&w)
		}
	}
	for id, first := range starts {
		t.AddConversation(id, first)
	}
	return t, nil
}
