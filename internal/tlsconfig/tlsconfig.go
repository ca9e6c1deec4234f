// Package tlsconfig is the one TLS setup of the service's clients: the
// keys under kafka.tls and clickhouse.tls, their validation, and the
// *tls.Config built from them.
package tlsconfig

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
)

// Config is what a user writes under kafka.tls or clickhouse.tls.
type Config struct {
	// Enabled turns TLS on; every other setting requires it.
	Enabled bool `yaml:"enabled"`
	// CAFile is a PEM bundle of CAs to trust instead of the system pool.
	CAFile string `yaml:"ca_file"`
	// CertFile and KeyFile are a PEM client certificate and its private
	// key, for mutual TLS; set both or neither.
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
	// ServerName overrides the name checked in the server's certificate.
	ServerName string `yaml:"server_name"`
	// InsecureSkipVerify accepts any server certificate: for tests only.
	InsecureSkipVerify bool `yaml:"insecure_skip_verify"`
}

// Validate reports every problem of the settings, each named by its key
// under prefix (such as "kafka.tls"). It reads no file: Load does.
func (c Config) Validate(prefix string) error {
	var errs []error
	if !c.Enabled && (c.CAFile != "" || c.CertFile != "" || c.KeyFile != "" || c.ServerName != "" || c.InsecureSkipVerify) {
		errs = append(errs, fmt.Errorf("%s.enabled: must be true when other %s settings are set", prefix, prefix))
	}
	switch {
	case c.CertFile != "" && c.KeyFile == "":
		errs = append(errs, fmt.Errorf("%s.key_file: must be set with %s.cert_file", prefix, prefix))
	case c.CertFile == "" && c.KeyFile != "":
		errs = append(errs, fmt.Errorf("%s.cert_file: must be set with %s.key_file", prefix, prefix))
	}
	return errors.Join(errs...)
}

// Load validates the settings and builds the client's *tls.Config: nil
// when TLS is disabled. Errors name the key under prefix whose file could
// not be used.
func (c Config) Load(prefix string) (*tls.Config, error) {
	if err := c.Validate(prefix); err != nil {
		return nil, err
	}
	if !c.Enabled {
		return nil, nil
	}
	cfg := &tls.Config{ServerName: c.ServerName, InsecureSkipVerify: c.InsecureSkipVerify, MinVersion: tls.VersionTLS12}
	if c.CAFile != "" {
		pem, err := os.ReadFile(c.CAFile)
		if err != nil {
			return nil, fmt.Errorf("%s.ca_file: %w", prefix, err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%s.ca_file: %s holds no PEM certificate", prefix, c.CAFile)
		}
		cfg.RootCAs = pool
	}
	if c.CertFile != "" {
		if _, err := os.Stat(c.CertFile); err != nil {
			return nil, fmt.Errorf("%s.cert_file: %w", prefix, err)
		}
		if _, err := os.Stat(c.KeyFile); err != nil {
			return nil, fmt.Errorf("%s.key_file: %w", prefix, err)
		}
		cert, err := tls.LoadX509KeyPair(c.CertFile, c.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("%s.cert_file, %s.key_file: cannot load the client certificate %s with the key %s: %w",
				prefix, prefix, c.CertFile, c.KeyFile, err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}
