package statement

import (
	"context"
	"fmt"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/awumeter/awumeter/internal/textsafe"
	"github.com/awumeter/awumeter/pipeline/engine"
)

// Reconciliation compares one tenant's month three ways: the distinct valid
// events of the ledger (events FINAL), the rollups (awus and workcycles
// FINAL, summed by ClickHouse) and the statement.
type Reconciliation struct {
	TenantID    string
	Month       string
	StatementID string
	Status      string // of the statement: draft or closed
	Checks      []Check
	// LateAfterClose counts the ledger events of the month beyond the
	// closed statement's cutoff; nil when the month is not closed.
	LateAfterClose *int64
	DeadLetters    DeadLetters
}

// Check is one quantity from each source. A value is invalid (null) where
// a source cannot state it: the ledger has no credits or prices.
type Check struct {
	Name      string
	Ledger    decimal.NullDecimal
	Rollups   decimal.NullDecimal
	Statement decimal.NullDecimal
	// Match is true when the values present agree. For a closed statement
	// only the ledger and the rollups must agree; the statement column shows
	// the snapshot, which late data may have left behind (see Adjust).
	Match bool
}

// DeadLetters reports records rejected before they reached the ledger.
type DeadLetters struct {
	Available bool
	Count     int64
	Note      string
}

// deadLettersUnavailable is reported until dead letters are counted in
// ClickHouse: they are produced to the dead-letter Kafka topic, and a
// rejected record may have no readable tenant or time.
var deadLettersUnavailable = DeadLetters{Note: "not available: rejected records go to the dead-letter topic, which is not counted per tenant and month in ClickHouse"}

// OK reports whether every check matches.
func (r *Reconciliation) OK() bool {
	for _, c := range r.Checks {
		if !c.Match {
			return false
		}
	}
	return true
}

// Explain describes every mismatch in a sentence, one line each, or returns
// "". The tenant id is escaped with textsafe.Terminal, so it cannot break a
// line.
func (r *Reconciliation) Explain() string {
	var b strings.Builder
	for _, c := range r.Checks {
		if c.Match {
			continue
		}
		fmt.Fprintf(&b, "tenant %s, %s, %s: ledger %s, rollups %s, statement %s", textsafe.Terminal(r.TenantID), r.Month, c.Name,
			show(c.Ledger), show(c.Rollups), show(c.Statement))
		switch {
		case c.Ledger.Valid && c.Rollups.Valid && !c.Ledger.Decimal.Equal(c.Rollups.Decimal):
			b.WriteString(" (the rollups do not hold exactly the ledger's events: workcycles still open, rows not yet written, or rows changed by hand)")
		default:
			b.WriteString(" (the statement differs from the rollups it was drawn up from: the rows changed while it was computed, or its terms differ from those the rows were priced with)")
		}
		b.WriteString("\n")
	}
	return strings.TrimSuffix(b.String(), "\n")
}

func show(d decimal.NullDecimal) string {
	if !d.Valid {
		return "n/a"
	}
	return d.Decimal.String()
}

// Quantities compared, in report order.
const (
	checkAWUs          = "awus_attempted"
	checkSucceeded     = "awus_succeeded"
	checkValidated     = "awus_validated"
	checkActions       = "billable_actions"
	checkVoiceActions  = "voice_actions"
	checkAttempts      = "attempts"
	checkConversations = "conversations"
	checkCredits       = "credits"
	checkTokenCost     = "token_cost"
)

var checkOrder = []string{checkAWUs, checkSucceeded, checkValidated, checkActions, checkVoiceActions, checkAttempts,
	ItemInputTokens, ItemOutputTokens, ItemCacheReadInputTokens, ItemCacheCreationInputTokens, ItemReasoningTokens,
	checkConversations, checkCredits, checkTokenCost}

