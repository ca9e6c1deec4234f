package price

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fixtureDir holds the price book fixtures shared with the CLI tests.
const fixtureDir = "../../testdata/price"

func parseFixture(t testing.TB, name string) *Book {
	t.Helper()
	b, err := Load(filepath.Join(fixtureDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(fixtureDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

func mustTime(t testing.TB, s string) (tm time.Time) {
	t.Helper()
	tm, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return tm
}
