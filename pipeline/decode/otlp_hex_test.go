package decode

import (
	"encoding/hex"
	"testing"
)

// TestHexIDMatchesEncodingHex checks hexID against hex.Encode for every
// byte value in every position of 8- and 16-byte ids, and odd lengths.
func TestHexIDMatchesEncodingHex(t *testing.T) {
	for _, n := range []int{0, 1, 3, 4, 7, 8, 16} {
		for c := range 256 {
			id := make([]byte, n)
			for i := range id {
				id[i] = byte(c + 37*i)
			}
			got := make([]byte, 2*n)
			hexID(got, id)
			if want := hex.EncodeToString(id); string(got) != want {
				t.Fatalf("hexID(%x) = %s", id, got)
			}
		}
	}
}
