package sink

import (
	"context"
	"fmt"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// Dial opens a native-protocol connection pool and checks it with a ping.
func Dial(ctx context.Context, c ClickHouseConfig) (driver.Conn, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	pw, err := c.password()
	if err != nil {
		return nil, err
	}
	tlsCfg, err := c.TLS.config()
	if err != nil {
		return nil, err
	}
	conn, err := clickhouse.Open(&clickhouse.Options{
		Addr:        c.Addrs,
		Auth:        clickhouse.Auth{Database: "default", Username: c.Username, Password: pw},
		TLS:         tlsCfg,
		DialTimeout: c.DialTimeout,
		Compression: &clickhouse.Compression{Method: clickhouse.CompressionLZ4},
	})
	if err != nil {
		return nil, fmt.Errorf("cannot open %s: %w", c, err)
	}
	if err := conn.Ping(ctx); err != nil {
		conn.Close()
		return nil, fmt.Errorf("cannot reach %s: %w", c, err)
	}
	return conn, nil
}
