package decode

import (
	"errors"
	"math"
	"strconv"
	"sync"
	"unicode/utf16"
	"unicode/utf8"
)

// The native JSON and CloudEvents decoders read flat objects with a strict
// single-pass scanner instead of building a tree: it validates RFC 8259
// syntax while it picks out the known fields, so a record is read once. The
// input must already be valid UTF-8.

type jkind uint8

const (
	jAbsent jkind = iota
	jNull
	jBool
	jNumber
	jString
	jObject
	jArray
)

func (k jkind) String() string {
	switch k {
	case jNull:
		return "null"
	case jBool:
		return "boolean"
	case jNumber:
		return "number"
	case jString:
		return "string"
	case jObject:
		return "object"
	case jArray:
		return "array"
	}
	return "nothing"
}

// jvalue is one scanned value. For a string, raw is its unescaped content;
// for a number, its literal; for an object or array, its whole text.
// raw points into the record or the scanner's scratch buffer.
type jvalue struct {
	kind jkind
	raw  []byte
}

func (v jvalue) absent() bool { return v.kind == jAbsent || v.kind == jNull }

// maxDepth bounds nesting so hostile input cannot exhaust the stack.
const maxDepth = 512

var errSyntax = errors.New("invalid JSON")

type scanner struct {
	b       []byte
	i       int
	scratch []byte // unescaped strings; never reallocated during one scan
	err     error
}

var scanners = sync.Pool{New: func() any { return new(scanner) }}

func getScanner(b []byte) *scanner {
	s := scanners.Get().(*scanner)
	s.b, s.i, s.err = b, 0, nil
	// Unescaped text is never longer than its escaped form, so appends
	// within this capacity never move strings already handed out.
	if cap(s.scratch) < len(b) {
		s.scratch = make([]byte, 0, len(b))
	}
	s.scratch = s.scratch[:0]
	return s
}

func putScanner(s *scanner) {
	if cap(s.scratch) > 64<<10 {
		s.scratch = nil // do not pin a huge buffer after one large record
	}
	s.b = nil
	scanners.Put(s)
}

func (s *scanner) fail(msg string) {
	if s.err == nil {
		s.err = errors.New(msg + " at offset " + strconv.Itoa(s.i))
	}
}

func (s *scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// object scans the object starting at the current position, calling f for
// each member, and reports whether the input was well-formed.
func (s *scanner) object(depth int, f func(key []byte, v jvalue)) bool {
	s.ws()
	if s.i >= len(s.b) || s.b[s.i] != '{' {
		s.fail("expected an object")
		return false
	}
	s.i++
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == '}' {
		s.i++
		return true
	}
	for {
		s.ws()
		if s.i >= len(s.b) || s.b[s.i] != '"' {
			s.fail("expected a string key")
			return false
		}
		key, ok := s.str()
		if !ok {
			return false
		}
		s.ws()
		if s.i >= len(s.b) || s.b[s.i] != ':' {
			s.fail("expected ':'")
			return false
		}
		s.i++
		v, ok := s.value(depth + 1)
		if !ok {
			return false
		}
		if f != nil {
			f(key, v)
		}
		s.ws()
		if s.i >= len(s.b) {
			s.fail("unterminated object")
			return false
		}
		switch s.b[s.i] {
		case ',':
			s.i++
		case '}':
			s.i++
			return true
		default:
			s.fail("expected ',' or '}'")
			return false
		}
	}
}

func (s *scanner) array(depth int) bool {
	s.i++ // '['
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == ']' {
		s.i++
		return true
	}
	for {
		if _, ok := s.value(depth + 1); !ok {
			return false
		}
		s.ws()
		if s.i >= len(s.b) {
			s.fail("unterminated array")
			return false
		}
		switch s.b[s.i] {
		case ',':
			s.i++
		case ']':
			s.i++
			return true
		default:
			s.fail("expected ',' or ']'")
			return false
		}
	}
}

func (s *scanner) value(depth int) (jvalue, bool) {
	if depth > maxDepth {
		s.fail("nesting deeper than " + strconv.Itoa(maxDepth))
		return jvalue{}, false
	}
	s.ws()
	if s.i >= len(s.b) {
		s.fail("unexpected end of input")
		return jvalue{}, false
	}
	start := s.i
	switch c := s.b[s.i]; {
	case c == '"':
		v, ok := s.str()
		return jvalue{kind: jString, raw: v}, ok
	case c == '{':
		ok := s.object(depth, nil)
		return jvalue{kind: jObject, raw: s.b[start:s.i]}, ok
	case c == '[':
		ok := s.array(depth)
		return jvalue{kind: jArray, raw: s.b[start:s.i]}, ok
	case c == 't':
		ok := s.lit("true")
		return jvalue{kind: jBool, raw: s.b[start:s.i]}, ok
	case c == 'f':
		ok := s.lit("false")
		return jvalue{kind: jBool, raw: s.b[start:s.i]}, ok
	case c == 'n':
		return jvalue{kind: jNull}, s.lit("null")
	case c == '-' || (c >= '0' && c <= '9'):
		ok := s.number()
		return jvalue{kind: jNumber, raw: s.b[start:s.i]}, ok
	}
	s.fail("unexpected character")
	return jvalue{}, false
}

func (s *scanner) lit(want string) bool {
	if len(s.b)-s.i < len(want) || string(s.b[s.i:s.i+len(want)]) != want {
		s.fail("invalid literal")
		return false
	}
	s.i += len(want)
	return true
}

// number scans -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (s *scanner) number() bool {
	b := s.b
	if b[s.i] == '-' {
		s.i++
	}
	switch {
	case s.i < len(b) && b[s.i] == '0':
		s.i++
	case s.i < len(b) && b[s.i] >= '1' && b[s.i] <= '9':
		for s.i < len(b) && b[s.i] >= '0' && b[s.i] <= '9' {
			s.i++
		}
	default:
		s.fail("invalid number")
		return false
	}
	if s.i < len(b) && b[s.i] == '.' {
		s.i++
		if !s.digits() {
			return false
		}
	}
	if s.i < len(b) && (b[s.i] == 'e' || b[s.i] == 'E') {
		s.i++
		if s.i < len(b) && (b[s.i] == '+' || b[s.i] == '-') {
			s.i++
		}
		if !s.digits() {
			return false
		}
	}
	return true
}

