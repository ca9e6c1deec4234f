package textsafe

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestTerminal(t *testing.T) {
	for _, c := range []struct{ name, in, want string }{
		{"plain ASCII is kept", "acme-corp_1", "acme-corp_1"},
		{"printable non-ASCII letters are kept", "müller · 日本", "müller · 日本"},
		{"a forged statement line stays on one line",
			"acme\nTotal     USD 0.00\nHash      sha256:forged",
			`acme\nTotal     USD 0.00\nHash      sha256:forged`},
		{"carriage return and tab are escaped", "a\rb\tc", `a\rb\tc`},
		{"an ANSI colour sequence loses its escape byte", "\x1b[31mred\x1b[0m", `\x1b[31mred\x1b[0m`},
		{"NUL, BEL and DEL are escaped", "a\x00b\x07c\x7f", `a\x00b\x07c\x7f`},
		{"an 8-bit CSI is escaped", "a\u009b31m", `a\u009b31m`},
		{"a right-to-left override is escaped", "invoice\u202egpj.exe", `invoice\u202egpj.exe`},
		{"isolates and marks are escaped", "\u2066x\u2069\u200e\u200f\u061c", `\u2066x\u2069\u200e\u200f\u061c`},
		{"line and paragraph separators are escaped", "a\u2028b\u2029c", `a\u2028b\u2029c`},
		{"zero-width characters and the byte-order mark are escaped", "acme\u200b\u200d\ufeff", `acme\u200b\u200d\ufeff`},
		{"a soft hyphen is escaped", "ac\u00adme", `ac\u00adme`},
		{"invalid UTF-8 is escaped byte by byte", "a\xff\xfeb", `a\xff\xfeb`},
		{"a backslash is doubled so escapes are unambiguous", `a\nb`, `a\\nb`},
		{"the empty string stays empty", "", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := Terminal(c.in); got != c.want {
				t.Fatalf("Terminal(%q) = %q, want %q", c.in, got, c.want)
			}
		})
	}
}

func TestTerminalLines(t *testing.T) {
	for _, c := range []struct{ name, in, want string }{
		{"line breaks between problems are kept", "first\nsecond", "first\nsecond"},
		{"a carriage return is still escaped", "ok\rforged", `ok\rforged`},
		{"an escape sequence is still escaped", "tenant \x1b[2J", `tenant \x1b[2J`},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := TerminalLines(c.in); got != c.want {
				t.Fatalf("TerminalLines(%q) = %q, want %q", c.in, got, c.want)
			}
		})
	}
}

// Every control, whatever surrounds it, comes out as printable ASCII
// escapes: no byte below 0x20, no DEL, no C1 or bidi rune, valid UTF-8.
func TestTerminalLeavesNothingUnsafe(t *testing.T) {
	var all strings.Builder
	for r := rune(0); r < 0x3000; r++ {
		all.WriteRune(r)
	}
	all.WriteString("\xff\xc0")
	got := Terminal(all.String())
	if !utf8.ValidString(got) {
		t.Fatal("the output is not valid UTF-8")
	}
	for i, r := range got {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f) || unsafeRune(r) {
			t.Fatalf("the output keeps %U at byte %d", r, i)
		}
	}
}

func TestTerminalDoesNotAllocateForCleanText(t *testing.T) {
	s := "acme-corp/claude-sonnet-4.6 müller"
	if n := testing.AllocsPerRun(100, func() { _ = Terminal(s) }); n != 0 {
		t.Fatalf("Terminal allocates %.0f times for text that needs no escaping", n)
	}
}

func TestCSVCell(t *testing.T) {
	for _, c := range []struct{ name, in, want string }{
		{"a formula is quoted", "=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"},
		{"a leading plus is quoted", "+1+cmd", "'+1+cmd"},
		{"a leading minus is quoted", "-2+3", "'-2+3"},
		{"a leading at sign is quoted", "@SUM(A1)", "'@SUM(A1)"},
		{"a leading tab is quoted", "\t=1", "'\t=1"},
		{"a leading carriage return is quoted", "\r=1", "'\r=1"},
		{"a formula after leading spaces is quoted", "  =1+1", "'  =1+1"},
		{"only spaces are kept", "   ", "   "},
		{"an ordinary id is kept", "acme", "acme"},
		{"a sign inside the text is kept", "a-b=c", "a-b=c"},
		{"the empty cell stays empty", "", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := CSVCell(c.in); got != c.want {
				t.Fatalf("CSVCell(%q) = %q, want %q", c.in, got, c.want)
			}
		})
	}
}
