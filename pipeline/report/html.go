package report

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"regexp"
	"strconv"
	"strings"

	"github.com/shopspring/decimal"
)

//go:embed assets/report.html.tmpl assets/report.css assets/report.js assets/chart.umd.min.js
var assets embed.FS

// ChartJSVersion is the Chart.js release embedded in every report
// (assets/README.md says where it comes from).
const ChartJSVersion = "4.6.1"

var pageTemplate = template.Must(template.New("report.html.tmpl").Funcs(template.FuncMap{
	"count":     count,
	"usd":       usd,
	"usd2":      usd2,
	"usdOrDash": func(d *decimal.Decimal) string { return orDash(d, usd) },
	"floatOrDash": func(f *float64) string {
		return orDash(f, func(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) })
	},
	"pct":       pct,
	"pctOrDash": func(f *float64) string { return orDash(f, pct) },
	"pctDec":    func(d decimal.Decimal) string { return d.Mul(decimal.NewFromInt(100)).Round(1).StringFixed(1) + "%" },
	"ratio":     ratio,
	"per":       per,
	"seconds":   seconds,
	"label":     func(s string) string { return orNone(s) },
	"tokensPerAWU": func(d Day) string {
		return perDec(decimal.NewFromInt(d.InputTokens).Add(decimal.NewFromInt(d.OutputTokens)), d.AWUs)
	},
	"shellQuote": shellQuote,
}).ParseFS(assets, "assets/report.html.tmpl"))

// pageData is what the template sees.
type pageData struct {
	R              *Report
	Buckets        []bucketView
	MonthName      string
	Generated      string
	Version        string
	CSP            string
	CSS            template.CSS
	Data           template.JS
	ChartJS        template.JS
	App            template.JS
	ChartJSVersion string
	ToolsHeight    int
	OutcomesHeight int
	// OutcomesCharted is how many rows of the outcomes the chart shows.
	OutcomesCharted int
}

// WriteHTML writes r as one self-contained HTML page: the data as JSON,
// Chart.js and the page's script inlined, nothing loaded from anywhere.
// Its Content Security Policy allows only those two scripts (by their
// SHA-256) and inline styles, and no connection, image, font or frame
// from any origin.
func WriteHTML(w io.Writer, r *Report) error {
	view := reportView{Report: r, CostBuckets: make([]bucketView, len(r.CostBuckets))}
	d := pageData{R: r, MonthName: monthName(r.Month), Generated: r.GeneratedAt.UTC().Format("2006-01-02 15:04 UTC"),
		Version: r.Version, ChartJSVersion: ChartJSVersion}
	if d.Version == "" {
		d.Version = "dev"
	}
	for i, b := range r.CostBuckets {
		l := bucketLabel(b.From)
		view.CostBuckets[i] = bucketView{CostBucket: b, Label: l}
	}
	d.Buckets = view.CostBuckets
	data, err := json.Marshal(view) // escapes <, > and &: no "</script>" in it
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	chartJS, err := assets.ReadFile("assets/chart.umd.min.js")
	if err != nil {
		return err
	}
	// The source map is not shipped, and a browser would look for it.
	chartJS = sourceMapRe.ReplaceAll(chartJS, nil)
	app, err := assets.ReadFile("assets/report.js")
	if err != nil {
		return err
	}
	css, err := assets.ReadFile("assets/report.css")
	if err != nil {
		return err
	}
	if bytes.Contains(bytes.ToLower(chartJS), []byte("</script")) || bytes.Contains(bytes.ToLower(app), []byte("</script")) {
		return fmt.Errorf("report: an embedded script holds </script")
	}
	d.CSS, d.Data, d.ChartJS, d.App = template.CSS(css), template.JS(data), template.JS(chartJS), template.JS(app)
	d.CSP = "default-src 'none'; script-src " + scriptHash(chartJS) + " " + scriptHash(app) + "; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"
	d.ToolsHeight = barsHeight(len(r.Tools), 2)
	d.OutcomesCharted = min(len(r.Outcomes), outcomesCharted)
	d.OutcomesHeight = barsHeight(d.OutcomesCharted, 3)
	var buf bytes.Buffer
	if err := pageTemplate.Execute(&buf, d); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	_, err = w.Write(buf.Bytes())
	return err
}

