package statement

import (
	"context"
	"fmt"
	"time"

	"github.com/shopspring/decimal"
)

// The closed statements live in the statements and statement_lines tables
// (schemas/chschema/0006_statements.sql). They are append-only: a
// statement is written once, lines first and header last, so a header that
// can be read always has its lines. Should two closes race, the earliest
// closed_at wins; its lines are found by (statement_id, content_hash).

const statementColumns = `statement_id, tenant_id, month, time_zone, period_start, period_end, plan, currency,
       action_credits, voice_action_credits, prompt_awu_credits, credit_price, conversation_price, total,
       content_hash, closed_at, forced, grace_seconds,
       cutoff_ingested_at, cutoff_topics, cutoff_partitions, cutoff_offsets, ledger_events`

const lineColumns = `statement_id, tenant_id, month, content_hash, line_no, kind, item, model, quantity, unit,
       unit_price, amount, currency, billed, ref_statement_id, ref_month`

// Save writes a closed statement.
func (w *Warehouse) Save(ctx context.Context, s *Statement) error {
	if s.Closing == nil {
		return fmt.Errorf("statement %s: only a closed statement can be saved", s.ID)
	}
	lines, err := w.conn.PrepareBatch(ctx, w.sql("INSERT INTO {db}.statement_lines ("+lineColumns+")"))
	if err != nil {
		return fmt.Errorf("cannot save statement %s lines: %w", s.ID, err)
	}
	defer lines.Close() // ends the INSERT unsent and releases the connection if Send is not reached
	no := uint32(0)
	appendLine := func(kind, ref, refMonth string, l *Line) error {
		no++
		return lines.Append(s.ID, s.TenantID, s.Period.Month, s.ContentHash, no, kind, l.Item, l.Model,
			l.Quantity, l.Unit, nullable(l.UnitPrice), nullable(l.Amount), l.Currency, boolByte(l.Billed), ref, refMonth)
	}
	for i := range s.Lines {
		if err := appendLine(KindLine, "", "", &s.Lines[i]); err != nil {
			return fmt.Errorf("cannot save statement %s lines: %w", s.ID, err)
		}
	}
	for i := range s.Adjustments {
		a := &s.Adjustments[i]
		if err := appendLine(KindAdjustment, a.RefStatementID, a.RefMonth, &a.Line); err != nil {
			return fmt.Errorf("cannot save statement %s lines: %w", s.ID, err)
		}
	}
	if err := lines.Send(); err != nil {
		return fmt.Errorf("cannot save statement %s lines: %w", s.ID, err)
	}

	c := s.Closing
	topics := make([]string, len(c.Cutoff.Offsets))
	partitions := make([]int32, len(c.Cutoff.Offsets))
	offsets := make([]int64, len(c.Cutoff.Offsets))
	for i, o := range c.Cutoff.Offsets {
		topics[i], partitions[i], offsets[i] = o.Topic, o.Partition, o.Offset
	}
	head, err := w.conn.PrepareBatch(ctx, w.sql("INSERT INTO {db}.statements ("+statementColumns+")"))
	if err != nil {
		return fmt.Errorf("cannot save statement %s: %w", s.ID, err)
	}
	defer head.Close()
	err = head.Append(s.ID, s.TenantID, s.Period.Month, s.Period.TimeZone, s.Period.Start, s.Period.End,
		s.Terms.Plan, s.Currency, s.Terms.ActionCreditsPer, s.Terms.VoiceActionCreditsPer, s.Terms.PromptAWUCreditsPer,
		s.Terms.CreditUnitPrice, s.Terms.ConversationUnitPrice, s.Total,
		s.ContentHash, c.ClosedAt, boolByte(c.Forced), int64(c.Grace/time.Second),
		c.Cutoff.IngestedAt, topics, partitions, offsets, c.Cutoff.LedgerEvents)
	if err == nil {
		err = head.Send()
	}
	if err != nil {
		return fmt.Errorf("cannot save statement %s: %w", s.ID, err)
	}
	return nil
}

// Closed returns the closed statement of a tenant's month, or nil.
func (w *Warehouse) Closed(ctx context.Context, tenantID, month string) (*Statement, error) {
	all, err := w.closed(ctx, "tenant_id = ? AND month = ?", tenantID, month)
	if err != nil || len(all) == 0 {
		return nil, err
	}
	return all[0], nil
}

