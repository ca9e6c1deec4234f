package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/spf13/pflag"

	"github.com/awumeter/awumeter/internal/tlsconfig"
	"github.com/awumeter/awumeter/pipeline/migrate"
	"github.com/awumeter/awumeter/pipeline/sink"
)

// chFlags are the ClickHouse connection flags of the commands that read
// the database: query, report and roi.
type chFlags struct {
	addrs string
	ch    sink.ClickHouseConfig
}

// add declares the flags on fl; help prefixes each description (roi's
// "with --month: ").
func (f *chFlags) add(fl *pflag.FlagSet, help string) {
	f.ch = sink.DefaultConfig().ClickHouseConfig
	fl.StringVar(&f.addrs, "clickhouse", strings.Join(f.ch.Addrs, ","), help+"ClickHouse native address(es), host:port[,host:port]")
	fl.StringVar(&f.ch.Database, "database", f.ch.Database, help+"database name")
	fl.StringVar(&f.ch.Username, "username", f.ch.Username, help+"ClickHouse user")
	fl.StringVar(&f.ch.PasswordFile, "password-file", "", help+"file holding the ClickHouse password (default: $AWUMETER_CLICKHOUSE_PASSWORD)")
	addTLSFlags(fl, &f.ch.TLS, help)
}

// addTLSFlags declares the flags of clickhouse.tls.*: --tls,
// --tls-ca-file and the client certificate, --tls-cert-file and
// --tls-key-file.
func addTLSFlags(fl *pflag.FlagSet, t *tlsconfig.Config, help string) {
	fl.BoolVar(&t.Enabled, "tls", false, help+"connect with TLS")
	fl.StringVar(&t.CAFile, "tls-ca-file", "", help+"PEM CA bundle for TLS")
	fl.StringVar(&t.CertFile, "tls-cert-file", "", help+"PEM client certificate for TLS, with --tls-key-file")
	fl.StringVar(&t.KeyFile, "tls-key-file", "", help+"PEM private key of --tls-cert-file")
}

// dial connects with the database as the session's default and checks
// that its schema is one this binary reads; its errors say what to run.
func (f *chFlags) dial(ctx context.Context) (driver.Conn, error) {
	f.ch.Addrs = strings.Split(f.addrs, ",")
	if f.ch.PasswordFile == "" {
		f.ch.Password = os.Getenv("AWUMETER_CLICKHOUSE_PASSWORD")
	}
	conn, err := sink.DialDatabase(ctx, f.ch)
	var ex *clickhouse.Exception
	if errors.As(err, &ex) && ex.Code == 81 { // UNKNOWN_DATABASE
		return nil, fmt.Errorf("database %s does not exist; run `awumeter migrate --database %s`", f.ch.Database, f.ch.Database)
	}
	if err != nil {
		return nil, err
	}
	if _, err := migrate.CheckSchema(ctx, conn, f.ch.Database); err != nil {
		conn.Close()
		return nil, err // it says what to run
	}
	return conn, nil
}
