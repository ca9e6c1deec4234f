package statement

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/awumeter/awumeter/pipeline/engine"
)

const forgingTenant = "acme\nTotal     USD 0.00\nHash      sha256:forged"

// hostileStatement is a draft for tenant with one AWU of model.
func hostileStatement(t *testing.T, tenant, model string) *Statement {
	t.Helper()
	tl := NewTally(month(t, "2026-10", "UTC"))
	tl.TenantID = tenant
	if _, err := tl.AddAWU(tool("2026-10-02T00:00:00Z", "text")); err != nil {
		t.Fatal(err)
	}
	if _, err := tl.AddModel(&ModelRow{Model: model, FirstSeen: ts("2026-10-02T00:00:00Z"),
		TokenCounts: engine.TokenCounts{InputTokens: 10}, TokenCost: dec("0.25")}); err != nil {
		t.Fatal(err)
	}
	return mustDraft(t, tenant, testBook(t).PlanFor(tenant), tl)
}

func linesStartingWith(text, prefix string) int {
	n := 0
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, prefix) {
			n++
		}
	}
	return n
}

func TestTextStatementEscapesValuesFromData(t *testing.T) {
	t.Run("a tenant id with line breaks cannot forge the total or the hash", func(t *testing.T) {
		var b bytes.Buffer
		if err := WriteText(&b, []*Statement{hostileStatement(t, forgingTenant, "m")}); err != nil {
			t.Fatal(err)
		}
		out := b.String()
		if n := linesStartingWith(out, "Total"); n != 1 {
			t.Errorf("%d lines start with Total, want 1:\n%s", n, out)
		}
		if n := linesStartingWith(out, "Hash"); n != 1 {
			t.Errorf("%d lines start with Hash, want 1:\n%s", n, out)
		}
		if want := `Tenant    acme\nTotal     USD 0.00\nHash      sha256:forged` + "\n"; !strings.Contains(out, want) {
			t.Errorf("the tenant line is not %q:\n%s", want, out)
		}
	})
	t.Run("ANSI escapes and bidi overrides in a model name do not reach the terminal", func(t *testing.T) {
		var b bytes.Buffer
		if err := WriteText(&b, []*Statement{hostileStatement(t, "acme", "\x1b[2J\x1b[31mgpt\u202e\u009b")}); err != nil {
			t.Fatal(err)
		}
		out := b.String()
		if strings.ContainsAny(out, "\x1b\u202e\u009b\r") {
			t.Fatalf("the text statement holds a raw control character: %q", out)
		}
		if !strings.Contains(out, `\x1b[2J\x1b[31mgpt\u202e\u009b`) {
			t.Fatalf("the model is not shown escaped:\n%s", out)
		}
	})
}

func TestReconciliationTextEscapesTheTenant(t *testing.T) {
	r := &Reconciliation{TenantID: forgingTenant, Month: "2026-10", StatementID: StatementID(forgingTenant, "2026-10"),
		Status: StatusDraft, DeadLetters: deadLettersUnavailable, Checks: []Check{{Name: checkAWUs,
			Ledger: nullDec(qty(2)), Rollups: nullDec(qty(1)), Statement: nullDec(qty(1))}}}
	var b bytes.Buffer
	if err := WriteReconciliationsText(&b, []*Reconciliation{r}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if n := linesStartingWith(out, "Total") + linesStartingWith(out, "Hash"); n != 0 {
		t.Fatalf("the tenant id forged %d lines:\n%s", n, out)
	}
}

func TestCSVNeutralisesFormulasButNotNumbers(t *testing.T) {
	book := testBook(t)
	tally := func(actions int) *Tally {
		tl := NewTally(month(t, "2026-10", "UTC"))
		tl.TenantID = "=HYPERLINK(\"http://evil\")"
		for range actions {
			if _, err := tl.AddAWU(tool("2026-10-02T00:00:00Z", "text")); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := tl.AddModel(&ModelRow{Model: "@SUM(A1)", FirstSeen: ts("2026-10-02T00:00:00Z"), TokenCost: decimal.Zero}); err != nil {
			t.Fatal(err)
		}
		return tl
	}
	tenant := "=HYPERLINK(\"http://evil\")"
	// The rows changed after the close: one action fewer, so the
	// adjustments are negative deltas.
	closed := mustDraft(t, tenant, book.PlanFor(tenant), tally(2))
	closed.Status = StatusClosed
	current := mustDraft(t, tenant, TermsOf(book.PlanFor(tenant)), tally(1))
	next := mustDraft(t, tenant, book.PlanFor(tenant), NewTally(month(t, "2026-11", "UTC")))
	next.TenantID = tenant
	next = next.WithAdjustments(Adjust(closed, current, nil))

	var b bytes.Buffer
	if err := WriteCSV(&b, []*Statement{closed, next}); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	var sawNegative bool
	for _, r := range rows[1:] {
		for _, name := range []string{"statement_id", "tenant_id", "model", "ref_statement_id"} {
			if c := r[col[name]]; c != "" && strings.ContainsAny(c[:1], "=+-@\t\r") {
				t.Errorf("%s cell %q starts a formula", name, c)
			}
		}
		if r[col["tenant_id"]] != `'=HYPERLINK("http://evil")` {
			t.Errorf("tenant_id cell = %q, want the id behind a single quote", r[col["tenant_id"]])
		}
		if r[col["kind"]] == KindAdjustment && r[col["item"]] == ItemFlexCreditAmount {
			sawNegative = true
			if q, a := r[col["quantity"]], r[col["amount"]]; q != "-20" || a != "-0.10" {
				t.Errorf("adjustment quantity %q, amount %q; want the numbers -20 and -0.10", q, a)
			}
		}
	}
	if !sawNegative {
		t.Fatal("the export has no negative adjustment; the test proves nothing about numbers")
	}
}

func TestJSONKeepsHostileIDsExactAndEscaped(t *testing.T) {
	tenant := forgingTenant + "\x1b[31m"
	var b bytes.Buffer
	if err := WriteJSON(&b, []*Statement{hostileStatement(t, tenant, "m\x1b[0m")}); err != nil {
		t.Fatal(err)
	}
	if strings.ContainsAny(b.String(), "\x1b\r") || linesStartingWith(b.String(), "Total") != 0 {
		t.Fatalf("the JSON output holds a raw control character or a forged line:\n%s", b.String())
	}
	var got []JSONStatement
	if err := json.Unmarshal(b.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got[0].TenantID != tenant {
		t.Fatalf("tenant_id read back as %q, want %q", got[0].TenantID, tenant)
	}
}