// ClosedStatements returns every closed statement of a tenant, by month.
func (w *Warehouse) ClosedStatements(ctx context.Context, tenantID string) ([]*Statement, error) {
	return w.closed(ctx, "tenant_id = ?", tenantID)
}

func (w *Warehouse) closed(ctx context.Context, where string, args ...any) ([]*Statement, error) {
	var out []*Statement
	err := w.each(ctx, "SELECT "+statementColumns+" FROM {db}.statements WHERE "+where+`
ORDER BY month, closed_at, content_hash
LIMIT 1 BY month`, args, func(r scanner) error {
		s := &Statement{Status: StatusClosed, Closing: &Closing{}}
		c := s.Closing
		var forced uint8
		var grace int64
		var topics []string
		var partitions []int32
		var offsets []int64
		if err := r.Scan(&s.ID, &s.TenantID, &s.Period.Month, &s.Period.TimeZone, &s.Period.Start, &s.Period.End,
			&s.Terms.Plan, &s.Currency, &s.Terms.ActionCreditsPer, &s.Terms.VoiceActionCreditsPer, &s.Terms.PromptAWUCreditsPer,
			&s.Terms.CreditUnitPrice, &s.Terms.ConversationUnitPrice, &s.Total,
			&s.ContentHash, &c.ClosedAt, &forced, &grace,
			&c.Cutoff.IngestedAt, &topics, &partitions, &offsets, &c.Cutoff.LedgerEvents); err != nil {
			return err
		}
		s.Period.Start, s.Period.End = s.Period.Start.UTC(), s.Period.End.UTC()
		c.ClosedAt, c.Cutoff.IngestedAt = c.ClosedAt.UTC(), c.Cutoff.IngestedAt.UTC()
		c.Forced, c.Grace = forced == 1, time.Duration(grace)*time.Second
		for i := range topics {
			c.Cutoff.Offsets = append(c.Cutoff.Offsets, PartitionOffset{topics[i], partitions[i], offsets[i]})
		}
		out = append(out, s)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("cannot read closed statements: %w", err)
	}
	for _, s := range out {
		if err := w.loadLines(ctx, s); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// loadLines reads a closed statement's lines and checks them against its
// content hash.
func (w *Warehouse) loadLines(ctx context.Context, s *Statement) error {
	err := w.each(ctx, "SELECT kind, item, model, quantity, unit, unit_price, amount, currency, billed, ref_statement_id, ref_month"+`
FROM {db}.statement_lines
WHERE tenant_id = ? AND month = ? AND statement_id = ? AND content_hash = ?
ORDER BY line_no
LIMIT 1 BY line_no`, []any{s.TenantID, s.Period.Month, s.ID, s.ContentHash}, func(r scanner) error {
		var kind, ref, refMonth string
		var l Line
		var unitPrice, amount *decimal.Decimal
		var billed uint8
		if err := r.Scan(&kind, &l.Item, &l.Model, &l.Quantity, &l.Unit, &unitPrice, &amount, &l.Currency, &billed, &ref, &refMonth); err != nil {
			return err
		}
		l.UnitPrice, l.Amount, l.Billed = fromNullable(unitPrice), fromNullable(amount), billed == 1
		l.exact = l.Amount.Decimal
		if kind == KindAdjustment {
			s.Adjustments = append(s.Adjustments, Adjustment{RefStatementID: ref, RefMonth: refMonth, Line: l})
		} else {
			s.Lines = append(s.Lines, l)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("cannot read the lines of statement %s: %w", s.ID, err)
	}
	if got := s.Hash(); got != s.ContentHash {
		return fmt.Errorf("statement %s: its stored lines hash to %s, not to the %s recorded when it was closed; the snapshot was altered", s.ID, got, s.ContentHash)
	}
	return nil
}

func nullable(d decimal.NullDecimal) *decimal.Decimal {
	if !d.Valid {
		return nil
	}
	return &d.Decimal
}

func fromNullable(d *decimal.Decimal) decimal.NullDecimal {
	if d == nil {
		return decimal.NullDecimal{}
	}
	return nullDec(*d)
}

func boolByte(b bool) uint8 {
	if b {
		return 1
	}
	return 0
}