func (s *scanner) digits() bool {
	start := s.i
	for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
		s.i++
	}
	if s.i == start {
		s.fail("invalid number")
		return false
	}
	return true
}

// str scans a string at s.b[s.i] == '"' and returns its unescaped content.
func (s *scanner) str() ([]byte, bool) {
	start := s.i + 1
	b := s.b
	i := start
	for i < len(b) && plain[b[i]] {
		i++
	}
	s.i = i
	if i < len(b) {
		switch b[i] {
		case '"':
			s.i++
			return b[start:i], true
		case '\\':
			return s.strEscaped(start)
		}
		s.fail("control character in string")
		return nil, false
	}
	s.fail("unterminated string")
	return nil, false
}

// plain marks the bytes a string holds as they are: not a quote, a
// backslash or a control character.
var plain = func() (t [256]bool) {
	for c := 0x20; c < 256; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// strEscaped continues a string that has escapes, unescaping into scratch.
func (s *scanner) strEscaped(start int) ([]byte, bool) {
	b := s.b
	out := len(s.scratch)
	s.scratch = append(s.scratch, b[start:s.i]...)
	for s.i < len(b) {
		c := b[s.i]
		switch {
		case c == '"':
			s.i++
			return s.scratch[out:len(s.scratch):len(s.scratch)], true
		case c < 0x20:
			s.fail("control character in string")
			return nil, false
		case c != '\\':
			s.scratch = append(s.scratch, c)
			s.i++
			continue
		}
		if s.i+1 >= len(b) {
			break
		}
		e := b[s.i+1]
		s.i += 2
		switch e {
		case '"', '\\', '/':
			s.scratch = append(s.scratch, e)
		case 'b':
			s.scratch = append(s.scratch, '\b')
		case 'f':
			s.scratch = append(s.scratch, '\f')
		case 'n':
			s.scratch = append(s.scratch, '\n')
		case 'r':
			s.scratch = append(s.scratch, '\r')
		case 't':
			s.scratch = append(s.scratch, '\t')
		case 'u':
			r, ok := s.hex4()
			if !ok {
				return nil, false
			}
			if utf16.IsSurrogate(r) {
				// A valid pair combines; a lone surrogate becomes U+FFFD,
				// as encoding/json does.
				r2 := utf8.RuneError
				if s.i+1 < len(b) && b[s.i] == '\\' && b[s.i+1] == 'u' {
					save := s.i
					s.i += 2
					if lo, ok := s.hex4(); ok {
						if d := utf16.DecodeRune(r, lo); d != utf8.RuneError {
							r2 = d
						} else {
							s.i = save
						}
					} else {
						return nil, false
					}
				}
				r = r2
			}
			s.scratch = utf8.AppendRune(s.scratch, r)
		default:
			s.fail("invalid escape")
			return nil, false
		}
	}
	s.fail("unterminated string")
	return nil, false
}

func (s *scanner) hex4() (rune, bool) {
	if len(s.b)-s.i < 4 {
		s.fail("invalid \\u escape")
		return 0, false
	}
	var r rune
	for _, c := range s.b[s.i : s.i+4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			c = c - 'A' + 10
		default:
			s.fail("invalid \\u escape")
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	s.i += 4
	return r, true
}

// end checks that only whitespace follows the top-level value.
func (s *scanner) end() bool {
	s.ws()
	if s.i != len(s.b) {
		s.fail("unexpected data after the top-level value")
		return false
	}
	return true
}

// intStatus says why decimal text is not an int64.
type intStatus uint8

const (
	intOK       intStatus = iota
	intSyntax             // not decimal number text
	intFraction           // a number with a fractional part: 1.5, 1e-400, 1.0000000000000001
	intRange              // an integer beyond int64
)

// parseInt reads decimal number text whose value is an exact integer within
// int64: an optional sign, digits, an optional fraction and an optional
// exponent. That is JSON's number syntax, plus the leading '+' and zeros
// that decimal strings in OTLP attributes may carry. 5, 5.0, 5e3 and 1.5e1
// are integers; 1.5, 1e-400 and 1.0000000000000001 are not. The value is
// computed from the digits, never through float64, so
// 4611686018427387905.0 is exactly 4611686018427387905.
func parseInt(lit []byte) (int64, intStatus) {
	d, neg := lit, false
	if len(d) > 0 && (d[0] == '-' || d[0] == '+') {
		neg, d = d[0] == '-', d[1:]
	}
	if len(d) > 0 && len(d) <= 18 { // the common case: plain digits
		var n int64
		fast := true
		for _, c := range d {
			if c < '0' || c > '9' {
				fast = false
				break
			}
			n = n*10 + int64(c-'0')
		}
		if fast {
			if neg {
				n = -n
			}
			return n, intOK
		}
	}
	return parseIntSlow(d, neg)
}

// parseIntSlow is parseInt for unsigned text d that is not 1 to 18 plain
// digits. The value is D × 10^e, with D the significant digits.
func parseIntSlow(d []byte, neg bool) (int64, intStatus) {
	isDigit := func(c byte) bool { return c >= '0' && c <= '9' }
	i := 0
	for i < len(d) && isDigit(d[i]) {
		i++
	}
	whole := d[:i]
	if len(whole) == 0 {
		return 0, intSyntax
	}
	var frac []byte
	if i < len(d) && d[i] == '.' {
		i++
		start := i
		for i < len(d) && isDigit(d[i]) {
			i++
		}
		if frac = d[start:i]; len(frac) == 0 {
			return 0, intSyntax
		}
	}
	var exp int64
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		i++
		eneg := false
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			eneg = d[i] == '-'
			i++
		}
		start := i
		for ; i < len(d) && isDigit(d[i]); i++ {
			if exp < 1<<40 { // saturate: far beyond any record's length
				exp = exp*10 + int64(d[i]-'0')
			}
		}
		if i == start {
			return 0, intSyntax
		}
		if eneg {
			exp = -exp
		}
	}
	if i != len(d) {
		return 0, intSyntax
	}
	// The significant digits are whole ++ frac without leading and
	// trailing zeros.
	total := len(whole) + len(frac)
	digit := func(k int) byte {
		if k < len(whole) {
			return whole[k]
		}
		return frac[k-len(whole)]
	}
	lo := 0
	for lo < total && digit(lo) == '0' {
		lo++
	}
	if lo == total {
		return 0, intOK // zero, whatever its exponent
	}
	hi := total
	for digit(hi-1) == '0' {
		hi--
	}
	e := exp - int64(len(frac)) + int64(total-hi)
	if e < 0 {
		return 0, intFraction // the last significant digit is after the point
	}
	if int64(hi-lo)+e > 19 {
		return 0, intRange // 20 digits or more
	}
	var u uint64 // at most 19 digits: below 10^19 < 2^64
	for k := lo; k < hi; k++ {
		u = u*10 + uint64(digit(k)-'0')
	}
	for ; e > 0; e-- {
		u *= 10
	}
	switch {
	case !neg && u <= math.MaxInt64:
		return int64(u), intOK
	case neg && u <= 1<<63:
		return int64(-u), intOK // -(1<<63) wraps to math.MinInt64, as it should
	}
	return 0, intRange
}
