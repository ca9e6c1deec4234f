package statement

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shopspring/decimal"

	"github.com/awumeter/awumeter/internal/textsafe"
)

// The exports: JSON for programs, CSV for ERP import, text for people. All
// write amounts as exact decimal text: USD with two decimals (13.50), unit
// prices in USD with at least two (2.00, 0.005), credits and quantities as
// integers or exact decimals.
//
// Ids, model names and other text that comes from data are made safe for
// where they go (internal/textsafe): the text form escapes control, escape
// and bidi characters so no value can forge a line or drive the terminal;
// the CSV form puts a single quote before a text cell that a spreadsheet
// would read as a formula (=, +, -, @, tab, CR), but never before the
// numbers it writes, so a negative adjustment amount stays a number. The
// JSON form needs neither: encoding/json escapes control characters and a
// program reads the value unchanged.

// JSONStatement is the JSON form of a statement.
type JSONStatement struct {
	StatementID string           `json:"statement_id"`
	TenantID    string           `json:"tenant_id"`
	Month       string           `json:"month"`
	Status      string           `json:"status"`
	TimeZone    string           `json:"time_zone"`
	PeriodStart time.Time        `json:"period_start"`
	PeriodEnd   time.Time        `json:"period_end"`
	Plan        string           `json:"plan"`
	Currency    string           `json:"currency"`
	Lines       []JSONLine       `json:"lines"`
	Adjustments []JSONAdjustment `json:"adjustments"`
	Total       string           `json:"total"`
	ContentHash string           `json:"content_hash"`
	ClosedAt    *time.Time       `json:"closed_at"`
	Forced      bool             `json:"forced"`
	Cutoff      *JSONCutoff      `json:"cutoff,omitempty"`
}

// JSONLine is the JSON form of a line. UnitPrice and Amount are null on
// lines without them.
type JSONLine struct {
	Item      string  `json:"item"`
	Model     string  `json:"model,omitempty"`
	Quantity  string  `json:"quantity"`
	Unit      string  `json:"unit"`
	UnitPrice *string `json:"unit_price"`
	Amount    *string `json:"amount"`
	Currency  string  `json:"currency,omitempty"`
	Billed    bool    `json:"billed"`
}

// JSONAdjustment is the JSON form of an adjustment: deltas to the line item
// of the referenced closed statement.
type JSONAdjustment struct {
	RefStatementID string `json:"ref_statement_id"`
	RefMonth       string `json:"ref_month"`
	JSONLine
}

// JSONCutoff is the JSON form of a closed statement's cutoff.
type JSONCutoff struct {
	IngestedAt   time.Time             `json:"ingested_at"`
	Offsets      []JSONPartitionOffset `json:"offsets"`
	LedgerEvents int64                 `json:"ledger_events"`
	GraceSeconds int64                 `json:"grace_seconds"`
}

// JSONPartitionOffset is one partition's offset in a cutoff.
type JSONPartitionOffset struct {
	Topic     string `json:"topic"`
	Partition int32  `json:"partition"`
	Offset    int64  `json:"offset"`
}

// JSON returns the JSON form of s.
func (s *Statement) JSON() JSONStatement {
	j := JSONStatement{
		StatementID: s.ID, TenantID: s.TenantID, Month: s.Period.Month, Status: s.Status,
		TimeZone: s.Period.TimeZone, PeriodStart: s.Period.Start.UTC(), PeriodEnd: s.Period.End.UTC(),
		Plan: s.Terms.Plan, Currency: s.Currency,
		Lines: make([]JSONLine, 0, len(s.Lines)), Adjustments: make([]JSONAdjustment, 0, len(s.Adjustments)),
		Total: s.Total.StringFixed(2), ContentHash: s.ContentHash,
	}
	for i := range s.Lines {
		j.Lines = append(j.Lines, jsonLine(&s.Lines[i]))
	}
	for i := range s.Adjustments {
		a := &s.Adjustments[i]
		j.Adjustments = append(j.Adjustments, JSONAdjustment{a.RefStatementID, a.RefMonth, jsonLine(&a.Line)})
	}
	if c := s.Closing; c != nil {
		at := c.ClosedAt.UTC()
		j.ClosedAt, j.Forced = &at, c.Forced
		j.Cutoff = &JSONCutoff{IngestedAt: c.Cutoff.IngestedAt.UTC(), Offsets: []JSONPartitionOffset{},
			LedgerEvents: c.Cutoff.LedgerEvents, GraceSeconds: int64(c.Grace / time.Second)}
		for _, o := range c.Cutoff.Offsets {
			j.Cutoff.Offsets = append(j.Cutoff.Offsets, JSONPartitionOffset(o))
		}
	}
	return j
}

