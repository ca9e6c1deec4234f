package guard

import (
	"bytes"
	"reflect"
	"strings"
	"testing"

	"github.com/shopspring/decimal"
	"go.yaml.in/yaml/v3"
)

func d(s string) decimal.Decimal { return decimal.RequireFromString(s) }

// decodeYAML decodes doc into DefaultConfig strictly, as the service config does.
func decodeYAML(t *testing.T, doc string) Config {
	t.Helper()
	c := DefaultConfig()
	dec := yaml.NewDecoder(bytes.NewReader([]byte(doc)))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		t.Fatalf("decode: %v", err)
	}
	return c
}

func TestDefaultConfig(t *testing.T) {
	c := DefaultConfig()
	if c.Topic != "awumeter-alerts" || c.Format != "json" || c.Remember != 65536 || c.Rules != nil {
		t.Fatalf("DefaultConfig() = %+v", c)
	}
	if err := c.Validate(); err != nil {
		t.Fatalf("DefaultConfig().Validate() = %v", err)
	}
	if c.Enabled() || c.HasRowRules() || c.HasWindowRules() {
		t.Fatal("no rules: guards must be off")
	}
	if e, err := New(c); err != nil || e == nil {
		t.Fatalf("New(DefaultConfig()) = %v, %v", e, err)
	}
}

func TestYAMLAbove(t *testing.T) {
	for _, c := range []struct{ yaml, want string }{
		{`5`, "5"},
		{`"5"`, "5"},
		{`0.5`, "0.5"},
		{`"0.5"`, "0.5"},
		{`'0.5'`, "0.5"},
		{`0`, "0"},
		{`"12.000000000000000001"`, "12.000000000000000001"}, // beyond float64: exact
		{`12.000000000000000001`, "12.000000000000000001"},   // a plain number is exact too
	} {
		cfg := decodeYAML(t, "rules:\n  - name: r\n    on: workcycle\n    metric: token_cost\n    above: "+c.yaml+"\n")
		if got := cfg.Rules[0].Above.String(); got != c.want {
			t.Errorf("above: %s decoded to %s, want %s", c.yaml, got, c.want)
		}
	}
}

