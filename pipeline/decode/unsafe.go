package decode

import "unsafe"

// s2b views a string's bytes without copying. The result must not be
// modified; strs only reads it to copy it out.
func s2b(s string) []byte {
	return unsafe.Slice(unsafe.StringData(s), len(s))
}

// b2s views bytes as a string without copying. The string is valid only
// while b is: used for attribute values that live in a pooled parser's
// buffer and are copied out (strs) before the parser is put back.
func b2s(b []byte) string {
	return unsafe.String(unsafe.SliceData(b), len(b))
}
