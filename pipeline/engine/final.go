package engine

import (
	"cmp"
	"slices"
)

// Final keeps, for every row key, the row with the highest version: what
// ClickHouse's ReplacingMergeTree returns with FINAL. Offline results
// (`awumeter process --final-only`, statements from a rows file) and tests
// use it to read a stream of emitted rows the way the tables do.
type Final struct {
	workcycles map[[2]string]WorkcycleRow
	awus       map[[3]string]AWURow
	awuModels  map[[4]string]AWUModelRow
}

// NewFinal returns an empty Final.
func NewFinal() *Final {
	return &Final{
		workcycles: map[[2]string]WorkcycleRow{},
		awus:       map[[3]string]AWURow{},
		awuModels:  map[[4]string]AWUModelRow{},
	}
}

// Add folds emitted rows in; of two rows with the same key and version, the
// later one is kept, as a replay's identical row would be.
func (f *Final) Add(r Rows) {
	for _, w := range r.Workcycles {
		k := [2]string{w.TenantID, w.WorkcycleID}
		if prev, ok := f.workcycles[k]; !ok || w.Version >= prev.Version {
			f.workcycles[k] = w
		}
	}
	for _, a := range r.AWUs {
		k := [3]string{a.TenantID, a.WorkcycleID, a.AWUID}
		if prev, ok := f.awus[k]; !ok || a.Version >= prev.Version {
			f.awus[k] = a
		}
	}
	for _, m := range r.AWUModels {
		k := [4]string{m.TenantID, m.WorkcycleID, m.AWUID, m.Model}
		if prev, ok := f.awuModels[k]; !ok || m.Version >= prev.Version {
			f.awuModels[k] = m
		}
	}
}

// Rows returns the kept rows, each table sorted by key.
func (f *Final) Rows() Rows {
	var r Rows
	for _, w := range f.workcycles {
		r.Workcycles = append(r.Workcycles, w)
	}
	for _, a := range f.awus {
		r.AWUs = append(r.AWUs, a)
	}
	for _, m := range f.awuModels {
		r.AWUModels = append(r.AWUModels, m)
	}
	slices.SortFunc(r.Workcycles, func(a, b WorkcycleRow) int {
		return cmp.Or(cmp.Compare(a.TenantID, b.TenantID), cmp.Compare(a.WorkcycleID, b.WorkcycleID))
	})
	slices.SortFunc(r.AWUs, func(a, b AWURow) int {
		return cmp.Or(cmp.Compare(a.TenantID, b.TenantID), cmp.Compare(a.WorkcycleID, b.WorkcycleID), cmp.Compare(a.AWUID, b.AWUID))
	})
	slices.SortFunc(r.AWUModels, func(a, b AWUModelRow) int {
		return cmp.Or(cmp.Compare(a.TenantID, b.TenantID), cmp.Compare(a.WorkcycleID, b.WorkcycleID),
			cmp.Compare(a.AWUID, b.AWUID), cmp.Compare(a.Model, b.Model))
	})
	return r
}
