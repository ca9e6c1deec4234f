package report

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"html"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/awumeter/awumeter/pipeline/economics"
)

func TestBucketLabelsFollowTheSeries(t *testing.T) {
	for from, want := range map[string]string{
		"0":     "under $0.001",
		"0.001": "$0.001–$0.002",
		"0.002": "$0.002–$0.005",
		"0.005": "$0.005–$0.01",
		"0.5":   "$0.50–$1.00",
		"1":     "$1.00–$2.00",
		"50":    "$50.00–$100.00",
		"500":   "$500.00–$1,000.00",
		"1000":  "$1,000.00 and up",
	} {
		if got := bucketLabel(decimal.RequireFromString(from)); got != want {
			t.Errorf("bucketLabel(%s) = %q, want %q", from, got, want)
		}
	}
}

func TestFillBucketsAddsTheEmptyOnes(t *testing.T) {
	dec := decimal.RequireFromString
	got := fillBuckets([]CostBucket{{From: dec("0.002"), Token: 3}, {From: dec("0.02"), List: 1}})
	var froms []string
	for _, b := range got {
		froms = append(froms, b.From.String())
	}
	if strings.Join(froms, " ") != "0.002 0.005 0.01 0.02" || got[0].Token != 3 || got[1].Token != 0 || got[3].List != 1 {
		t.Errorf("got %+v", got)
	}
}

func TestMoneyIsExact(t *testing.T) {
	for in, want := range map[string]string{
		"0":                 "$0.00",
		"0.5":               "$0.50",
		"1234567.000000001": "$1,234,567.000000001",
		"-12.3":             "-$12.30",
		"0.000000000001":    "$0.000000000001",
		"0.000000000000":    "$0.00",
		"0.100000000000":    "$0.10",
	} {
		if got := usd(decimal.RequireFromString(in)); got != want {
			t.Errorf("usd(%s) = %q, want %q", in, got, want)
		}
	}
	if got := usd2(decimal.RequireFromString("1234.565")); got != "$1,234.57" {
		t.Errorf("usd2 = %q", got)
	}
	if got := count(-1234567); got != "-1,234,567" {
		t.Errorf("count = %q", got)
	}
}

func TestOptionsValidateNamesEachFlag(t *testing.T) {
	err := Options{Month: "2026-13", AICost: "cheap", Assumptions: economics.DefaultAssumptions()}.Validate()
	if err == nil || !strings.Contains(err.Error(), `--month "2026-13"`) || !strings.Contains(err.Error(), `--ai-cost "cheap"`) {
		t.Errorf("err %v", err)
	}
	if err := (Options{Month: "2026-10", Assumptions: economics.DefaultAssumptions()}).Validate(); err != nil {
		t.Error(err)
	}
}

// The page holds everything it needs, and names from data are text: in
// the tables escaped by html/template, in the JSON escaped so that no
// "</script>" ends the data block.
func TestWriteHTMLIsSelfContainedAndEscapesNames(t *testing.T) {
	r := sample("")
	var buf bytes.Buffer
	if err := WriteHTML(&buf, r); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	if n := strings.Count(strings.ToLower(page), "</script>"); n != 3 {
		t.Errorf("%d </script>: a name ended a script", n)
	}
	for _, bad := range []string{"<img", "<script>alert", "<script src", "<link"} {
		if strings.Contains(page, bad) {
			t.Errorf("the page holds %q", bad)
		}
	}
	if !strings.Contains(page, "&lt;/script&gt;&lt;script&gt;alert(&#39;agent&#39;)&lt;/script&gt;") {
		t.Error("the agent's name is not escaped in its table")
	}
	// The CSP allows exactly the two inline scripts, by digest.
	csp := regexp.MustCompile(`http-equiv="Content-Security-Policy" content="([^"]*)"`).FindStringSubmatch(page)
	if csp == nil {
		t.Fatal("no Content-Security-Policy")
	}
	csp[1] = html.UnescapeString(csp[1])
	hashes := regexp.MustCompile(`sha256-([A-Za-z0-9+/=]+)`).FindAllStringSubmatch(csp[1], -1)
	scripts := regexp.MustCompile(`(?s)<script>(.*?)</script>`).FindAllStringSubmatch(page, -1)
	if len(hashes) != 2 || len(scripts) != 2 {
		t.Fatalf("%d hashes for %d inline scripts: %s", len(hashes), len(scripts), csp[1])
	}
	for i, s := range scripts {
		if want := scriptHash([]byte(s[1])); !strings.Contains(csp[1], want) {
			t.Errorf("script %d's digest %s is not in the CSP", i, want)
		}
	}
	if !strings.Contains(csp[1], "default-src 'none'") {
		t.Errorf("CSP %s", csp[1])
	}
	// The data block is the report, amounts as exact strings.
	data := regexp.MustCompile(`(?s)<script type="application/json" id="report-data">(.*?)</script>`).FindStringSubmatch(page)
	var back struct {
		Days []struct {
			TokenCost string `json:"token_cost"`
		} `json:"days"`
		CostBuckets []struct {
			Label string `json:"label"`
		} `json:"cost_buckets"`
	}
	if data == nil || json.Unmarshal([]byte(data[1]), &back) != nil {
		t.Fatal("no report data")
	}
	if back.Days[1].TokenCost != "0.504000000001" || back.CostBuckets[0].Label != "under $0.001" {
		t.Errorf("data %+v", back)
	}
	if !strings.Contains(page, "<td>$0.504000000001</td>") {
		t.Error("the day's token cost is not exact in its table")
	}
}

// assets/README.md names the release and its digest; the embedded file is it.
func TestChartJSIsTheVendoredRelease(t *testing.T) {
	b, err := assets.ReadFile("assets/chart.umd.min.js")
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	readme, err := os.ReadFile("assets/README.md")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(readme, []byte(hex.EncodeToString(sum[:]))) || !bytes.Contains(readme, []byte("Chart.js "+ChartJSVersion)) {
		t.Errorf("assets/README.md does not name Chart.js %s with digest %x", ChartJSVersion, sum)
	}
	if !bytes.Contains(b[:200], []byte("Chart.js v"+ChartJSVersion)) {
		t.Errorf("the embedded file is not Chart.js %s", ChartJSVersion)
	}
}
