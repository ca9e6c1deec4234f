package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/engine and testdata/statement; review every changed number by hand")

const goldenNow = "2026-11-27T00:00:00Z"

// run executes awumeter with args and returns stdout and stderr.
func run(t *testing.T, stdin string, args ...string) (string, string, error) {
	t.Helper()
	cmd := newRootCmd()
	var out, errOut bytes.Buffer
	cmd.SetArgs(args)
	cmd.SetIn(strings.NewReader(stdin))
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	err := cmd.Execute()
	return out.String(), errOut.String(), err
}

func golden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("%s differs:\ngot:\n%s\nwant:\n%s", path, got, want)
	}
}

func TestProcessGolden(t *testing.T) {
	cases, err := filepath.Glob("../../testdata/engine/*/input.ndjson")
	if err != nil || len(cases) == 0 {
		t.Fatalf("no golden cases: %v", err)
	}
	for _, input := range cases {
		dir := filepath.Dir(input)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			dl := filepath.Join(t.TempDir(), "dl.ndjson")
			out, _, err := run(t, "", "process", "--input", input, "--dead-letter", dl, "--now", goldenNow)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, filepath.Join(dir, "output.ndjson"), out)

			letters, err := os.ReadFile(dl)
			if err != nil {
				t.Fatal(err)
			}
			if want := filepath.Join(dir, "deadletter.ndjson"); len(letters) > 0 || fileExists(want) {
				// The topic of a letter is the input path as given.
				golden(t, want, strings.ReplaceAll(string(letters), "../../", ""))
			}

			if final := filepath.Join(dir, "final.ndjson"); fileExists(final) {
				out, _, err := run(t, "", "process", "--input", input, "--final-only", "--now", goldenNow)
				if err != nil {
					t.Fatal(err)
				}
				golden(t, final, out)
			}
		})
	}
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func TestProcessReadsStdinAndSummarises(t *testing.T) {
	in, err := os.ReadFile("../../testdata/engine/worked-example/input.ndjson")
	if err != nil {
		t.Fatal(err)
	}
	out, stderr, err := run(t, string(in), "process", "--now", goldenNow)
	if err != nil {
		t.Fatal(err)
	}
	// One workcycle, three AWUs, each with one model.
	if n := strings.Count(out, "\n"); n != 7 {
		t.Errorf("got %d rows, want 7", n)
	}
	if !strings.Contains(stderr, "11 events accepted") || !strings.Contains(stderr, "1 duplicates") ||
		!strings.Contains(stderr, "3 AWU rows and 3 AWU model rows") {
		t.Errorf("summary: %s", stderr)
	}
}

func TestProcessRejectsBadFlags(t *testing.T) {
	if _, _, err := run(t, "", "process", "--idle-timeout", "0s"); err == nil || !strings.Contains(err.Error(), "engine.idle_timeout") {
		t.Errorf("got %v, want an error naming engine.idle_timeout", err)
	}
	if _, _, err := run(t, "", "process", "--input", filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("want an error for a missing input")
	}
	if _, _, err := run(t, "", "process", "--now", "yesterday"); err == nil {
		t.Error("want an error for a bad --now")
	}
}

// Only JSON whitespace makes a line blank: a line of no-break spaces is a
// record a producer sent, and it is dead-lettered like any other, never
// skipped uncounted.
func TestProcessDeadLettersLinesOfUnicodeSpaces(t *testing.T) {
	dir := t.TempDir()
	in, dl := filepath.Join(dir, "in.ndjson"), filepath.Join(dir, "dl.ndjson")
	if err := os.WriteFile(in, []byte("\u00a0\n\n \t\n\u0085\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, errOut, err := run(t, "", "process", "--input", in, "--output", filepath.Join(dir, "out.ndjson"), "--dead-letter", dl, "--now", goldenNow)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(errOut, "2 records, 2 rejected") {
		t.Errorf("summary %q, want the two lines of Unicode spaces counted and rejected", errOut)
	}
	b, err := os.ReadFile(dl)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(b), `"reason":"not_json"`); n != 2 {
		t.Errorf("%d not_json dead letters, want 2:\n%s", n, b)
	}
}