// ledgerTotals recounts the month from the distinct events of the ledger,
// with the engine's rules: an AWU is every event of (workcycle_id, awu_id)
// and belongs to the month of its first event; its kind, channel and status
// are the engine's (engine.AWURow.Classify), and the billing rule counts the
// actions among them (engine.AWURow.BillableAction, VoiceAction). A tool AWU
// succeeded when it has a tool_invocation that succeeded, was validated or
// was rolled back, and is on voice when one of its tool_invocations was.
func (w *Warehouse) ledgerTotals(ctx context.Context, tenantID string, p Period) (map[string]decimal.Decimal, error) {
	var awus, succeeded, validated, actions, voice, attempts uint64
	// Token sums are Decimal(38, 0): an Int64 sum would wrap in ClickHouse.
	var tokens [5]decimal.Decimal
	// One row per class of AWU (is_tool, ok, voice), which the billing rule
	// counts here.
	err := w.each(ctx, `
SELECT is_tool, ok, voice, count(), sum(validated), sum(attempts), sum(input_tokens), sum(output_tokens),
       sum(cache_read_input_tokens), sum(cache_creation_input_tokens), sum(reasoning_tokens)
FROM (
    SELECT workcycle_id, awu_id, min(time) AS first_event,
           max(type = 'tool_invocation') AS is_tool,
           max(type = 'tool_invocation' AND status IN ('succeeded', 'validated', 'rolled_back')) AS ok,
           max(type = 'tool_invocation' AND status = 'validated') AS validated,
           max(type = 'tool_invocation' AND channel = 'voice') AS voice,
           uniqExact(attempt) AS attempts,
           sumIf(toDecimal128(input_tokens, 0), type = 'token_usage') AS input_tokens,
           sumIf(toDecimal128(output_tokens, 0), type = 'token_usage') AS output_tokens,
           sumIf(toDecimal128(cache_read_input_tokens, 0), type = 'token_usage') AS cache_read_input_tokens,
           sumIf(toDecimal128(cache_creation_input_tokens, 0), type = 'token_usage') AS cache_creation_input_tokens,
           sumIf(toDecimal128(reasoning_tokens, 0), type = 'token_usage') AS reasoning_tokens
    FROM {db}.events FINAL
    WHERE tenant_id = ? AND awu_id != '' AND type IN ('token_usage', 'tool_invocation')
    GROUP BY workcycle_id, awu_id
)
WHERE first_event >= toDateTime(?, 'UTC') AND first_event < toDateTime(?, 'UTC')
GROUP BY is_tool, ok, voice`, []any{tenantID, unix(p.Start), unix(p.End)}, func(s scanner) error {
		var isTool, ok, onVoice uint8
		var n, valid, att uint64
		var sums [5]decimal.Decimal
		if err := s.Scan(&isTool, &ok, &onVoice, &n, &valid, &att, &sums[0], &sums[1], &sums[2], &sums[3], &sums[4]); err != nil {
			return err
		}
		var a engine.AWURow
		a.Classify(isTool == 1, onVoice == 1, isTool == 0 || ok == 1)
		awus += n
		validated += valid
		attempts += att
		if a.Status == engine.StatusSucceeded {
			succeeded += n
		}
		if a.BillableAction() {
			actions += n
		}
		if a.VoiceAction() {
			voice += n
		}
		for i := range tokens {
			tokens[i] = tokens[i].Add(sums[i])
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("cannot recount the ledger of tenant %s for %s: %w", tenantID, p.Month, err)
	}
	var conversations uint64
	err = w.conn.QueryRow(ctx, w.sql(`
SELECT count() FROM (
    SELECT conversation_id, min(started) AS first_event
    FROM (
        SELECT workcycle_id, min(time) AS started, max(conversation_id) AS conversation_id
        FROM {db}.events FINAL WHERE tenant_id = ?
        GROUP BY workcycle_id
    )
    WHERE conversation_id != ''
    GROUP BY conversation_id
)
WHERE first_event >= toDateTime(?, 'UTC') AND first_event < toDateTime(?, 'UTC')`),
		tenantID, unix(p.Start), unix(p.End)).Scan(&conversations)
	if err != nil {
		return nil, fmt.Errorf("cannot recount the conversations in the ledger of tenant %s for %s: %w", tenantID, p.Month, err)
	}
	return map[string]decimal.Decimal{
		checkAWUs: u(awus), checkSucceeded: u(succeeded), checkValidated: u(validated),
		checkActions: u(actions), checkVoiceActions: u(voice), checkAttempts: u(attempts),
		ItemInputTokens: tokens[0], ItemOutputTokens: tokens[1], ItemCacheReadInputTokens: tokens[2],
		ItemCacheCreationInputTokens: tokens[3], ItemReasoningTokens: tokens[4],
		checkConversations: u(conversations),
	}, nil
}

// rollupTotals sums the rollups of the month in ClickHouse, the numbers
// the statement is drawn up from (Warehouse.Tally), apart from the
// statement's own reading of them.
func (w *Warehouse) rollupTotals(ctx context.Context, tenantID string, p Period) (map[string]decimal.Decimal, error) {
	var awus, succeeded, actions, voice uint64
	var validated uint64
	// Int64 columns are summed as Decimal(38, 0), which cannot wrap.
	var attempts, in, out, cacheRead, cacheCreation, reasoning, credits decimal.Decimal
	var tokenCost decimal.Decimal
	src, args := usageSource.query(tenantID, p)
	err := w.conn.QueryRow(ctx, w.sql(`
SELECT sum(awus), sum(awus_succeeded), sum(awus_validated), sum(actions), sum(voice_actions),
       sum(attempts), sum(input_tokens), sum(output_tokens), sum(cache_read_input_tokens),
       sum(cache_creation_input_tokens), sum(reasoning_tokens), sum(credits), sum(token_cost)
FROM (`+src+`)`), args...).Scan(&awus, &succeeded, &validated, &actions, &voice,
		&attempts, &in, &out, &cacheRead, &cacheCreation, &reasoning, &credits, &tokenCost)
	if err != nil {
		return nil, fmt.Errorf("cannot sum the rollups of tenant %s for %s: %w", tenantID, p.Month, err)
	}
	var conversations uint64
	err = w.conn.QueryRow(ctx, w.sql(`
SELECT count() FROM (
    SELECT conversation_id, min(started_at) AS first_event
    FROM (SELECT conversation_id, started_at FROM {db}.workcycles FINAL WHERE tenant_id = ?)
    WHERE conversation_id != ''
    GROUP BY conversation_id
)
WHERE first_event >= toDateTime(?, 'UTC') AND first_event < toDateTime(?, 'UTC')`),
		tenantID, unix(p.Start), unix(p.End)).Scan(&conversations)
	if err != nil {
		return nil, fmt.Errorf("cannot count the conversations in the rollups of tenant %s for %s: %w", tenantID, p.Month, err)
	}
	return map[string]decimal.Decimal{
		checkAWUs: u(awus), checkSucceeded: u(succeeded), checkValidated: u(validated),
		checkActions: u(actions), checkVoiceActions: u(voice), checkAttempts: attempts,
		ItemInputTokens: in, ItemOutputTokens: out, ItemCacheReadInputTokens: cacheRead,
		ItemCacheCreationInputTokens: cacheCreation, ItemReasoningTokens: reasoning,
		checkConversations: u(conversations), checkCredits: credits, checkTokenCost: tokenCost,
	}, nil
}

// statementTotals reads the same quantities off a statement's lines. The
// exact token cost is known only for a statement drawn up in this process;
// a closed statement states it rounded per model, so it is not compared.
func statementTotals(s *Statement) map[string]decimal.Decimal {
	q := map[string]decimal.Decimal{}
	tokenCost := decimal.Zero
	for i := range s.Lines {
		l := &s.Lines[i]
		if l.Item == ItemTokenCost {
			tokenCost = tokenCost.Add(l.exact)
			continue
		}
		q[l.Item] = l.Quantity
	}
	out := map[string]decimal.Decimal{
		checkAWUs:          q[ItemAWUsAttempted],
		checkSucceeded:     q[ItemAWUsSucceeded],
		checkValidated:     q[ItemAWUsValidated],
		checkActions:       q[ItemActions].Add(q[ItemVoiceActions]),
		checkVoiceActions:  q[ItemVoiceActions],
		checkAttempts:      q[ItemAWUsAttempted].Add(q[ItemRetries]),
		checkConversations: q[ItemConversations],
		checkCredits:       q[ItemCredits],
	}
	for _, item := range []string{ItemInputTokens, ItemOutputTokens, ItemCacheReadInputTokens, ItemCacheCreationInputTokens, ItemReasoningTokens} {
		out[item] = q[item]
	}
	if s.Tally != nil {
		out[checkTokenCost] = tokenCost
	}
	return out
}

// lateEvents counts the ledger events of a tenant with a time in p that lie
// beyond cutoff: on a partition the cutoff does not list, or above its
// offset there.
func (w *Warehouse) lateEvents(ctx context.Context, tenantID string, p Period, cutoff Cutoff) (int64, error) {
	covered := "0"
	args := []any{tenantID, unix(p.Start), unix(p.End)}
	if len(cutoff.Offsets) > 0 {
		parts := make([]string, len(cutoff.Offsets))
		for i, o := range cutoff.Offsets {
			parts[i] = "(kafka_topic = ? AND kafka_partition = ? AND kafka_offset <= ?)"
			args = append(args, o.Topic, o.Partition, o.Offset)
		}
		covered = strings.Join(parts, " OR ")
	}
	var n uint64
	err := w.conn.QueryRow(ctx, w.sql(`
SELECT count() FROM {db}.events FINAL
WHERE tenant_id = ? AND time >= toDateTime(?, 'UTC') AND time < toDateTime(?, 'UTC') AND NOT (`+covered+`)`), args...).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("cannot count late events of tenant %s for %s: %w", tenantID, p.Month, err)
	}
	return int64(n), nil
}

func u(n uint64) decimal.Decimal { return decimal.NewFromUint64(n) }

// reconcile builds the report for a statement.
func (w *Warehouse) reconcile(ctx context.Context, s *Statement) (*Reconciliation, error) {
	ledger, err := w.ledgerTotals(ctx, s.TenantID, s.Period)
	if err != nil {
		return nil, err
	}
	rollups, err := w.rollupTotals(ctx, s.TenantID, s.Period)
	if err != nil {
		return nil, err
	}
	st := statementTotals(s)
	r := &Reconciliation{TenantID: s.TenantID, Month: s.Period.Month, StatementID: s.ID, Status: s.Status,
		DeadLetters: deadLettersUnavailable}
	closed := s.Status == StatusClosed
	for _, name := range checkOrder {
		c := Check{Name: name, Ledger: get(ledger, name), Rollups: get(rollups, name), Statement: get(st, name)}
		vals := []decimal.NullDecimal{c.Ledger, c.Rollups}
		if !closed {
			vals = append(vals, c.Statement)
		}
		c.Match = agree(vals)
		r.Checks = append(r.Checks, c)
	}
	if closed {
		n, err := w.lateEvents(ctx, s.TenantID, s.Period, s.Closing.Cutoff)
		if err != nil {
			return nil, err
		}
		r.LateAfterClose = &n
	}
	return r, nil
}

func get(m map[string]decimal.Decimal, k string) decimal.NullDecimal {
	d, ok := m[k]
	return decimal.NullDecimal{Decimal: d, Valid: ok}
}

// agree reports whether the valid values are all equal.
func agree(vals []decimal.NullDecimal) bool {
	var first *decimal.Decimal
	for i := range vals {
		if !vals[i].Valid {
			continue
		}
		if first == nil {
			first = &vals[i].Decimal
		} else if !first.Equal(vals[i].Decimal) {
			return false
		}
	}
	return true
}
