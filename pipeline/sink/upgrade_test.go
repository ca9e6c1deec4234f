package sink

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/awumeter/awumeter/internal/testenv"
	"github.com/awumeter/awumeter/pipeline/engine"
	"github.com/awumeter/awumeter/pipeline/event"
	"github.com/awumeter/awumeter/pipeline/migrate"
	"github.com/awumeter/awumeter/schemas/chschema"
)

// lastViewsVersion is the last migration whose rollups were views over
// FINAL; 0009 replaced them with tables.
const lastViewsVersion = 8

// legacyValues is insertValues without awu_days, which releases before
// 0009 did not write.
func legacyValues(s migrate.Schema, batches ...Batch) []string {
	var out []string
	for _, b := range batches {
		for _, stmt := range insertValues(s, b) {
			switch {
			case strings.HasPrefix(stmt, "INSERT INTO "+s.Database+".workcycles "):
				stmt = valuesSQL(s, "workcycles", preStateWorkcycleColumns, b.Workcycles)
			case strings.HasPrefix(stmt, "INSERT INTO "+s.Database+".awus "):
				stmt = valuesSQL(s, "awus", preOutcomeAWUColumns, b.AWUs)
			case strings.HasPrefix(stmt, "INSERT INTO "+s.Database+".events "):
				stmt = eventValuesSQL(s, preOutcomeEventColumns, b.Events)
			}
			if !strings.HasPrefix(stmt, "INSERT INTO "+s.Database+".awu_days ") {
				out = append(out, stmt)
			}
		}
	}
	return out
}

// without is cols without the named columns.
func without[R any](cols []column[R], names ...string) []column[R] {
	return slices.DeleteFunc(slices.Clone(cols), func(c column[R]) bool { return slices.Contains(names, c.name) })
}

// The columns of events, workcycles and awus before 0010 and 0011.
var (
	preStateWorkcycleColumns = without(workcycleColumns, "state", "human_millis", "csat", "resolved_by", "awus_overridden")
	preOutcomeAWUColumns     = without(awuColumns, "overridden")
	preOutcomeEventColumns   = without(eventColumns, "human_millis", "csat", "resolved_by", "reported_by")
)

// writeLegacy writes b's tables as releases before 0009 did: no awu_days,
// no refresh, no workcycle state.
func writeLegacy(t *testing.T, w *Writer, b Batch) {
	t.Helper()
	ctx := testenv.Context(t, time.Minute)
	evs := make([]ledgerEvent, len(b.Events))
	for i := range b.Events {
		evs[i] = ledgerEvent{Event: &b.Events[i], ingestedAt: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)}
	}
	for _, err := range []error{
		writeTable(ctx, w, "events", insertSQL(w.schema, "events", preOutcomeEventColumns), preOutcomeEventColumns, [][]ledgerEvent{evs}),
		writeTable(ctx, w, "awu_models", w.awuModels, awuModelColumns, [][]AWUModelRow{b.AWUModels}),
		writeTable(ctx, w, "awus", insertSQL(w.schema, "awus", preOutcomeAWUColumns), preOutcomeAWUColumns, [][]engine.AWURow{b.AWUs}),
		writeTable(ctx, w, "workcycles", insertSQL(w.schema, "workcycles", preStateWorkcycleColumns), preStateWorkcycleColumns, [][]engine.WorkcycleRow{b.Workcycles}),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
}

// A database written by a release with the FINAL views is migrated to the
// rollup tables: the backfill gives the rollups the views gave, replays
// and superseded versions included, and the next release's re-emission of
// an AWU, which moves it to another day, keeps them exact.
func TestMigrationBackfillsTheRollupTables(t *testing.T) {
	ch := testenv.NewClickHouse(t)
	ctx := testenv.Context(t, 2*time.Minute)
	if _, err := migrate.Up(ctx, ch.Conn, migrate.Options{Database: ch.Database, To: lastViewsVersion}); err != nil {
		t.Fatal(err)
	}
	before, err := migrate.List(ctx, ch.Conn, ch.Database)
	if err != nil || len(before) != lastViewsVersion {
		t.Fatalf("%d migrations before the upgrade: %v", len(before), err)
	}
	final, stale := knownFinal(), knownStale()
	old := NewWriter(ch.Conn, migrate.Schema{Database: ch.Database, Flavor: before[0].Flavor, Version: lastViewsVersion}, testConfig(), Settings{})
	for _, b := range []Batch{stale, final, stale, final} {
		writeLegacy(t, old, b)
	}
	if _, err := migrate.Up(ctx, ch.Conn, migrate.Options{Database: ch.Database}); err != nil {
		t.Fatal(err)
	}
	checkRollups(t, ch.Conn, ch.Database, final, "after the upgrade's backfill")

	schema, err := migrate.CheckSchema(ctx, ch.Conn, ch.Database)
	if err != nil {
		t.Fatal(err)
	}
	// A late event on 30 January moves u4, first seen on 31 January, a day
	// earlier; its rows name all three days of its events.
	u4, m4 := final.AWUs[3], final.AWUModels[3]
	u4.Version, u4.FirstSeen = u4.Version+1, at("2026-01-30 12:00:00")
	u4.EventDays = append([]int32{u4.EventDays[0] - 1}, u4.EventDays...)
	m4.Version, m4.FirstSeen = u4.Version, u4.FirstSeen
	write(t, NewWriter(ch.Conn, schema, testConfig(), Settings{}), Batch{AWUs: []engine.AWURow{u4}, AWUModels: []AWUModelRow{m4}})
	final.AWUs[3], final.AWUModels[3] = u4, m4
	checkRollups(t, ch.Conn, ch.Database, final, "after a re-emission moved an AWU to another day")
}

// The same upgrade on a current ClickHouse (chDB): the backfill's SQL runs
// on the modern branch too.
func TestMigrationBackfillsTheRollupTablesOnChDB(t *testing.T) {
	params := chschema.Params{Database: "awumeter", Flavor: chschema.Modern}
	old := migrate.Schema{Database: "awumeter", Flavor: chschema.Modern}
	final, stale := knownFinal(), knownStale()
	queries := map[string]string{}
	for _, name := range []string{"tenant_monthly_totals", "tenant_daily_totals", "model_cost_monthly"} {
		q, err := chschema.Query(name)
		if err != nil {
			t.Fatal(err)
		}
		queries[name] = q
	}
	inserts := append(legacyValues(old, stale, final, stale, final), "USE awumeter") // the pack names no database
	res := runChDBFrom(t, params, lastViewsVersion, inserts, queries, false)
	for name := range queries {
		t.Run(name, func(t *testing.T) { compareTSV(t, name, tsvRows(res.Results[name])) })
	}
}

// eventValuesSQL is the INSERT of events' ledger rows, as insertValues
// writes them, with the given columns.
func eventValuesSQL(s migrate.Schema, cols []column[ledgerEvent], events []event.Event) string {
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	evs := make([]ledgerEvent, len(events))
	for i := range events {
		evs[i] = ledgerEvent{Event: &events[i], ingestedAt: now}
	}
	return valuesSQL(s, "events", cols, evs)
}
