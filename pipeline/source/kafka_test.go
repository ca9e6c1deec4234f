package source

import (
	"path/filepath"
	"strings"
	"testing"
)

// The Kafka client's TLS comes from internal/tlsconfig: its errors name
// the kafka.tls key, and a disabled TLS adds no dialer.
func TestClientOptsTLS(t *testing.T) {
	cfg := DefaultConfig()
	plain, err := cfg.ClientOpts()
	if err != nil {
		t.Fatal(err)
	}
	cfg.TLS.Enabled = true
	withTLS, err := cfg.ClientOpts()
	if err != nil {
		t.Fatal(err)
	}
	if len(withTLS) != len(plain)+1 {
		t.Errorf("TLS added %d options, want 1", len(withTLS)-len(plain))
	}
	missing := filepath.Join(t.TempDir(), "client.pem")
	cfg.TLS.CertFile, cfg.TLS.KeyFile = missing, missing
	if _, err := cfg.ClientOpts(); err == nil || !strings.Contains(err.Error(), "kafka.tls.cert_file") {
		t.Errorf("ClientOpts with a missing client certificate: %v, want an error naming kafka.tls.cert_file", err)
	}
}
