package statement

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/awumeter/awumeter/internal/textsafe"
)

// JSONReconciliation is the JSON form of a reconciliation. Values are
// decimal strings, null where a source cannot state them.
type JSONReconciliation struct {
	TenantID       string      `json:"tenant_id"`
	Month          string      `json:"month"`
	StatementID    string      `json:"statement_id"`
	Status         string      `json:"status"`
	OK             bool        `json:"ok"`
	Checks         []JSONCheck `json:"checks"`
	LateAfterClose *int64      `json:"late_after_close"`
	DeadLetters    struct {
		Available bool   `json:"available"`
		Count     *int64 `json:"count"`
		Note      string `json:"note,omitempty"`
	} `json:"dead_letters"`
}

// JSONCheck is one compared quantity.
type JSONCheck struct {
	Name      string  `json:"name"`
	Ledger    *string `json:"ledger"`
	Rollups   *string `json:"rollups"`
	Statement *string `json:"statement"`
	Match     bool    `json:"match"`
}

// JSON returns the JSON form of r.
func (r *Reconciliation) JSON() JSONReconciliation {
	j := JSONReconciliation{TenantID: r.TenantID, Month: r.Month, StatementID: r.StatementID, Status: r.Status,
		OK: r.OK(), Checks: []JSONCheck{}, LateAfterClose: r.LateAfterClose}
	for _, c := range r.Checks {
		j.Checks = append(j.Checks, JSONCheck{c.Name, optString(c.Ledger), optString(c.Rollups), optString(c.Statement), c.Match})
	}
	j.DeadLetters.Available, j.DeadLetters.Note = r.DeadLetters.Available, r.DeadLetters.Note
	if r.DeadLetters.Available {
		n := r.DeadLetters.Count
		j.DeadLetters.Count = &n
	}
	return j
}

// WriteReconciliationsJSON writes reconciliations as an indented JSON array.
func WriteReconciliationsJSON(w io.Writer, rs []*Reconciliation) error {
	out := make([]JSONReconciliation, 0, len(rs))
	for _, r := range rs {
		out = append(out, r.JSON())
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// WriteReconciliationsText writes reconciliations as tables, every value
// from data escaped with textsafe.Terminal.
func WriteReconciliationsText(w io.Writer, rs []*Reconciliation) error {
	var b strings.Builder
	for i, r := range rs {
		if i > 0 {
			b.WriteString("\n")
		}
		verdict := "OK"
		if !r.OK() {
			verdict = "MISMATCH"
		}
		fmt.Fprintf(&b, "Reconciliation %s  (%s): %s\n\n", textsafe.Terminal(r.StatementID), textsafe.Terminal(r.Status), verdict)
		t := table{align: []bool{false, true, true, true, false}}
		t.row("QUANTITY", "LEDGER", "ROLLUPS", "STATEMENT", "")
		for _, c := range r.Checks {
			mark := "ok"
			if !c.Match {
				mark = "DIFFERENT"
			} else if r.Status == StatusClosed && !agree([]decimal.NullDecimal{c.Rollups, c.Statement}) {
				mark = "changed since close"
			}
			t.row(c.Name, show(c.Ledger), show(c.Rollups), show(c.Statement), mark)
		}
		t.write(&b)
		b.WriteString("\n")
		if r.LateAfterClose != nil {
			fmt.Fprintf(&b, "Late after close  %d ledger events of the month beyond the close's cutoff\n", *r.LateAfterClose)
		} else {
			b.WriteString("Late after close  n/a (the month is not closed)\n")
		}
		if r.DeadLetters.Available {
			fmt.Fprintf(&b, "Dead letters      %d\n", r.DeadLetters.Count)
		} else {
			fmt.Fprintf(&b, "Dead letters      %s\n", textsafe.Terminal(r.DeadLetters.Note))
		}
		if !r.OK() {
			fmt.Fprintf(&b, "\n%s\n", textsafe.TerminalLines(r.Explain()))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func optString(d decimal.NullDecimal) *string {
	if !d.Valid {
		return nil
	}
	s := d.Decimal.String()
	return &s
}
