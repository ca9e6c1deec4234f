package chquery

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/big"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shopspring/decimal"

	"github.com/awumeter/awumeter/internal/textsafe"
)

var formats = [...]string{"table", "csv", "json"}

// Formats returns the output formats Write accepts.
func Formats() []string { return slices.Clone(formats[:]) }

// Write writes res to w in format: "table" (a header row and aligned
// columns, numbers right-aligned), "csv" (RFC 4180 with a header row) or
// "json" (one object per row, keys in column order).
func Write(w io.Writer, format string, res *Result) error {
	switch format {
	case "table":
		return writeTable(w, res)
	case "csv":
		return writeCSV(w, res)
	case "json":
		return writeJSON(w, res)
	}
	return fmt.Errorf("format %q: must be %s", format, strings.Join(formats[:], ", "))
}

type kind int

const (
	kindText    kind = iota // a string from data
	kindNull                // NULL
	kindNumber              // an integer or a finite float: a JSON number
	kindDecimal             // exact; a JSON string so no reader rounds it
	kindBool
	kindOther // times, non-finite floats, anything else: a JSON string
)

type cell struct {
	text string
	kind kind
	raw  any // for kindOther values JSON can encode as they are
}

// render turns one scanned value into its text, for a column of type typ.
func render(v any, typ string) cell {
	if v == nil {
		return cell{kind: kindNull}
	}
	if rv := reflect.ValueOf(v); rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			return cell{kind: kindNull}
		}
		return render(rv.Elem().Interface(), strings.TrimSuffix(strings.TrimPrefix(typ, "Nullable("), ")"))
	}
	switch x := v.(type) {
	case string:
		return cell{text: x, kind: kindText}
	case int8, int16, int32, int64, int:
		return cell{text: strconv.FormatInt(reflect.ValueOf(x).Int(), 10), kind: kindNumber}
	case uint8, uint16, uint32, uint64, uint:
		return cell{text: strconv.FormatUint(reflect.ValueOf(x).Uint(), 10), kind: kindNumber}
	case float32:
		return renderFloat(float64(x), 32)
	case float64:
		return renderFloat(x, 64)
	case decimal.Decimal:
		return cell{text: x.String(), kind: kindDecimal}
	case big.Int:
		return cell{text: x.String(), kind: kindNumber}
	case bool:
		return cell{text: strconv.FormatBool(x), kind: kindBool}
	case time.Time:
		return cell{text: x.Format(timeLayout(typ)), kind: kindOther}
	}
	return cell{text: fmt.Sprint(v), kind: kindText, raw: v}
}

func renderFloat(f float64, bits int) cell {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return cell{text: strconv.FormatFloat(f, 'f', -1, bits), kind: kindOther}
	}
	return cell{text: strconv.FormatFloat(f, 'f', -1, bits), kind: kindNumber}
}

// timeLayout is how ClickHouse itself prints a value of type typ.
func timeLayout(typ string) string {
	switch {
	case strings.HasPrefix(typ, "DateTime64("):
		p, _ := strconv.Atoi(strings.TrimSpace(strings.TrimRight(strings.SplitN(strings.TrimPrefix(typ, "DateTime64("), ",", 2)[0], ")")))
		if p > 0 {
			return "2006-01-02 15:04:05." + strings.Repeat("0", min(p, 9))
		}
		return "2006-01-02 15:04:05"
	case strings.HasPrefix(typ, "DateTime"):
		return "2006-01-02 15:04:05"
	case strings.HasPrefix(typ, "Date"):
		return "2006-01-02"
	}
	return time.RFC3339Nano
}

func cells(res *Result) [][]cell {
	out := make([][]cell, len(res.Rows))
	for r, row := range res.Rows {
		out[r] = make([]cell, len(row))
		for i, v := range row {
			out[r][i] = render(v, res.Columns[i].Type)
		}
	}
	return out
}

func writeTable(w io.Writer, res *Result) error {
	rows := cells(res)
	n := len(res.Columns)
	text := make([][]string, len(rows)+1)
	text[0] = make([]string, n)
	for i, c := range res.Columns {
		text[0][i] = textsafe.Terminal(c.Name)
	}
	right := make([]bool, n)
	for i := range right {
		right[i] = len(rows) > 0
	}
	for r, row := range rows {
		text[r+1] = make([]string, n)
		for i, c := range row {
			switch c.kind {
			case kindNull:
				text[r+1][i] = "NULL"
			default:
				text[r+1][i] = textsafe.Terminal(c.text)
			}
			if c.kind != kindNumber && c.kind != kindDecimal && c.kind != kindNull {
				right[i] = false
			}
		}
	}
	width := make([]int, n)
	for _, row := range text {
		for i, s := range row {
			width[i] = max(width[i], utf8.RuneCountInString(s))
		}
	}
	bw := bufio.NewWriter(w)
	for _, row := range text {
		var line strings.Builder
		for i, s := range row {
			if i > 0 {
				line.WriteString("  ")
			}
			pad := strings.Repeat(" ", width[i]-utf8.RuneCountInString(s))
			if right[i] {
				line.WriteString(pad + s)
			} else {
				line.WriteString(s + pad)
			}
		}
		bw.WriteString(strings.TrimRight(line.String(), " ") + "\n")
	}
	return bw.Flush()
}

func writeCSV(w io.Writer, res *Result) error {
	cw := csv.NewWriter(w)
	header := make([]string, len(res.Columns))
	for i, c := range res.Columns {
		header[i] = c.Name
	}
	if err := cw.Write(header); err != nil {
		return err
	}
	for _, row := range cells(res) {
		rec := make([]string, len(row))
		for i, c := range row {
			switch c.kind {
			case kindText:
				// Only text from data can be a formula; a negative number
				// must stay a number.
				rec[i] = textsafe.CSVCell(c.text)
			case kindNull:
			default:
				rec[i] = c.text
			}
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func writeJSON(w io.Writer, res *Result) error {
	keys := make([][]byte, len(res.Columns))
	for i, c := range res.Columns {
		k, err := json.Marshal(c.Name)
		if err != nil {
			return err
		}
		keys[i] = k
	}
	bw := bufio.NewWriter(w)
	for _, row := range cells(res) {
		bw.WriteByte('{')
		for i, c := range row {
			if i > 0 {
				bw.WriteByte(',')
			}
			bw.Write(keys[i])
			bw.WriteByte(':')
			var v []byte
			var err error
			switch {
			case c.kind == kindNull:
				v = []byte("null")
			case c.kind == kindNumber || c.kind == kindBool:
				v = []byte(c.text)
			case c.raw != nil:
				if v, err = json.Marshal(c.raw); err != nil {
					v, err = json.Marshal(c.text)
				}
			default:
				v, err = json.Marshal(c.text)
			}
			if err != nil {
				return err
			}
			bw.Write(v)
		}
		bw.WriteString("}\n")
	}
	return bw.Flush()
}
