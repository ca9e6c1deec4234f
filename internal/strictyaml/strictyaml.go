// Package strictyaml decodes the YAML files people write by hand — the
// service config, the price book, billing settings — so that a typo is an
// error with its line, not a key silently ignored, and so every such file
// reports problems in the same words.
package strictyaml

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// ErrEmpty is returned for input holding no YAML document; v is untouched.
var ErrEmpty = errors.New("no YAML document")

// Decode decodes exactly one YAML document into v, refusing unknown keys.
// Type errors are returned one per problem, joined with errors.Join, each
// starting with its line: `line 7: unknown key "bogus"`.
func Decode(data []byte, v any) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil {
		if errors.Is(err, io.EOF) {
			return ErrEmpty
		}
		return rewrite(err, 0)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return errors.New("expected a single YAML document, found more")
	}
	return nil
}

// DecodeNode is Decode for a mapping node already parsed, as custom
// UnmarshalYAML methods receive it. yaml.Node.Decode cannot refuse unknown
// keys, so the node is decoded again from its own text, and the lines in
// its errors are shifted back to the lines of the original file.
func DecodeNode(n *yaml.Node, v any) error {
	var buf bytes.Buffer
	if err := yaml.NewEncoder(&buf).Encode(n); err != nil {
		return err
	}
	dec := yaml.NewDecoder(&buf)
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil {
		return rewrite(err, n.Line-1)
	}
	return nil
}

var (
	// fieldNotFound matches yaml's message for an unknown key.
	fieldNotFound = regexp.MustCompile(`^line (\d+): field (\S+) not found in type .+$`)
	// lineAt matches the line a message starts with.
	lineAt = regexp.MustCompile(`^line (\d+): `)
)

// rewrite turns yaml's errors into one error per problem in plain words,
// with lines shifted by offset. Errors of custom unmarshalers pass through.
func rewrite(err error, offset int) error {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		if msg, ok := strings.CutPrefix(err.Error(), "yaml: "); ok {
			return fmt.Errorf("invalid YAML: %s", shift(msg, offset))
		}
		return err
	}
	errs := make([]error, 0, len(te.Errors))
	for _, msg := range te.Errors {
		if m := fieldNotFound.FindStringSubmatch(msg); m != nil {
			msg = fmt.Sprintf("line %s: unknown key %q", m[1], m[2])
		}
		errs = append(errs, errors.New(shift(msg, offset)))
	}
	return errors.Join(errs...)
}

func shift(msg string, offset int) string {
	m := lineAt.FindStringSubmatchIndex(msg)
	if m == nil || offset == 0 {
		return msg
	}
	n, _ := strconv.Atoi(msg[m[2]:m[3]])
	return fmt.Sprintf("line %d: %s", n+offset, msg[m[1]:])
}
