package main

import (
	"encoding/json"
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

// The fixture is shared with the price package's tests, which work out its
// costs by hand.
const litellmTiersFixture = "../../pipeline/price/testdata/litellm_tiers.json"

func TestPricebookImportLiteLLMTiers(t *testing.T) {
	path := filepath.Join(t.TempDir(), "imported.yaml")
	_, stderr, err := runCostCmd(t, "pricebook", "import", "--litellm", litellmTiersFixture,
		"--effective-from", "2026-11-01", "--output", path)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{
		`skipped "acme/image-model": mode "image_generation" does not price text tokens`,
		`warning "acme/odd-fields": input_cost_per_second not imported: a per-second price; the book prices tokens only`,
		`warning "acme/odd-fields": cache_creation_input_token_cost_above_1hr not imported: a 1-hour cache write price`,
		"imported 7 models, skipped 2 models and 11 fields of imported models",
	} {
		if !strings.Contains(stderr, line) {
			t.Errorf("stderr lacks %q:\n%s", line, stderr)
		}
	}
	if n := strings.Count(stderr, "warning "); n != 11 {
		t.Errorf("%d warnings, want 11:\n%s", n, stderr)
	}
	for _, tc := range []struct {
		name, model, input, output, want string
		long                             bool
	}{
		// 300,000 × $5 + 4,000 × $22.50 per 1M tokens: the 272k tier.
		{"a 272k-only model above its threshold", "acme/long-272k", "300000", "4000", "1.59", true},
		// 272,000 × $2.50 + 4,000 × $15
		{"a 272k-only model at its threshold", "acme/long-272k", "272000", "4000", "0.74", false},
		// 600,000 × $3 + 1,000 × $6: the higher of two tiers.
		{"two tiers, above both", "acme/two-tiers", "600000", "1000", "1.806", true},
		// 200,000 × $2 + 1,000 × $6: the lower tier.
		{"two tiers, between", "acme/two-tiers", "200000", "1000", "0.406", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, _, err := runCostCmd(t, "cost", "--pricebook", path, "--model", tc.model,
				"--input-tokens", tc.input, "--output-tokens", tc.output, "--at", "2026-11-02", "--format", "json")
			if err != nil {
				t.Fatal(err)
			}
			var res struct {
				TokenCost   string `json:"token_cost"`
				LongContext bool   `json:"long_context"`
			}
			if err := json.Unmarshal([]byte(out), &res); err != nil {
				t.Fatalf("%v:\n%s", err, out)
			}
			if res.TokenCost != tc.want || res.LongContext != tc.long {
				t.Errorf("token_cost %s, long_context %v; want %s, %v", res.TokenCost, res.LongContext, tc.want, tc.long)
			}
		})
	}
}

func TestPricebookDefaultMatchesBedrockProfiles(t *testing.T) {
	for _, model := range []string{
		"us-gov.anthropic.claude-sonnet-4-6-v1:0",
		"bedrock/apac.anthropic.claude-sonnet-4-6-v1:0",
		"global.anthropic.claude-sonnet-4-6",
	} {
		out, _, err := runCostCmd(t, "cost", "--model", model, "--input-tokens", "4000", "--output-tokens", "800",
			"--at", "2026-11-02", "--format", "json")
		if err != nil {
			t.Fatalf("%s: %v", model, err)
		}
		// 4,000 × $3 + 800 × $15 per 1M tokens
		if !strings.Contains(out, `"model_id": "claude-sonnet-4.6"`) || !strings.Contains(out, `"token_cost": "0.024"`) {
			t.Errorf("%s:\n%s", model, out)
		}
	}
	if _, _, err := runCostCmd(t, "cost", "--model", "x1.anthropic.claude-sonnet-4-6-v1:0",
		"--input-tokens", "4000", "--output-tokens", "800", "--at", "2026-11-02"); err == nil {
		t.Error("a random prefix priced as claude-sonnet-4.6")
	}
}
