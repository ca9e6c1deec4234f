package guard

import (
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/shopspring/decimal"
)

// Defaults for Config; DefaultConfig returns them.
const (
	// DefaultTopic is the Kafka topic alerts are written to.
	DefaultTopic = "awumeter-alerts"
	// DefaultFormat is the encoding of an alert record's value.
	DefaultFormat = FormatJSON
	// DefaultRemember is how many alert ids one Evaluator remembers: about
	// 64 bytes each, so about 4 MiB per Evaluator (per partition) when full.
	DefaultRemember = 65536
	// MaxRuleName is the longest rule name accepted, in bytes.
	MaxRuleName = 64
	// maxTopicName is Kafka's limit on a topic name, in bytes.
	maxTopicName = 249
)

// Formats of an alert record's value (guards.format).
const (
	// FormatJSON is one JSON object per alert, content type
	// application/json.
	FormatJSON = "json"
	// FormatCloudEvents is a CloudEvents 1.0 event in structured mode, the
	// JSON object as its data, content type application/cloudevents+json.
	FormatCloudEvents = "cloudevents"
)

// What a rule is evaluated on (guards.rules[i].on).
const (
	// OnWorkcycle checks every workcycle row, provisional and final.
	OnWorkcycle = "workcycle"
	// OnAWU checks every AWU row.
	OnAWU = "awu"
	// OnTenantHour checks a tenant's sums over one UTC hour.
	OnTenantHour = "tenant_hour"
	// OnTenantDay checks a tenant's sums over one UTC day.
	OnTenantDay = "tenant_day"
)

// Metrics a rule compares (guards.rules[i].metric). Which ones each On
// allows is listed by Metrics.
const (
	// MetricAWUs is a workcycle's number of AWUs (integer).
	MetricAWUs = "awus"
	// MetricAttempts is the number of attempts of a workcycle's AWUs, or of
	// one AWU (integer).
	MetricAttempts = "attempts"
	// MetricRetries is a workcycle's retries, or an AWU's attempts minus
	// one (integer).
	MetricRetries = "retries"
	// MetricTokenCost is the cost at token prices, in USD (decimal).
	MetricTokenCost = "token_cost"
	// MetricListCost is the cost at list prices, in USD (decimal).
	MetricListCost = "list_cost"
	// MetricCredits is a workcycle's flex credits (integer).
	MetricCredits = "credits"
)

// ons lists the values of on, in the order messages name them.
var ons = []string{OnWorkcycle, OnAWU, OnTenantHour, OnTenantDay}

// metricsOf lists the metrics of each on, in the order messages name them.
var metricsOf = map[string][]string{
	OnWorkcycle:  {MetricAWUs, MetricAttempts, MetricRetries, MetricTokenCost, MetricListCost, MetricCredits},
	OnAWU:        {MetricAttempts, MetricRetries, MetricTokenCost},
	OnTenantHour: {MetricTokenCost, MetricListCost},
	OnTenantDay:  {MetricTokenCost, MetricListCost},
}

// Metrics returns the metrics a rule with this on may compare, nil for an
// unknown on.
func Metrics(on string) []string {
	return append([]string(nil), metricsOf[on]...)
}

// integerMetric reports whether metric counts things, so that its rules
// need a whole above.
func integerMetric(metric string) bool {
	switch metric {
	case MetricAWUs, MetricAttempts, MetricRetries, MetricCredits:
		return true
	}
	return false
}

// Config is what a user writes under the guards key: the rules that flag
// runaway agents and where their alerts go. No rules means guards are off.
// Build it from DefaultConfig and override fields.
type Config struct {
	// Topic is the Kafka topic alerts are written to, keyed by alert id,
	// overriding the default "awumeter-alerts". It may be compacted: one
	// record per alert id is all a consumer needs.
	Topic string `yaml:"topic"`

	// Format is the encoding of an alert record's value: "json" (the
	// default), one JSON object, or "cloudevents", a CloudEvents 1.0 event
	// in structured mode with that object as its data.
	Format string `yaml:"format"`

	// Rules are the guards, each alerting once when first crossed. Empty
	// (the default) turns guards off.
	Rules []Rule `yaml:"rules"`

	// Remember is how many alert ids one Evaluator (one per partition)
	// remembers so that it sends each alert once: a first-in first-out set
	// of the ids it returned last, overriding the default 65536; at least
	// 1. An id forgotten may be sent again, with the same id, so consumers
	// deduplicate by id. Each id held costs about 64 bytes.
	Remember int `yaml:"remember"`
}

// Rule is one guard: alert when Metric of what On names is above Above.
type Rule struct {
	// Name identifies the rule in alerts, their ids and the CloudEvents
	// source: required, unique, 1 to 64 characters of A-Z a-z 0-9 _ . -.
	// Renaming a rule changes the ids of its alerts.
	Name string `yaml:"name"`

	// On is what the rule is checked against: "workcycle" (each workcycle
	// row), "awu" (each AWU row), "tenant_hour" or "tenant_day" (a
	// tenant's sums over one UTC hour or day).
	On string `yaml:"on"`

	// Metric is the value compared. workcycle: awus, attempts, retries,
	// token_cost, list_cost, credits; awu: attempts, retries (attempts
	// minus one), token_cost; tenant_hour and tenant_day: token_cost,
	// list_cost. Costs are in USD.
	Metric string `yaml:"metric"`

	// Above is the threshold: the rule is crossed when the value is
	// strictly greater. At least 0; a whole number for the integer metrics
	// (awus, attempts, retries, credits). A YAML number or string: 5, "5",
	// 0.5 and "0.5" all work, and a string keeps every digit exact. Left
	// out, it is 0.
	Above decimal.Decimal `yaml:"above"`

	// Tenant, when set, limits the rule to this tenant_id.
	Tenant string `yaml:"tenant"`

	// Agent, when set, limits the rule to this agent_id. Not allowed for
	// tenant_hour and tenant_day, whose sums span every agent.
	Agent string `yaml:"agent"`
}

