package testenv

import (
	"context"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// ClickHouse is a reachable ClickHouse server with a database of the test's own.
type ClickHouse struct {
	Addr     string
	Database string
	// Conn's default database is Database.
	Conn driver.Conn
}

// ClickHouseAddr returns the native-protocol address the tests use.
func ClickHouseAddr() string {
	return envOr("AWUMETER_CLICKHOUSE_ADDR", "127.0.0.1:"+envOr("AWUMETER_CH_PORT", "9000"))
}

// ClickHouseOptions returns connection options for the stack's server and database db.
func ClickHouseOptions(db string) *clickhouse.Options {
	return &clickhouse.Options{
		Addr: []string{ClickHouseAddr()},
		Auth: clickhouse.Auth{
			Database: db,
			Username: envOr("AWUMETER_CLICKHOUSE_USER", "default"),
			Password: envOr("AWUMETER_CLICKHOUSE_PASSWORD", ""),
		},
		DialTimeout: 2 * time.Second,
	}
}

// NewClickHouse creates a uniquely named database, dropped when the test ends,
// and connects to it; it skips (fails, if Required) when the server is absent.
func NewClickHouse(t testing.TB) *ClickHouse {
	t.Helper()
	addr := ClickHouseAddr()
	admin, err := clickhouse.Open(ClickHouseOptions("default"))
	if err != nil {
		t.Fatalf("clickhouse options: %v", err)
	}
	t.Cleanup(func() { admin.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := admin.Ping(ctx); err != nil {
		unavailable(t, "clickhouse at "+addr, err)
	}
	db := UniqueName(t, "db")
	if err := admin.Exec(ctx, "CREATE DATABASE "+db); err != nil {
		t.Fatalf("create database %s: %v", db, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := admin.Exec(ctx, "DROP DATABASE IF EXISTS "+db); err != nil {
			t.Logf("drop database %s: %v", db, err)
		}
	})
	conn, err := clickhouse.Open(ClickHouseOptions(db))
	if err != nil {
		t.Fatalf("clickhouse connect: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	return &ClickHouse{Addr: addr, Database: db, Conn: conn}
}
