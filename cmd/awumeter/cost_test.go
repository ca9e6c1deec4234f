package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// runCostCmd executes the root command with args and returns its stdout,
// stderr and error.
func runCostCmd(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	root := newRootCmd()
	root.SetOut(&out)
	root.SetErr(&errOut)
	root.SetArgs(args)
	err = root.Execute()
	return out.String(), errOut.String(), err
}

func TestCostCommandJSON(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want map[string]string
	}{
		{
			name: "golden token cost of claude-sonnet-4.6 with one action",
			args: []string{"--model", "claude-sonnet-4.6", "--input-tokens", "4000", "--output-tokens", "800", "--actions", "1"},
			want: map[string]string{"token_cost": "0.024", "credits": "20", "list_cost": "0.1", "model_id": "claude-sonnet-4.6"},
		},
		{
			name: "an alias and a voice action",
			args: []string{"--model", "vertex_ai/gemini-3-pro", "--input-tokens", "12000", "--output-tokens", "2000", "--voice-actions", "1"},
			want: map[string]string{"token_cost": "0.048", "credits": "30", "list_cost": "0.15", "model_id": "gemini-3-pro"},
		},
		{
			name: "attempts multiply the token cost, not the list cost",
			args: []string{"--model", "gemini-3-flash", "--input-tokens", "4000", "--output-tokens", "800", "--attempts", "3", "--actions", "1"},
			want: map[string]string{"token_cost": "0.0132", "credits": "20", "list_cost": "0.1"},
		},
		{
			// 250,000 × $4 + 2,000 × $18, the tier chosen per attempt
			name: "the long-context tier is chosen by the input of one attempt",
			args: []string{"--model", "gemini-3-pro", "--input-tokens", "250000", "--output-tokens", "2000", "--attempts", "2"},
			want: map[string]string{"token_cost": "2.072"},
		},
		{
			// 1,000 × $3 + 3,000 × $0.30 + 800 × $15
			name: "cache reads at the cache read price",
			args: []string{"--model", "claude-sonnet-4.6", "--input-tokens", "4000", "--output-tokens", "800", "--cache-read-input-tokens", "3000"},
			want: map[string]string{"token_cost": "0.0159"},
		},
		{
			name: "list cost only, without a model",
			args: []string{"--actions", "5000"},
			want: map[string]string{"token_cost": "0", "credits": "100000", "list_cost": "500", "credits_cost": "500"},
		},
		{
			name: "a per-conversation tenant from a price book file",
			args: []string{"--pricebook", "../../testdata/price/good/tenants.yaml", "--tenant", "t-conv", "--model", "acme-1",
				"--input-tokens", "1000000", "--output-tokens", "1000000", "--actions", "1", "--conversations", "2"},
			want: map[string]string{"token_cost": "3", "plan": "per_conversation", "credits": "20", "conversation_cost": "2.5", "list_cost": "2.5"},
		},
		{
			name: "the price in force at --at",
			args: []string{"--pricebook", "../../testdata/price/good/price_change.yaml", "--model", "acme-1", "--at", "2026-03-01",
				"--input-tokens", "1000000", "--output-tokens", "1000000"},
			want: map[string]string{"token_cost": "2.25"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, _, err := runCostCmd(t, append([]string{"cost", "--format", "json", "--at", "2026-01-15T00:00:00Z"}, tc.args...)...)
			if err != nil {
				t.Fatal(err)
			}
			var got map[string]any
			if err := json.Unmarshal([]byte(out), &got); err != nil {
				t.Fatalf("not JSON: %v\n%s", err, out)
			}
			for k, want := range tc.want {
				// Money and credits are JSON strings, never numbers.
				if s, ok := got[k].(string); !ok || s != want {
					t.Errorf("%s = %#v, want the string %q", k, got[k], want)
				}
			}
		})
	}
}

func TestCostCommandText(t *testing.T) {
	out, _, err := runCostCmd(t, "cost", "--model", "anthropic/claude-sonnet-4.6", "--input-tokens", "12000",
		"--output-tokens", "2000", "--actions", "1", "--voice-actions", "1", "--at", "2026-01-15")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`claude-sonnet-4.6 (matched "anthropic/claude-sonnet-4.6")`,
		"12,000 input",
		"token cost     $0.066",
		"credits        50",
		"list cost      $0.25",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestCostCommandErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"unknown model is an error, not $0", []string{"--model", "gpt-x", "--input-tokens", "10"}, `unknown model "gpt-x"`},
		{"no price in force", []string{"--model", "gemini-3-pro", "--at", "2024-06-01", "--input-tokens", "10"}, "no price in force"},
		{"tokens need a model", []string{"--input-tokens", "10"}, "--model is required"},
		{"zero attempts", []string{"--model", "gemini-3-pro", "--attempts", "0"}, "--attempts must be at least 1"},
		{"cache tokens beyond input", []string{"--model", "gemini-3-pro", "--input-tokens", "10", "--cache-read-input-tokens", "11"}, "more than input_tokens"},
		{"bad format", []string{"--format", "xml"}, "--format must be text or json"},
		{"bad time", []string{"--at", "yesterday"}, "--at must be a date"},
		{"bad price book", []string{"--pricebook", "../../testdata/price/bad/negative_price.yaml"}, "must be >= 0"},
		{"negative actions", []string{"--actions", "-1"}, "--actions must be >= 0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := runCostCmd(t, append([]string{"cost"}, tc.args...)...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want %q", err, tc.want)
			}
		})
	}
}
