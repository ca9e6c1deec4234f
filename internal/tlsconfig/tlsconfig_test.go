package tlsconfig

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// pair writes a certificate signed by parent (self-signed when parent is
// nil) and its key as PEM files in dir, and returns their paths.
type pair struct {
	cert     *x509.Certificate
	key      *ecdsa.PrivateKey
	certFile string
	keyFile  string
}

func newPair(t *testing.T, dir, name string, parent *pair, isCA bool) *pair {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: name},
		DNSNames:     []string{name},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		IsCA:         isCA, BasicConstraintsValid: true,
	}
	signer, signerKey := tmpl, key
	if parent != nil {
		signer, signerKey = parent.cert, parent.key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signer, &key.PublicKey, signerKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	p := &pair{cert: cert, key: key, certFile: filepath.Join(dir, name+".crt"), keyFile: filepath.Join(dir, name+".key")}
	write(t, p.certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	write(t, p.keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}))
	return p
}

func write(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestDisabledIsNil(t *testing.T) {
	cfg, err := Config{}.Load("kafka.tls")
	if cfg != nil || err != nil {
		t.Errorf("Load of disabled TLS = %v, %v; want nil, nil", cfg, err)
	}
}

// A CA, a client certificate and the server name are loaded; the client
// certificate is presented to, and accepted by, a server that requires
// one signed by the CA.
func TestLoadClientCertificate(t *testing.T) {
	dir := t.TempDir()
	ca := newPair(t, dir, "ca", nil, true)
	server := newPair(t, dir, "localhost", ca, false)
	client := newPair(t, dir, "client", ca, false)

	cfg, err := Config{Enabled: true, CAFile: ca.certFile, CertFile: client.certFile, KeyFile: client.keyFile, ServerName: "localhost"}.Load("clickhouse.tls")
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Certificates) != 1 || cfg.RootCAs == nil || cfg.ServerName != "localhost" || cfg.MinVersion != tls.VersionTLS12 || cfg.InsecureSkipVerify {
		t.Fatalf("config = %+v", cfg)
	}

	// A mutual TLS handshake over a pipe proves the pieces fit.
	pool := x509.NewCertPool()
	pool.AddCert(ca.cert)
	serverCert, err := tls.LoadX509KeyPair(server.certFile, server.keyFile)
	if err != nil {
		t.Fatal(err)
	}
	sc, cc := net.Pipe()
	srv := tls.Server(sc, &tls.Config{Certificates: []tls.Certificate{serverCert}, ClientCAs: pool, ClientAuth: tls.RequireAndVerifyClientCert})
	done := make(chan error, 1)
	go func() { done <- srv.Handshake() }()
	cl := tls.Client(cc, cfg)
	if err := cl.Handshake(); err != nil {
		t.Fatalf("client handshake: %v", err)
	}
	if err := <-done; err != nil {
		t.Fatalf("server handshake: %v", err)
	}
	if peers := srv.ConnectionState().PeerCertificates; len(peers) == 0 || peers[0].Subject.CommonName != "client" {
		t.Errorf("server saw client certificates %v", peers)
	}
	// Close the pipe, not the TLS conns: their close_notify would wait
	// for a reader.
	cc.Close()
	sc.Close()
}

// Each failure names the key to fix.
func TestLoadErrorsNameTheKey(t *testing.T) {
	dir := t.TempDir()
	ca := newPair(t, dir, "ca", nil, true)
	client := newPair(t, dir, "client", ca, false)
	other := newPair(t, dir, "other", ca, false)
	notPEM := filepath.Join(dir, "not.pem")
	write(t, notPEM, []byte("hello"))
	missing := filepath.Join(dir, "missing.pem")

	for _, c := range []struct {
		name string
		cfg  Config
		want []string
	}{
		{"mismatched key", Config{Enabled: true, CertFile: client.certFile, KeyFile: other.keyFile},
			[]string{"kafka.tls.cert_file, kafka.tls.key_file:", "private key does not match public key"}},
		{"key is not PEM", Config{Enabled: true, CertFile: client.certFile, KeyFile: notPEM}, []string{"kafka.tls.cert_file, kafka.tls.key_file:"}},
		{"missing cert", Config{Enabled: true, CertFile: missing, KeyFile: client.keyFile}, []string{"kafka.tls.cert_file:", "missing.pem"}},
		{"missing key", Config{Enabled: true, CertFile: client.certFile, KeyFile: missing}, []string{"kafka.tls.key_file:", "missing.pem"}},
		{"missing ca", Config{Enabled: true, CAFile: missing}, []string{"kafka.tls.ca_file:"}},
		{"ca is not PEM", Config{Enabled: true, CAFile: notPEM}, []string{"kafka.tls.ca_file:", "holds no PEM certificate"}},
		{"cert without key", Config{Enabled: true, CertFile: client.certFile}, []string{"kafka.tls.key_file: must be set with kafka.tls.cert_file"}},
		{"key without cert", Config{Enabled: true, KeyFile: client.keyFile}, []string{"kafka.tls.cert_file: must be set with kafka.tls.key_file"}},
		{"settings without enabled", Config{CertFile: client.certFile, KeyFile: client.keyFile}, []string{"kafka.tls.enabled: must be true"}},
	} {
		_, err := c.cfg.Load("kafka.tls")
		if err == nil {
			t.Errorf("%s: no error", c.name)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q lacks %q", c.name, err, w)
			}
		}
	}
}

// Validate reads no file and names the prefix it is given.
func TestValidate(t *testing.T) {
	if err := (Config{Enabled: true, CAFile: "/nonexistent", CertFile: "/a", KeyFile: "/b"}).Validate("x.tls"); err != nil {
		t.Errorf("Validate read a file: %v", err)
	}
	err := (Config{ServerName: "s", KeyFile: "/k"}).Validate("clickhouse.tls")
	if err == nil || !strings.Contains(err.Error(), "clickhouse.tls.enabled:") || !strings.Contains(err.Error(), "clickhouse.tls.cert_file:") {
		t.Errorf("Validate = %v, want both problems named under clickhouse.tls", err)
	}
}
