package config

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"strings"

	"github.com/awumeter/awumeter/internal/strictyaml"

	"github.com/shopspring/decimal"
	"go.yaml.in/yaml/v3"
)

// EnvPrefix starts every configuration variable.
const EnvPrefix = "AWUMETER_"

// Sources says where Load reads from besides the file.
type Sources struct {
	// Env looks up environment variables; nil means os.LookupEnv.
	Env func(string) (string, bool)
	// Set are key=value overrides from --set flags, applied last.
	Set []string
}

// Load reads the YAML file at path over the defaults (path may be empty),
// applies environment variables and then --set overrides, and validates.
// The returned error lists every problem; the Config is returned as far as
// it could be read, so callers may still print it.
func Load(path string, src Sources) (Config, error) {
	cfg := Default()
	if path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return cfg, fmt.Errorf("cannot read the configuration: %w", err)
		}
		if err := Decode(data, &cfg); err != nil {
			return cfg, fmt.Errorf("%s: %w", path, err)
		}
	}
	if err := applyEnv(&cfg, src.Env); err != nil {
		return cfg, err
	}
	for i, kv := range src.Set {
		key, val, ok := strings.Cut(kv, "=")
		if !ok {
			return cfg, malformedSet(i, kv)
		}
		if err := Set(&cfg, key, val); err != nil {
			return cfg, fmt.Errorf("%s: %w", setName(i, key), err)
		}
	}
	return cfg, cfg.Validate()
}

// keyShape is what every configuration key looks like.
var keyShape = regexp.MustCompile(`^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$`)

// setName names the i-th --set argument in an error: by its key when the
// text before "=" looks like a key, else by position, since that text may
// be a pasted secret (a token without its key, or "key secret=...").
func setName(i int, key string) string {
	if len(key) <= 64 && keyShape.MatchString(key) {
		return "--set " + key
	}
	return fmt.Sprintf("--set argument %d (its text is not shown, as it may hold a secret)", i+1)
}

// malformedSet explains a --set argument without "=". The argument is never
// shown, since it may be a key and a secret with the wrong separator
// (clickhouse.password:s3cret); the key it starts with is named when there
// is one.
func malformedSet(i int, arg string) error {
	known := ""
	for _, k := range Keys() {
		if len(k) > len(known) && strings.HasPrefix(arg, k) {
			known = k
		}
	}
	if known != "" {
		return fmt.Errorf("--set %s: malformed, want %s=value (the argument is not shown, as it may hold a secret)", known, known)
	}
	return fmt.Errorf("--set argument %d: malformed, want key=value (the argument is not shown, as it may hold a secret)", i+1)
}

// Decode reads YAML over cfg strictly: an unknown key is an error. An empty
// file leaves the defaults.
func Decode(data []byte, cfg *Config) error {
	if err := checkAbove(data); err != nil {
		return err
	}
	if err := strictyaml.Decode(data, cfg); err != nil && !errors.Is(err, strictyaml.ErrEmpty) {
		return err
	}
	return nil
}

// checkAbove refuses, by key, a guard rule without `above` (its zero value
// would make the rule fire on any spend, which nobody means) or whose
// `above` is not a number, before the strict decoder reports the latter
// without its key.
func checkAbove(data []byte) error {
	var doc struct {
		Guards struct {
			Rules []map[string]any `yaml:"rules"`
		} `yaml:"guards"`
	}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil // strictyaml has accepted it; nothing more to say
	}
	var errs []error
	for i, r := range doc.Guards.Rules {
		v, ok := r["above"]
		if !ok {
			errs = append(errs, fmt.Errorf("guards.rules[%d].above: required (the value the rule's metric must exceed)", i))
			continue
		}
		switch v.(type) {
		case int, int64, uint64, float64, string:
			if _, err := decimal.NewFromString(fmt.Sprint(v)); err == nil {
				continue
			}
		}
		errs = append(errs, fmt.Errorf("guards.rules[%d].above: %q is not a number (write e.g. 5 or 0.25; USD for costs)", i, fmt.Sprint(v)))
	}
	return errors.Join(errs...)
}

// leaf is one scalar (or list of scalars) key of the configuration.
type leaf struct {
	key string // dotted YAML path, e.g. kafka.sasl.password
	v   reflect.Value
}

// leaves walks cfg's struct tree by YAML tags.
func leaves(v reflect.Value, prefix string, out []leaf) []leaf {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("yaml")
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		fv := v.Field(i)
		if opts == "inline" {
			out = leaves(fv, prefix, out)
			continue
		}
		key := name
		if prefix != "" {
			key = prefix + "." + name
		}
		switch {
		case fv.Kind() == reflect.Struct && fv.Type().PkgPath() != "time":
			out = leaves(fv, key, out)
		case fv.Kind() == reflect.Slice && fv.Type().Elem().Kind() == reflect.Struct:
			// lists of sections: file only
		default:
			out = append(out, leaf{key: key, v: fv})
		}
	}
	return out
}

// EnvName is the variable that overrides a key.
func EnvName(key string) string {
	return EnvPrefix + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
}

// Keys lists every key that an environment variable or --set can override.
func Keys() []string {
	cfg := Default()
	var keys []string
	for _, l := range leaves(reflect.ValueOf(&cfg).Elem(), "", nil) {
		keys = append(keys, l.key)
	}
	return keys
}

func applyEnv(cfg *Config, lookup func(string) (string, bool)) error {
	if lookup == nil {
		lookup = os.LookupEnv
	}
	var errs []error
	for _, l := range leaves(reflect.ValueOf(cfg).Elem(), "", nil) {
		name := EnvName(l.key)
		val, ok := lookup(name)
		if !ok {
			continue
		}
		if err := setValue(l.v, val); err != nil {
			errs = append(errs, fmt.Errorf("%s (from %s): %w", l.key, name, err))
		}
	}
	return errors.Join(errs...)
}

// Set overrides one key, e.g. Set(&cfg, "kafka.group", "billing").
func Set(cfg *Config, key, val string) error {
	for _, l := range leaves(reflect.ValueOf(cfg).Elem(), "", nil) {
		if l.key == key {
			return setValue(l.v, val)
		}
	}
	return fmt.Errorf("no such key (lists of sections such as kafka.topics are set in the file)")
}

// setValue parses val as YAML into v; a list of strings is comma-separated.
// Its error never holds val, which may be a secret.
func setValue(v reflect.Value, val string) error {
	if v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.String {
		var parts []string
		for _, p := range strings.Split(val, ",") {
			if p = strings.TrimSpace(p); p != "" {
				parts = append(parts, p)
			}
		}
		v.Set(reflect.ValueOf(parts).Convert(v.Type()))
		return nil
	}
	if v.Kind() == reflect.String {
		v.SetString(val) // verbatim: passwords may look like YAML
		return nil
	}
	p := reflect.New(v.Type())
	if err := yaml.Unmarshal([]byte(val), p.Interface()); err != nil {
		// The YAML error quotes the value, so only its type is named.
		return fmt.Errorf("the value is not a valid %s (the value is not shown)", typeName(v.Type()))
	}
	v.Set(p.Elem())
	return nil
}

// typeName names a leaf's type for an error: "duration", "integer", ...
func typeName(t reflect.Type) string {
	switch {
	case t.PkgPath() == "time" && t.Name() == "Duration":
		return "duration such as 30s"
	case t.Kind() == reflect.Bool:
		return "boolean (true or false)"
	case t.Kind() >= reflect.Int && t.Kind() <= reflect.Uint64:
		return "integer"
	case t.Kind() == reflect.Float32 || t.Kind() == reflect.Float64:
		return "number"
	}
	return t.String()
}