// DefaultConfig returns the configuration used when the guards key sets
// nothing: no rules, so guards are off.
func DefaultConfig() Config {
	return Config{
		Topic:    DefaultTopic,
		Format:   DefaultFormat,
		Remember: DefaultRemember,
	}
}

// Enabled reports whether any rule is configured.
func (c Config) Enabled() bool { return len(c.Rules) > 0 }

// HasRowRules reports whether any rule is on workcycle or awu rows, which
// Evaluator.Rows checks.
func (c Config) HasRowRules() bool {
	for _, r := range c.Rules {
		if r.On == OnWorkcycle || r.On == OnAWU {
			return true
		}
	}
	return false
}

// HasWindowRules reports whether any rule is on tenant_hour or tenant_day,
// whose sums the caller must compute and pass to Evaluator.Windows.
func (c Config) HasWindowRules() bool {
	for _, r := range c.Rules {
		if r.On == OnTenantHour || r.On == OnTenantDay {
			return true
		}
	}
	return false
}

// Validate reports every invalid value, naming its YAML key, joined with
// errors.Join.
func (c Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("guards."+key+": "+format, args...))
	}
	switch {
	case c.Topic == "" && len(c.Rules) == 0: // no rules, no guards: no topic needed
	case c.Topic == "":
		bad("topic", "must not be empty")
	case len(c.Topic) > maxTopicName:
		bad("topic", "must be at most %d bytes (Kafka's limit), got %d", maxTopicName, len(c.Topic))
	case !legalTopic(c.Topic):
		bad("topic", "%q is not a Kafka topic name: only ASCII letters, digits, '.', '_' and '-' are allowed, and not \".\" or \"..\"", c.Topic)
	}
	if c.Format != FormatJSON && c.Format != FormatCloudEvents {
		bad("format", "%q is not a format (one of: %s, %s)", c.Format, FormatJSON, FormatCloudEvents)
	}
	if c.Remember < 1 {
		bad("remember", "must be at least 1, got %d", c.Remember)
	}
	first := make(map[string]int, len(c.Rules))
	for i, r := range c.Rules {
		key := func(field string) string { return fmt.Sprintf("rules[%d].%s", i, field) }
		switch {
		case r.Name == "":
			bad(key("name"), "must not be empty")
		case len(r.Name) > MaxRuleName:
			bad(key("name"), "must be at most %d characters, got %d: %q", MaxRuleName, len(r.Name), r.Name)
		case !legalName(r.Name):
			bad(key("name"), "%q may hold only ASCII letters, digits, '_', '.' and '-'", r.Name)
		}
		if r.Name != "" {
			if j, dup := first[r.Name]; dup {
				bad(key("name"), "duplicate of guards.rules[%d].name", j)
			} else {
				first[r.Name] = i
			}
		}
		metrics, knownOn := metricsOf[r.On]
		if !knownOn {
			bad(key("on"), "%q is not one of: %s", r.On, strings.Join(ons, ", "))
		} else if !contains(metrics, r.Metric) {
			bad(key("metric"), "%q is not a metric of on: %s (one of: %s)", r.Metric, r.On, strings.Join(metrics, ", "))
		}
		switch {
		case r.Above.Sign() < 0:
			bad(key("above"), "must not be negative, got %s", r.Above)
		case integerMetric(r.Metric) && !r.Above.IsInteger():
			bad(key("above"), "must be a whole number for metric %s, got %s", r.Metric, r.Above)
		case !fitsAlerts(r.Above):
			bad(key("above"), "must have at most %d digits before the point and %d after it (the alerts table's Decimal(38, 12)), got %s",
				38-thresholdScale, thresholdScale, r.Above)
		}
		if r.Agent != "" && (r.On == OnTenantHour || r.On == OnTenantDay) {
			bad(key("agent"), "not allowed for on: %s, whose sums span every agent of the tenant", r.On)
		}
	}
	return errors.Join(errs...)
}

// thresholdScale is the fractional digits the alerts table keeps of a
// threshold and a value: Decimal(38, 12), as money everywhere.
const thresholdScale = 12

// fitsAlerts reports whether d is exactly a Decimal(38, 12).
func fitsAlerts(d decimal.Decimal) bool {
	if !d.Equal(d.Truncate(thresholdScale)) {
		return false
	}
	return d.Abs().LessThan(decimal.New(1, 38-thresholdScale))
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// legalName reports whether name has only A-Z a-z 0-9 _ . -.
func legalName(name string) bool {
	for _, c := range []byte(name) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// legalTopic reports whether name is a Kafka topic name.
func legalTopic(name string) bool {
	return name != "" && name != "." && name != ".." && legalName(name)
}

// intAbove is a whole above as an int64, saturated at math.MaxInt64: no
// int64 value is above that, as none is above a larger threshold.
func intAbove(above decimal.Decimal) int64 {
	if above.GreaterThanOrEqual(decimal.NewFromInt(math.MaxInt64)) {
		return math.MaxInt64
	}
	return above.IntPart()
}
