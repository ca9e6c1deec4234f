package strictyaml

import (
	"errors"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

type sample struct {
	Name  string        `yaml:"name"`
	Every time.Duration `yaml:"every"`
	Inner struct {
		Size int `yaml:"size"`
	} `yaml:"inner"`
}

func TestDecode(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     []string // substrings of the error; none means success
	}{
		{name: "known keys decode", in: "name: a\nevery: 5s\ninner:\n  size: 3\n"},
		{name: "an unknown key is named with its line", in: "name: a\nbogus: 1\n", want: []string{`line 2: unknown key "bogus"`}},
		{name: "every unknown key is reported", in: "inner:\n  sise: 1\nnam: b\n", want: []string{`line 2: unknown key "sise"`, `line 3: unknown key "nam"`}},
		{name: "a wrong type is named with its line", in: "inner:\n  size: big\n", want: []string{"line 2:", "big"}},
		{name: "broken YAML says so", in: "name: [a\n", want: []string{"invalid YAML"}},
		{name: "a second document is refused", in: "name: a\n---\nname: b\n", want: []string{"single YAML document"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var s sample
			err := Decode([]byte(tc.in), &s)
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				if s.Name != "a" || s.Every != 5*time.Second || s.Inner.Size != 3 {
					t.Fatalf("decoded %+v", s)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error, want %q", tc.want)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestDecodeEmptyLeavesValueAlone(t *testing.T) {
	s := sample{Name: "default"}
	if err := Decode([]byte("# only a comment\n"), &s); !errors.Is(err, ErrEmpty) {
		t.Fatalf("err = %v, want ErrEmpty", err)
	}
	if s.Name != "default" {
		t.Fatalf("value changed to %+v", s)
	}
}

func TestDecodeNodeIsStrict(t *testing.T) {
	var n yaml.Node
	if err := yaml.Unmarshal([]byte("name: a\nextra: 1\n"), &n); err != nil {
		t.Fatal(err)
	}
	var s sample
	if err := DecodeNode(n.Content[0], &s); err == nil || err.Error() != `line 2: unknown key "extra"` {
		t.Fatalf("err = %v, want line 2: unknown key \"extra\"", err)
	}
	// A node further down a file keeps its file lines.
	if err := yaml.Unmarshal([]byte("list:\n  - name: a\n  - name: b\n    inner:\n      sise: 1\n"), &n); err != nil {
		t.Fatal(err)
	}
	second := n.Content[0].Content[1].Content[1]
	if err := DecodeNode(second, &s); err == nil || err.Error() != `line 5: unknown key "sise"` {
		t.Fatalf("err = %v, want line 5: unknown key \"sise\"", err)
	}
}