func TestYAMLConfig(t *testing.T) {
	cfg := decodeYAML(t, `
format: cloudevents
rules:
  - name: runaway-retries
    on: workcycle
    metric: retries
    above: 5
    tenant: acme
    agent: support-bot
  - name: tenant-daily-spend
    on: tenant_day
    metric: token_cost
    above: "100"
`)
	want := Config{
		Topic:    "awumeter-alerts", // default kept
		Format:   "cloudevents",
		Remember: 65536, // default kept
		Rules: []Rule{
			{Name: "runaway-retries", On: "workcycle", Metric: "retries", Above: d("5"), Tenant: "acme", Agent: "support-bot"},
			{Name: "tenant-daily-spend", On: "tenant_day", Metric: "token_cost", Above: d("100")},
		},
	}
	if !reflect.DeepEqual(cfg, want) {
		t.Fatalf("decoded\n%+v\nwant\n%+v", cfg, want)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if !cfg.Enabled() || !cfg.HasRowRules() || !cfg.HasWindowRules() {
		t.Fatal("Enabled, HasRowRules and HasWindowRules must all be true")
	}

	c := DefaultConfig()
	dec := yaml.NewDecoder(strings.NewReader("rules:\n  - name: r\n    on: awu\n    metric: attempts\n    above: 1\n    bogus: 2\n"))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err == nil || !strings.Contains(err.Error(), "field bogus not found") {
		t.Fatalf("unknown key: got %v", err)
	}
	for _, bad := range []string{`"five"`, `.inf`, `[1]`} {
		c := DefaultConfig()
		if err := yaml.Unmarshal([]byte("rules:\n  - name: r\n    above: "+bad+"\n"), &c); err == nil {
			t.Errorf("above: %s decoded without error to %s", bad, c.Rules[0].Above)
		}
	}
}

func TestHasRules(t *testing.T) {
	for _, c := range []struct {
		ons          []string
		row, windows bool
	}{
		{nil, false, false},
		{[]string{"workcycle"}, true, false},
		{[]string{"awu"}, true, false},
		{[]string{"tenant_hour"}, false, true},
		{[]string{"tenant_day", "awu"}, true, true},
	} {
		cfg := DefaultConfig()
		for _, on := range c.ons {
			cfg.Rules = append(cfg.Rules, Rule{On: on})
		}
		if cfg.Enabled() != (len(c.ons) > 0) || cfg.HasRowRules() != c.row || cfg.HasWindowRules() != c.windows {
			t.Errorf("%v: Enabled %v HasRowRules %v HasWindowRules %v", c.ons, cfg.Enabled(), cfg.HasRowRules(), cfg.HasWindowRules())
		}
	}
}

func TestMetrics(t *testing.T) {
	for on, want := range map[string][]string{
		"workcycle":   {"awus", "attempts", "retries", "token_cost", "list_cost", "credits"},
		"awu":         {"attempts", "retries", "token_cost"},
		"tenant_hour": {"token_cost", "list_cost"},
		"tenant_day":  {"token_cost", "list_cost"},
		"bogus":       nil,
	} {
		if got := Metrics(on); !reflect.DeepEqual(got, want) {
			t.Errorf("Metrics(%q) = %v, want %v", on, got, want)
		}
	}
}

func TestValidate(t *testing.T) {
	ok := Rule{Name: "r", On: "workcycle", Metric: "retries", Above: d("5")}
	with := func(f func(*Config)) Config {
		c := DefaultConfig()
		c.Rules = []Rule{ok}
		f(&c)
		return c
	}
	rule := func(f func(*Rule)) Config {
		return with(func(c *Config) { f(&c.Rules[0]) })
	}
	long := strings.Repeat("a", 65)
	for _, c := range []struct {
		name string
		cfg  Config
		want []string // nil: valid
	}{
		{"one valid rule", with(func(*Config) {}), nil},
		{"64-character name", rule(func(r *Rule) { r.Name = strings.Repeat("a", 64) }), nil},
		{"every legal name character", rule(func(r *Rule) { r.Name = "Az09_.-" }), nil},
		{"whole above written with a fraction", rule(func(r *Rule) { r.Metric = "attempts"; r.Above = d("5.00") }), nil},
		{"above 0", rule(func(r *Rule) { r.Above = d("0") }), nil},
		{"above left out", rule(func(r *Rule) { r.Above = decimal.Decimal{} }), nil},
		{"fractional above of a cost", rule(func(r *Rule) { r.Metric = "list_cost"; r.Above = d("0.005") }), nil},
		{"tenant on a tenant window", rule(func(r *Rule) { r.On = "tenant_hour"; r.Metric = "list_cost"; r.Tenant = "acme" }), nil},
		{"agent on awu", rule(func(r *Rule) { r.On = "awu"; r.Agent = "bot" }), nil},
		{"remember 1", with(func(c *Config) { c.Remember = 1 }), nil},
		{"cloudevents", with(func(c *Config) { c.Format = "cloudevents" }), nil},
		{"no rules", with(func(c *Config) { c.Rules = nil }), nil},
		{"no rules, no topic", with(func(c *Config) { c.Rules = nil; c.Topic = "" }), nil},
		{"12 decimal places", rule(func(r *Rule) { r.Metric = "token_cost"; r.Above = d("0.000000000001") }), nil},
		{"26 whole digits", rule(func(r *Rule) { r.Metric = "token_cost"; r.Above = d("99999999999999999999999999") }), nil},
		{"13 decimal places", rule(func(r *Rule) { r.Metric = "token_cost"; r.Above = d("0.0000000000001") }),
			[]string{"guards.rules[0].above: must have at most 26 digits before the point and 12 after it (the alerts table's Decimal(38, 12)), got 0.0000000000001"}},
		{"27 whole digits", rule(func(r *Rule) { r.Metric = "token_cost"; r.Above = d("1e26") }),
			[]string{"guards.rules[0].above: must have at most 26 digits before the point and 12 after it (the alerts table's Decimal(38, 12)), got 100000000000000000000000000"}},

		{"empty name", rule(func(r *Rule) { r.Name = "" }),
			[]string{`guards.rules[0].name: must not be empty`}},
		{"bad name characters", rule(func(r *Rule) { r.Name = "bad name!" }),
			[]string{`guards.rules[0].name: "bad name!" may hold only ASCII letters, digits, '_', '.' and '-'`}},
		{"non-ASCII name", rule(func(r *Rule) { r.Name = "régle" }),
			[]string{`guards.rules[0].name: "régle" may hold only ASCII letters, digits, '_', '.' and '-'`}},
		{"name too long", rule(func(r *Rule) { r.Name = long }),
			[]string{`guards.rules[0].name: must be at most 64 characters, got 65: "` + long + `"`}},
		{"duplicate name", with(func(c *Config) { c.Rules = []Rule{ok, ok, ok} }),
			[]string{
				`guards.rules[1].name: duplicate of guards.rules[0].name`,
				`guards.rules[2].name: duplicate of guards.rules[0].name`,
			}},
		{"unknown on", rule(func(r *Rule) { r.On = "hourly" }),
			[]string{`guards.rules[0].on: "hourly" is not one of: workcycle, awu, tenant_hour, tenant_day`}},
		{"empty on", rule(func(r *Rule) { r.On = "" }),
			[]string{`guards.rules[0].on: "" is not one of: workcycle, awu, tenant_hour, tenant_day`}},
		{"unknown metric", rule(func(r *Rule) { r.Metric = "foo" }),
			[]string{`guards.rules[0].metric: "foo" is not a metric of on: workcycle (one of: awus, attempts, retries, token_cost, list_cost, credits)`}},
		{"metric not of awu", rule(func(r *Rule) { r.On = "awu"; r.Metric = "credits" }),
			[]string{`guards.rules[0].metric: "credits" is not a metric of on: awu (one of: attempts, retries, token_cost)`}},
		{"metric not of tenant_day", rule(func(r *Rule) { r.On = "tenant_day"; r.Metric = "retries" }),
			[]string{`guards.rules[0].metric: "retries" is not a metric of on: tenant_day (one of: token_cost, list_cost)`}},
		{"empty metric", rule(func(r *Rule) { r.Metric = "" }),
			[]string{`guards.rules[0].metric: "" is not a metric of on: workcycle (one of: awus, attempts, retries, token_cost, list_cost, credits)`}},
		{"negative above", rule(func(r *Rule) { r.Metric = "token_cost"; r.Above = d("-0.01") }),
			[]string{`guards.rules[0].above: must not be negative, got -0.01`}},
		{"negative whole above", rule(func(r *Rule) { r.Above = d("-1") }),
			[]string{`guards.rules[0].above: must not be negative, got -1`}},
		{"non-integral above for attempts", rule(func(r *Rule) { r.Metric = "attempts"; r.Above = d("2.5") }),
			[]string{`guards.rules[0].above: must be a whole number for metric attempts, got 2.5`}},
		{"non-integral above for credits", rule(func(r *Rule) { r.Metric = "credits"; r.Above = d("0.001") }),
			[]string{`guards.rules[0].above: must be a whole number for metric credits, got 0.001`}},
		{"agent on tenant_hour", rule(func(r *Rule) { r.On = "tenant_hour"; r.Metric = "token_cost"; r.Agent = "bot" }),
			[]string{`guards.rules[0].agent: not allowed for on: tenant_hour, whose sums span every agent of the tenant`}},
		{"agent on tenant_day", rule(func(r *Rule) { r.On = "tenant_day"; r.Metric = "list_cost"; r.Agent = "bot" }),
			[]string{`guards.rules[0].agent: not allowed for on: tenant_day, whose sums span every agent of the tenant`}},
		{"bad format", with(func(c *Config) { c.Format = "xml" }),
			[]string{`guards.format: "xml" is not a format (one of: json, cloudevents)`}},
		{"empty format", with(func(c *Config) { c.Format = "" }),
			[]string{`guards.format: "" is not a format (one of: json, cloudevents)`}},
		{"remember 0", with(func(c *Config) { c.Remember = 0 }),
			[]string{`guards.remember: must be at least 1, got 0`}},
		{"remember negative", with(func(c *Config) { c.Remember = -3 }),
			[]string{`guards.remember: must be at least 1, got -3`}},
		{"empty topic", with(func(c *Config) { c.Topic = "" }),
			[]string{`guards.topic: must not be empty`}},
		{"bad topic", with(func(c *Config) { c.Topic = "alerts/x" }),
			[]string{`guards.topic: "alerts/x" is not a Kafka topic name: only ASCII letters, digits, '.', '_' and '-' are allowed, and not "." or ".."`}},
		{"topic too long", with(func(c *Config) { c.Topic = strings.Repeat("t", 250) }),
			[]string{`guards.topic: must be at most 249 bytes (Kafka's limit), got 250`}},
		{"every problem at once", Config{
			Format: "yaml",
			Rules: []Rule{
				{Name: "ok", On: "workcycle", Metric: "awus", Above: d("1")},
				{Name: "ok", On: "weekly", Metric: "awus", Above: d("-2")},
				{Name: "x y", On: "tenant_hour", Metric: "token_cost", Agent: "a"},
				{Name: "z", On: "awu", Metric: "retries", Above: d("1.5")},
			},
		}, []string{
			`guards.topic: must not be empty`,
			`guards.format: "yaml" is not a format (one of: json, cloudevents)`,
			`guards.remember: must be at least 1, got 0`,
			`guards.rules[1].name: duplicate of guards.rules[0].name`,
			`guards.rules[1].on: "weekly" is not one of: workcycle, awu, tenant_hour, tenant_day`,
			`guards.rules[1].above: must not be negative, got -2`,
			`guards.rules[2].name: "x y" may hold only ASCII letters, digits, '_', '.' and '-'`,
			`guards.rules[2].agent: not allowed for on: tenant_hour, whose sums span every agent of the tenant`,
			`guards.rules[3].above: must be a whole number for metric retries, got 1.5`,
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := c.cfg.Validate()
			var got []string
			if err != nil {
				for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
					got = append(got, e.Error())
				}
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Fatalf("Validate() problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(c.want, "\n"))
			}
			if _, nerr := New(c.cfg); (nerr != nil) != (c.want != nil) || (nerr != nil && nerr.Error() != err.Error()) {
				t.Fatalf("New() error %v, want Validate's %v", nerr, err)
			}
		})
	}
	if err := (Config{}).Validate(); err == nil {
		t.Fatal("the zero Config must be invalid: build from DefaultConfig")
	}
}