func jsonLine(l *Line) JSONLine {
	j := JSONLine{Item: l.Item, Model: l.Model, Quantity: l.Quantity.String(), Unit: l.Unit, Currency: l.Currency, Billed: l.Billed}
	if l.UnitPrice.Valid {
		p := unitPrice(l.UnitPrice.Decimal, l.Currency)
		j.UnitPrice = &p
	}
	if l.Amount.Valid {
		a := amount(l.Amount.Decimal, l.Currency)
		j.Amount = &a
	}
	return j
}

// unitPrice writes a unit price: USD with at least two decimals.
func unitPrice(d decimal.Decimal, currency string) string {
	if currency == USD && d.Equal(d.Round(2)) {
		return d.StringFixed(2)
	}
	return d.String()
}

// amount writes an amount: USD with exactly two decimals.
func amount(d decimal.Decimal, currency string) string {
	if currency == USD {
		return d.StringFixed(2)
	}
	return d.String()
}

// WriteJSON writes statements as an indented JSON array.
func WriteJSON(w io.Writer, statements []*Statement) error {
	out := make([]JSONStatement, 0, len(statements))
	for _, s := range statements {
		out = append(out, s.JSON())
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(out)
}

// csvHeader is the header row of the CSV export.
var csvHeader = [...]string{"statement_id", "tenant_id", "month", "status", "period_start", "period_end", "currency",
	"line_no", "kind", "item", "model", "quantity", "unit", "unit_price", "amount", "amount_currency", "billed",
	"ref_statement_id", "content_hash"}

// WriteCSV writes one row per line item and adjustment, for ERP import. The
// statement total is not a row; it is the sum of the billed USD amounts.
// Text cells are neutralised with [textsafe.CSVCell]; the line number,
// quantity, unit price, amount, billed flag and period times are written
// as they are.
func WriteCSV(w io.Writer, statements []*Statement) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(csvHeader[:]); err != nil {
		return err
	}
	for _, s := range statements {
		no := 0
		row := func(kind, ref string, l *Line) error {
			no++
			j := jsonLine(l)
			text := textsafe.CSVCell
			return cw.Write([]string{text(s.ID), text(s.TenantID), text(s.Period.Month), text(s.Status),
				s.Period.Start.UTC().Format(time.RFC3339), s.Period.End.UTC().Format(time.RFC3339), text(s.Currency),
				strconv.Itoa(no), text(kind), text(l.Item), text(l.Model), j.Quantity, text(l.Unit), deref(j.UnitPrice), deref(j.Amount),
				text(l.Currency), strconv.FormatBool(l.Billed), text(ref), text(s.ContentHash)})
		}
		for i := range s.Lines {
			if err := row(KindLine, "", &s.Lines[i]); err != nil {
				return err
			}
		}
		for i := range s.Adjustments {
			if err := row(KindAdjustment, s.Adjustments[i].RefStatementID, &s.Adjustments[i].Line); err != nil {
				return err
			}
		}
	}
	cw.Flush()
	return cw.Error()
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// WriteText writes statements as tables for a terminal. Every value is
// escaped with [textsafe.Terminal], so one value is one cell on one line.
func WriteText(w io.Writer, statements []*Statement) error {
	var b strings.Builder
	for i, s := range statements {
		if i > 0 {
			b.WriteString("\n")
		}
		writeTextStatement(&b, s)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func writeTextStatement(b *strings.Builder, s *Statement) {
	esc := textsafe.Terminal
	fmt.Fprintf(b, "Statement %s  (%s)\n", esc(s.ID), esc(strings.ToUpper(s.Status)))
	fmt.Fprintf(b, "Tenant    %s\n", esc(s.TenantID))
	fmt.Fprintf(b, "Period    %s to %s  (%s, %s)\n", s.Period.Start.UTC().Format(time.RFC3339),
		s.Period.End.UTC().Format(time.RFC3339), esc(s.Period.Month), esc(s.Period.TimeZone))
	fmt.Fprintf(b, "Plan      %s, amounts in %s\n\n", esc(s.Terms.Plan), esc(s.Currency))

	t := table{align: []bool{false, false, true, false, true, true, false}}
	t.row("ITEM", "MODEL", "QUANTITY", "UNIT", "UNIT PRICE", "AMOUNT", "BILLED")
	for i := range s.Lines {
		t.row(textCells(&s.Lines[i], false)...)
	}
	t.write(b)
	if len(s.Adjustments) > 0 {
		b.WriteString("\nAdjustments for late data (deltas to closed statements)\n\n")
		a := table{align: []bool{false, false, false, true, false, true, true, false}}
		a.row("REFERENCE", "ITEM", "MODEL", "QUANTITY", "UNIT", "UNIT PRICE", "AMOUNT", "BILLED")
		for i := range s.Adjustments {
			adj := &s.Adjustments[i]
			a.row(append([]string{adj.RefStatementID}, textCells(&adj.Line, true)...)...)
		}
		a.write(b)
	}
	fmt.Fprintf(b, "\nTotal     %s %s\n", esc(s.Currency), s.Total.StringFixed(2))
	if c := s.Closing; c != nil {
		forced := ""
		if c.Forced {
			forced = ", forced before the grace period ended"
		}
		fmt.Fprintf(b, "Closed    %s%s\n", c.ClosedAt.UTC().Format(time.RFC3339), forced)
		fmt.Fprintf(b, "Covers    %d ledger events on %d partitions, ingested up to %s\n",
			c.Cutoff.LedgerEvents, len(c.Cutoff.Offsets), c.Cutoff.IngestedAt.UTC().Format(time.RFC3339))
	}
	fmt.Fprintf(b, "Hash      %s\n", esc(s.ContentHash))
}

func textCells(l *Line, signed bool) []string {
	q := l.Quantity.String()
	if signed && l.Quantity.IsPositive() {
		q = "+" + q
	}
	price, amt := "", ""
	if l.UnitPrice.Valid {
		price = unitPrice(l.UnitPrice.Decimal, l.Currency)
		if l.Currency == Credits {
			price += " credits"
		}
	}
	if l.Amount.Valid {
		amt = amount(l.Amount.Decimal, l.Currency)
		if signed && l.Amount.Decimal.IsPositive() {
			amt = "+" + amt
		}
		if l.Currency == Credits {
			amt += " credits"
		}
	}
	billed := ""
	if l.Currency != "" || l.Item == ItemCredits || l.Item == ItemConversations {
		billed = "no"
		if l.Billed {
			billed = "yes"
		}
	}
	return []string{l.Item, l.Model, q, l.Unit, price, amt, billed}
}

// table lays out rows in columns two spaces apart; align[i] is true for a
// right-aligned column. Cells are escaped with textsafe.Terminal as they are
// added, and widths count runes, not bytes.
type table struct {
	align []bool
	rows  [][]string
}

func (t *table) row(cells ...string) {
	safe := make([]string, len(cells))
	for i, c := range cells {
		safe[i] = textsafe.Terminal(c)
	}
	t.rows = append(t.rows, safe)
}

func (t *table) write(b *strings.Builder) {
	width := make([]int, len(t.align))
	for _, r := range t.rows {
		for i, c := range r {
			width[i] = max(width[i], utf8.RuneCountInString(c))
		}
	}
	for _, r := range t.rows {
		var line strings.Builder
		for i, c := range r {
			if i > 0 {
				line.WriteString("  ")
			}
			pad := strings.Repeat(" ", width[i]-utf8.RuneCountInString(c))
			if t.align[i] {
				line.WriteString(pad + c)
			} else {
				line.WriteString(c + pad)
			}
		}
		b.WriteString(strings.TrimRight(line.String(), " ") + "\n")
	}
}
