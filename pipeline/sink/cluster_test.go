//go:build cluster

package sink

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/awumeter/awumeter/internal/testenv"
	"github.com/awumeter/awumeter/pipeline/migrate"
	"github.com/awumeter/awumeter/schemas/chschema"
)

// The cluster variant on the local two-shard cluster of
// deploy/local/cluster.sh (run by `make test-cluster`): the schema is
// created ON CLUSTER and recorded once, rows written through the
// Distributed tables spread over both shards, and the query pack and the
// rollups give the same answers as on one server, replays included.
func TestClusterVariant(t *testing.T) {
	addrs := strings.Split(os.Getenv("AWUMETER_CLUSTER_ADDRS"), ",")
	cluster := os.Getenv("AWUMETER_CLUSTER_NAME")
	if len(addrs) < 2 || cluster == "" {
		t.Skip("no cluster: run `make test-cluster` (deploy/local/cluster.sh run …)")
	}
	ctx := testenv.Context(t, 5*time.Minute)
	nodes := make([]driver.Conn, len(addrs))
	for i, a := range addrs {
		conn, err := clickhouse.Open(&clickhouse.Options{Addr: []string{a}, DialTimeout: 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		if err := conn.Ping(ctx); err != nil {
			t.Fatalf("node %s: %v", a, err)
		}
		t.Cleanup(func() { conn.Close() })
		nodes[i] = conn
	}
	db := testenv.UniqueName(t, "db")
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := nodes[0].Exec(ctx, "DROP DATABASE IF EXISTS "+db+" ON CLUSTER "+cluster); err != nil {
			t.Logf("drop %s: %v", db, err)
		}
	})

	opts := migrate.Options{Database: db, Cluster: cluster}
	if _, err := migrate.Up(ctx, nodes[0], opts); err != nil {
		t.Fatalf("migrate on cluster: %v", err)
	}
	if again, err := migrate.Up(ctx, nodes[1], opts); err != nil || len(again) != 0 {
		t.Fatalf("second migrate from the other node applied %d: %v", len(again), err)
	}
	var schema migrate.Schema
	for i, n := range nodes {
		s, err := migrate.CheckSchema(ctx, n, db)
		if err != nil {
			t.Fatalf("node %d: %v", i+1, err)
		}
		if s.Cluster != cluster || s.Flavor != chschema.Legacy {
			t.Fatalf("node %d: %+v", i+1, s)
		}
		schema = s
	}

	writeKnown(t, nodes[0], schema)
	for i, n := range nodes {
		var local uint64
		if err := n.QueryRow(ctx, "SELECT count() FROM "+db+".awus_local").Scan(&local); err != nil {
			t.Fatal(err)
		}
		if local == 0 {
			t.Errorf("shard %d holds no AWUs; rows were not distributed", i+1)
		}
	}

	// The pack names no database: query through a session whose default is db.
	qconn, err := clickhouse.Open(&clickhouse.Options{Addr: []string{addrs[1]}, Auth: clickhouse.Auth{Database: db}, DialTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { qconn.Close() })
	for _, name := range chschema.QueryNames() {
		t.Run(name, func(t *testing.T) {
			sql, err := chschema.Query(name)
			if err != nil {
				t.Fatal(err)
			}
			got, err := queryTSV(t, qconn, sql)
			if err != nil {
				t.Fatal(err)
			}
			compareTSV(t, name, got)
		})
	}
	checkRollups(t, nodes[1], db, knownFinal(), "on the cluster after replays")

	// Keys written through one node are read back through the other, from
	// every shard.
	var keys []KeyRow
	for i := range 100 {
		keys = append(keys, KeyRow{Topic: "in", Partition: int32(i % 4), Hash: KeyHash("t", fmt.Sprint("wc-", i))})
	}
	w := NewWriter(nodes[0], schema, testConfig(), Settings{})
	write(t, w, Batch{Keys: keys})
	h := NewHistory(nodes[1], schema, DefaultMaxQueryBytes)
	for p := int32(0); p < 4; p++ {
		got, err := h.StoredKeys(ctx, "in", p)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 25 {
			t.Errorf("partition %d: %d keys read back through the cluster, want 25", p, len(got))
		}
	}
}

// A cluster database written by a release with the FINAL views is migrated
// to the rollup tables: the backfill, run through the Distributed tables,
// gives the rollups the views gave.
func TestClusterUpgradeBackfillsTheRollupTables(t *testing.T) {
	addrs := strings.Split(os.Getenv("AWUMETER_CLUSTER_ADDRS"), ",")
	cluster := os.Getenv("AWUMETER_CLUSTER_NAME")
	if len(addrs) < 2 || cluster == "" {
		t.Skip("no cluster: run `make test-cluster` (deploy/local/cluster.sh run …)")
	}
	ctx := testenv.Context(t, 5*time.Minute)
	conn, err := clickhouse.Open(&clickhouse.Options{Addr: []string{addrs[0]}, DialTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	db := testenv.UniqueName(t, "db")
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+db+" ON CLUSTER "+cluster); err != nil {
			t.Logf("drop %s: %v", db, err)
		}
	})
	opts := migrate.Options{Database: db, Cluster: cluster, To: lastViewsVersion}
	if _, err := migrate.Up(ctx, conn, opts); err != nil {
		t.Fatalf("migrate on cluster to %d: %v", lastViewsVersion, err)
	}
	before, err := migrate.List(ctx, conn, db)
	if err != nil || len(before) != lastViewsVersion {
		t.Fatalf("%d migrations before the upgrade: %v", len(before), err)
	}
	old := NewWriter(conn, migrate.Schema{Database: db, Flavor: before[0].Flavor, Cluster: cluster, Version: lastViewsVersion}, testConfig(), Settings{})
	final, stale := knownFinal(), knownStale()
	for _, b := range []Batch{stale, final, stale, final} {
		writeLegacy(t, old, b)
	}
	opts.To = 0
	if _, err := migrate.Up(ctx, conn, opts); err != nil {
		t.Fatalf("upgrade on cluster: %v", err)
	}
	checkRollups(t, conn, db, final, "on the cluster after the upgrade's backfill")
}
