// Package textsafe makes text that comes from data (tenant ids, model names,
// workcycle ids, ...) safe to show to people: on a terminal, in a text table
// or in a spreadsheet cell. Producers control these strings, so a value must
// never be able to forge a line of a statement, move the cursor, recolour or
// clear the terminal, reorder what is shown around it, or run as a formula.
//
// The helpers are pure functions of their input and allocate only when they
// change something. JSON output needs none of them: encoding/json escapes
// C0 controls, and a JSON reader sees the value exactly as it was.
package textsafe

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Terminal returns s with every character that a terminal or a text table
// would not show as itself replaced by a visible Go-style escape, so one
// value stays on one line and reads left to right:
//
//   - C0 controls U+0000–U+001F (\n, \r and \t included) as \n, \r, \t or
//     \x1b, so neither a line break nor an ANSI escape sequence survives;
//   - DEL U+007F and the C1 controls U+0080–U+009F (8-bit CSI among them)
//     as \x7f and \u009b;
//   - the Unicode bidirectional controls (U+061C, U+200E, U+200F,
//     U+202A–U+202E, U+2066–U+2069), the line and paragraph separators
//     U+2028 and U+2029, and every other invisible format character
//     (Unicode category Cf: zero-width space and joiners, the byte-order
//     mark, the soft hyphen) as \u202e and so on;
//   - each byte of invalid UTF-8 as \xff;
//   - the backslash itself as \\, so an escape in the output always means
//     an escaped character in the data.
//
// Everything else, including every printable non-ASCII letter, is kept.
// s is returned unchanged, without allocating, when nothing needs escaping.
func Terminal(s string) string { return escape(s, false) }

// TerminalLines is [Terminal] for multi-line text that code composed, such
// as an error message that joins several problems: it keeps "\n" as a line
// break and escapes everything else Terminal does, including "\r", which
// could overwrite a line.
func TerminalLines(s string) string { return escape(s, true) }

func escape(s string, keepNewline bool) string {
	i := firstUnsafe(s, keepNewline)
	if i < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	b.WriteString(s[:i])
	for i < len(s) {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '\n' && keepNewline:
				b.WriteByte(c)
			case c == '\n':
				b.WriteString(`\n`)
			case c == '\r':
				b.WriteString(`\r`)
			case c == '\t':
				b.WriteString(`\t`)
			case c == '\\':
				b.WriteString(`\\`)
			case c < 0x20 || c == 0x7f:
				writeHexByte(&b, c)
			default:
				b.WriteByte(c)
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			writeHexByte(&b, c)
		case unsafeRune(r):
			writeU4(&b, r)
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// firstUnsafe is the byte index of the first character escape would change,
// or -1.
func firstUnsafe(s string, keepNewline bool) int {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if (c < 0x20 && !(c == '\n' && keepNewline)) || c == 0x7f || c == '\\' {
				return i
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && n == 1) || unsafeRune(r) {
			return i
		}
		i += n
	}
	return -1
}

// unsafeRune reports a non-ASCII rune that Terminal escapes: a C1 control, a
// bidirectional control, or a line or paragraph separator.
func unsafeRune(r rune) bool {
	switch {
	case r >= 0x80 && r <= 0x9f:
		return true
	case r == 0x061c, r == 0x200e, r == 0x200f:
		return true
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
		return true
	case r == 0x2028, r == 0x2029:
		return true
	}
	// Other invisible format characters (zero-width space and joiners, the
	// byte-order mark, soft hyphen, ...): "acme\u200b" must not pass for
	// "acme" on a statement.
	return r > 0xff && unicode.Is(unicode.Cf, r) || r == 0xad
}

const hexDigits = "0123456789abcdef"

func writeHexByte(b *strings.Builder, c byte) {
	b.WriteString(`\x`)
	b.WriteByte(hexDigits[c>>4])
	b.WriteByte(hexDigits[c&0xf])
}

func writeU4(b *strings.Builder, r rune) {
	b.WriteString(`\u`)
	for shift := 12; shift >= 0; shift -= 4 {
		b.WriteByte(hexDigits[(r>>uint(shift))&0xf])
	}
}

// CSVCell neutralises a text cell of a CSV export that a spreadsheet would
// otherwise read as a formula: a cell starting with '=', '+', '-', '@', a
// tab or a carriage return, after any spaces, gets a leading single quote, as the OWASP
// CSV-injection guidance recommends ("-acme" becomes "'-acme"). Quoting of
// commas, quotes and line breaks is left to encoding/csv.
//
// Apply it to text that comes from data only, never to numbers the program
// formats: a negative amount such as -0.10 must stay a number.
func CSVCell(s string) string {
	if s == "" {
		return s
	}
	// Some spreadsheets skip leading spaces before reading a formula.
	switch t := strings.TrimLeft(s, " "); {
	case t == "":
	case t[0] == '=', t[0] == '+', t[0] == '-', t[0] == '@', t[0] == '\t', t[0] == '\r':
		return "'" + s
	}
	return s
}
