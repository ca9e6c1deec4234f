package sink

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/awumeter/awumeter/internal/testenv"
	"github.com/awumeter/awumeter/pipeline/event"
	"github.com/awumeter/awumeter/schemas/chschema"
)

// KeyHash is the server's cityHash64(concat(tenant_id, '\0', workcycle_id)),
// which migration 0008 backfills with, for ids of every shape: quotes,
// backslashes, NUL, UTF-8, and ids longer than KeyHash's stack buffer.
func TestKeyHashIsTheServersCityHash64(t *testing.T) {
	conn, _ := migrated(t)
	ctx := testenv.Context(t, time.Minute)
	ids := [][2]string{
		{"acme", "wc-1"}, {"", ""}, {"t'q", `wc\'x` + "\n"}, {"a\x00b", "c\x00"},
		{"тенант", "工作周期-7"}, {strings.Repeat("t", 200), strings.Repeat("w", 300)},
		{strings.Repeat("é", 127), "x"}, // 254 bytes + 1 + 1: the buffer's edge
	}
	for _, id := range ids {
		var got uint64
		if err := conn.QueryRow(ctx, "SELECT cityHash64(concat(?, '\\0', ?))", id[0], id[1]).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if want := KeyHash(id[0], id[1]); got != want {
			t.Errorf("%.20q/%.20q: server %d, KeyHash %d", id[0], id[1], got, want)
		}
	}
}

// StoredKeys returns the keys written for one partition and no other's,
// and the backfill of migration 0008 derives the same keys from a ledger
// written without them.
func TestStoredKeysAndTheirBackfill(t *testing.T) {
	conn, schema := migrated(t)
	ctx := testenv.Context(t, time.Minute)
	w := NewWriter(conn, schema, testConfig(), Settings{})
	var evs []event.Event
	want := map[int32][]uint64{}
	for i := range 300 {
		p := int32(i % 3)
		e := event.Event{EventID: fmt.Sprintf("e%d", i), Type: event.TypeWorkcycle, Phase: event.PhaseStarted,
			Time: at("2026-03-02 10:00:00"), TenantID: fmt.Sprintf("t%d", i%2), WorkcycleID: fmt.Sprintf("wc-%d", i/2),
			Source: event.Position{Topic: "in", Partition: p, Offset: int64(i)}}
		evs = append(evs, e)
		want[p] = append(want[p], KeyHash(e.TenantID, e.WorkcycleID))
	}
	for p := range want {
		slices.Sort(want[p])
		want[p] = slices.Compact(want[p])
	}
	h := NewHistory(conn, schema, DefaultMaxQueryBytes)
	check := func(stage string) {
		t.Helper()
		for p := int32(0); p < 4; p++ {
			got, err := h.StoredKeys(ctx, "in", p)
			if err != nil {
				t.Fatal(err)
			}
			slices.Sort(got)
			if got = slices.Compact(got); !slices.Equal(got, want[p]) {
				t.Errorf("%s: partition %d has %d keys, want %d", stage, p, len(got), len(want[p]))
			}
		}
		if other, err := h.StoredKeys(ctx, "other", 0); err != nil || len(other) != 0 {
			t.Errorf("%s: topic other has %d keys (%v), want none", stage, len(other), err)
		}
	}

	var rows []KeyRow
	for p, hs := range want {
		for _, k := range hs {
			rows = append(rows, KeyRow{Topic: "in", Partition: p, Hash: k})
		}
	}
	write(t, w, Batch{Events: evs, Keys: rows}, Batch{Keys: rows[:10]}) // duplicates are harmless
	check("written")

	if err := conn.Exec(ctx, fmt.Sprintf("TRUNCATE TABLE %s.workcycle_keys", schema.Database)); err != nil {
		t.Fatal(err)
	}
	ms, err := chschema.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(ms, func(m chschema.Migration) bool { return m.Name == "workcycle_keys" })
	if i < 0 {
		t.Fatal("no migration workcycle_keys")
	}
	stmts, err := ms[i].Statements(chschema.Params{Database: schema.Database, Flavor: schema.Flavor})
	if err != nil {
		t.Fatal(err)
	}
	backfill := stmts[len(stmts)-1]
	if !strings.Contains(backfill, "INSERT INTO") {
		t.Fatalf("the migration's last statement is not the backfill:\n%s", backfill)
	}
	if err := conn.Exec(ctx, backfill); err != nil {
		t.Fatal(err)
	}
	check("backfilled")
}
