package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPricebookCheck(t *testing.T) {
	out, _, err := runCostCmd(t, "pricebook", "check", "../../testdata/price/good/long_context.yaml")
	if err != nil || !strings.Contains(out, "ok, 1 models (acme-long)") {
		t.Errorf("out %q, err %v", out, err)
	}
	_, _, err = runCostCmd(t, "pricebook", "check", "../../testdata/price/bad/duplicate_ids.yaml")
	if err == nil || !strings.Contains(err.Error(), `models[1] (id "m").id: "m" is already a name`) {
		t.Errorf("error %v", err)
	}
}

func TestPricebookDefaultRoundTrips(t *testing.T) {
	out, _, err := runCostCmd(t, "pricebook", "default")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "book.yaml")
	if err := os.WriteFile(path, []byte(out), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := runCostCmd(t, "pricebook", "check", path); err != nil {
		t.Errorf("the printed default book does not check: %v", err)
	}
}

func TestPricebookImportLiteLLM(t *testing.T) {
	path := filepath.Join(t.TempDir(), "imported.yaml")
	_, stderr, err := runCostCmd(t, "pricebook", "import", "--litellm", "../../testdata/price/litellm/model_prices.json",
		"--effective-from", "2026-11-01", "--output", path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stderr, "imported 4 models, skipped 4") || !strings.Contains(stderr, `skipped "text-embedding-3-small"`) {
		t.Errorf("stderr:\n%s", stderr)
	}
	out, _, err := runCostCmd(t, "cost", "--pricebook", path, "--model", "claude-sonnet-4-6",
		"--input-tokens", "12000", "--output-tokens", "2000", "--at", "2026-11-02", "--format", "json")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, `"token_cost": "0.066"`) {
		t.Errorf("cost with the imported book:\n%s", out)
	}
}

func TestPricebookImportToStdout(t *testing.T) {
	out, _, err := runCostCmd(t, "pricebook", "import", "--litellm", "../../testdata/price/litellm/model_prices.json",
		"--effective-from", "2026-11-01", "--include", "^claude")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, `- id: "claude-sonnet-4-6"`) || strings.Contains(out, "gemini") {
		t.Errorf("output:\n%s", out)
	}
}

func TestPricebookImportErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"file is required", nil, "--litellm FILE is required"},
		{"missing file", []string{"--litellm", "does-not-exist.json"}, "cannot read the LiteLLM price map"},
		{"bad date", []string{"--litellm", "x.json", "--effective-from", "soon"}, "--effective-from must be a date"},
		{"bad include", []string{"--litellm", "x.json", "--include", "("}, "--include is not a valid regular expression"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := runCostCmd(t, append([]string{"pricebook", "import"}, tc.args...)...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want %q", err, tc.want)
			}
		})
	}
}
