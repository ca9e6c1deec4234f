package statement

import "github.com/shopspring/decimal"

// Adjust returns the late-data adjustments of a closed statement: for every
// line item, current minus closed minus the adjustments already made for it
// on statements closed since (earlier, only those referencing closed.ID
// count). current is the recomputation of the closed month, drawn up with the
// closed statement's own terms and period. Items whose quantity and amount
// deltas are both zero are left out.
//
// Amount deltas are differences of amounts already rounded to cents, so the
// closed amount plus its adjustments is always the current rounded amount.
func Adjust(closed, current *Statement, earlier []Adjustment) []Adjustment {
	type acc struct {
		line      Line
		q, amount decimal.Decimal
		hasAmount bool
	}
	var order []lineKey
	byKey := map[lineKey]*acc{}
	get := func(l *Line) *acc {
		k := l.key()
		a := byKey[k]
		if a == nil {
			a = &acc{line: *l, q: decimal.Zero, amount: decimal.Zero}
			byKey[k] = a
			order = append(order, k)
		}
		return a
	}
	add := func(l *Line, sign int64) {
		a := get(l)
		s := decimal.NewFromInt(sign)
		a.q = a.q.Add(l.Quantity.Mul(s))
		if l.Amount.Valid {
			a.hasAmount = true
			a.amount = a.amount.Add(l.Amount.Decimal.Mul(s))
		}
	}
	for i := range closed.Lines {
		get(&closed.Lines[i]) // the closed statement's order and descriptions first
	}
	for i := range current.Lines {
		l := &current.Lines[i]
		add(l, 1)
		if l.UnitPrice.Valid {
			get(l).line.UnitPrice = l.UnitPrice
		}
	}
	for i := range closed.Lines {
		add(&closed.Lines[i], -1)
	}
	for i := range earlier {
		if earlier[i].RefStatementID == closed.ID {
			add(&earlier[i].Line, -1)
		}
	}
	var out []Adjustment
	for _, k := range order {
		a := byKey[k]
		if a.q.IsZero() && a.amount.IsZero() {
			continue
		}
		l := a.line
		l.Quantity = a.q
		l.Amount = decimal.NullDecimal{Decimal: a.amount, Valid: a.hasAmount}
		l.exact = a.amount
		out = append(out, Adjustment{RefStatementID: closed.ID, RefMonth: closed.Period.Month, Line: l})
	}
	return out
}

// WithAdjustments returns s with adjs appended and its total and hash
// brought up to date.
func (s *Statement) WithAdjustments(adjs []Adjustment) *Statement {
	s.Adjustments = append(s.Adjustments, adjs...)
	s.sumTotal()
	s.ContentHash = s.Hash()
	return s
}