// reportView is Report as the page's script reads it: buckets with labels.
type reportView struct {
	*Report
	CostBuckets []bucketView `json:"cost_buckets"`
}

type bucketView struct {
	CostBucket
	Label string `json:"label"`
}

// outcomesCharted is how many outcome rows the chart shows at most (the
// ones with the most completed workcycles; report.js reads it from the canvas's
// data-rows attribute).
const outcomesCharted = 25

var sourceMapRe = regexp.MustCompile(`(?m)^//# sourceMappingURL=\S*\s*$`)

func scriptHash(b []byte) string {
	sum := sha256.Sum256(b)
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}

// barsHeight is a horizontal bar chart's height for n groups of k bars.
func barsHeight(n, k int) int { return max(160, 60+n*(10+8*k)) }

// bucketLabel names the bucket that starts at from on the 1-2-5 series of
// workcycle_cost_distribution: "$0.001–$0.002", "under $0.001", "$1,000 and up".
func bucketLabel(from decimal.Decimal) string {
	if from.IsZero() {
		return "under $0.001"
	}
	next, ok := nextBound(from)
	if !ok {
		return usd(from) + " and up"
	}
	return usd(from) + "–" + usd(next)
}

func monthName(month string) string {
	y, m, ok := strings.Cut(month, "-")
	if !ok {
		return month
	}
	n, err := strconv.Atoi(m)
	if err != nil || n < 1 || n > 12 {
		return month
	}
	return [...]string{"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"}[n-1] + " " + y
}

// count writes n with thousands separators.
func count(n int64) string {
	return group(strconv.FormatInt(n, 10))
}

// usd writes an exact amount: every digit, at least two decimals.
func usd(d decimal.Decimal) string {
	s := d.String() // every significant digit, no trailing zeros
	if _, frac, _ := strings.Cut(s, "."); len(frac) < 2 {
		s = d.StringFixed(2)
	}
	return money(s)
}

// usd2 writes an amount rounded to the cent, for the headline numbers.
func usd2(d decimal.Decimal) string { return money(d.StringFixed(2)) }

func money(s string) string {
	sign := ""
	if strings.HasPrefix(s, "-") {
		sign, s = "-", s[1:]
	}
	whole, frac, _ := strings.Cut(s, ".")
	out := sign + "$" + group(whole)
	if frac != "" {
		out += "." + frac
	}
	return out
}

func group(digits string) string {
	sign := ""
	if strings.HasPrefix(digits, "-") {
		sign, digits = "-", digits[1:]
	}
	var b strings.Builder
	for i, c := range digits {
		if i > 0 && (len(digits)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return sign + b.String()
}

// pct writes a fraction as a percentage with one decimal.
func pct(f float64) string { return strconv.FormatFloat(f*100, 'f', 1, 64) + "%" }

// ratio is a/b as a percentage with one decimal, "–" when b is 0.
func ratio(a, b int64) string {
	if b == 0 {
		return "–"
	}
	return decimal.NewFromInt(a).Mul(decimal.NewFromInt(100)).DivRound(decimal.NewFromInt(b), 1).StringFixed(1) + "%"
}

// per is a/b with two decimals, "–" when b is 0.
func per(a, b int64) string { return perDec(decimal.NewFromInt(a), b) }

func perDec(a decimal.Decimal, b int64) string {
	if b == 0 {
		return "–"
	}
	return a.DivRound(decimal.NewFromInt(b), 2).StringFixed(2)
}

// seconds writes a duration in seconds as 45s, 12m 5s or 3h 2m.
func seconds(s int64) string {
	switch {
	case s < 60:
		return strconv.FormatInt(s, 10) + "s"
	case s < 3600:
		return fmt.Sprintf("%dm %ds", s/60, s%60)
	default:
		return fmt.Sprintf("%dh %dm", s/3600, s%3600/60)
	}
}

func orDash[T any](v *T, f func(T) string) string {
	if v == nil {
		return "–"
	}
	return f(*v)
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_.:/@", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}
