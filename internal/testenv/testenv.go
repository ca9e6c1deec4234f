package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

// Required reports whether tests must fail rather than skip when the stack is absent.
func Required() bool { return os.Getenv("AWUMETER_REQUIRE_STACK") == "1" }

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// unavailable skips or fails the test, depending on Required.
func unavailable(t testing.TB, server string, err error) {
	t.Helper()
	msg := server + " is not reachable (" + err.Error() + "); start the local stack with `make up`, or set the address variables described in internal/testenv"
	if Required() {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

var unsafeName = regexp.MustCompile(`[^a-zA-Z0-9_]+`)

// UniqueName returns prefix_<test name>_<random>, safe as a Kafka topic and a
// ClickHouse identifier, so parallel tests and repeated runs never collide.
func UniqueName(t testing.TB, prefix string) string {
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatalf("random name: %v", err)
	}
	name := strings.Trim(unsafeName.ReplaceAllString(t.Name(), "_"), "_")
	if len(name) > 40 {
		name = name[:40]
	}
	return strings.ToLower(prefix + "_" + name + "_" + hex.EncodeToString(b[:]))
}

// Context returns a context cancelled when the test ends or after d.
func Context(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
