package report

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// chartsPerReport is the number of charts of a report with data in every
// section: cost distribution, daily cost, funnel, tools, retry inflation,
// tokens per AWU, outcomes and ROI.
const chartsPerReport = 8

// TestReportRendersInChromium loads a report with hostile names in
// headless Chromium (TestWriteHTMLOfTheKnownDatabase loads one built from
// ClickHouse the same way).
func TestReportRendersInChromium(t *testing.T) {
	// Names of 2,000 characters and amounts of 16 digits must neither
	// widen the page nor be cut off in the headline.
	huge := sample("")
	long := strings.Repeat("tenant-with-a-very-long-name-", 70)
	huge.Outcomes[0].Tenant, huge.Agents[0].Agent, huge.Tools[0].Tool = long, long, long
	huge.Totals.TokenCost = decimal.RequireFromString("1599999999999986.78")
	huge.Totals.AWUs = 9_000_000_000_000_000_000
	for name, r := range map[string]*Report{"sample-acme": sample("acme"), "sample-every-tenant": sample(""), "sample-long-names": huge} {
		var buf bytes.Buffer
		if err := WriteHTML(&buf, r); err != nil {
			t.Fatal(err)
		}
		browse(t, name, buf.String())
	}
}

// browse loads page in headless Chromium (Debian's, installed by
// deploy/local/install-chromium.sh) and fails the test on any console
// error or warning, uncaught exception, log entry of level warning or
// error (CSP violations are those), network request, or dialog (a script
// injected by a name would open one), or when a chart is missing or blank.
// It keeps the page and a full-page screenshot in $AWUMETER_TEST_OUTPUT
// (make test sets test-output/), else in the test's temporary directory.
func browse(t *testing.T, name, html string) {
	t.Helper()
	got, problems := load(t, name, html)
	for _, p := range problems {
		t.Errorf("%s: %s", name, p)
	}
	if got.Charts != chartsPerReport || got.Canvases != chartsPerReport || got.Drawn != chartsPerReport {
		t.Errorf("%s: %d charts drawn of %d canvases, %d with pixels; want %d", name, got.Charts, got.Canvases, got.Drawn, chartsPerReport)
	}
	if got.Injected {
		t.Errorf("%s: a name made an element of the page", name)
	}
	if got.PageWidth > got.WindowWidth {
		t.Errorf("%s: the page is %d px wide in a %d px window", name, got.PageWidth, got.WindowWidth)
	}
	if got.Clipped != "" {
		t.Errorf("%s: headline figures cut off: %s", name, got.Clipped)
	}
}

// loaded is what load finds in a page.
type loaded struct {
	Charts      int    `json:"charts"`
	Canvases    int    `json:"canvases"`
	Drawn       int    `json:"drawn"`
	Injected    bool   `json:"injected"`
	PageWidth   int    `json:"page_width"`
	WindowWidth int    `json:"window_width"`
	Clipped     string `json:"clipped"` // headline values wider than their box
}

// load opens html in Chromium and returns what the page shows and every
// problem seen while it loaded.
func load(t *testing.T, name, html string) (loaded, []string) {
	t.Helper()
	if testing.Short() {
		t.Skip("needs Chromium")
	}
	bin := os.Getenv("AWUMETER_CHROMIUM")
	if bin == "" {
		bin = "/usr/bin/chromium"
	}
	if _, err := os.Stat(bin); err != nil {
		if os.Getenv("AWUMETER_REQUIRE_CHROMIUM") != "" {
			t.Fatalf("no Chromium at %s (run deploy/local/install-chromium.sh): %v", bin, err)
		}
		t.Skipf("no Chromium at %s (deploy/local/install-chromium.sh installs it)", bin)
	}
	dir := os.Getenv("AWUMETER_TEST_OUTPUT")
	if dir == "" {
		dir = t.TempDir()
	}
	dir = filepath.Join(dir, "report")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	file, err := filepath.Abs(filepath.Join(dir, name+".html"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, []byte(html), 0o644); err != nil {
		t.Fatal(err)
	}

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(bin),
		chromedp.NoSandbox, // root in CI
		chromedp.DisableGPU,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-quic", true),
	)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ctx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelAlloc()

	var mu sync.Mutex
	var problems []string
	problem := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		problems = append(problems, fmt.Sprintf(format, args...))
	}
	url := "file://" + file
	dialogs := make(chan struct{}, 16)
	// chromedp enables the runtime, log and network domains itself.
	listen := chromedp.WithListener(func(ev any) {
		switch e := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if e.Type == runtime.ConsoleAPICalledTypeError || e.Type == runtime.ConsoleAPICalledTypeWarning || e.Type == runtime.ConsoleAPICalledTypeAssert {
				var args []string
				for _, a := range e.Args {
					args = append(args, string(a.Value)+a.Description)
				}
				problem("console.%s: %s", e.Type, strings.Join(args, " "))
			}
		case *runtime.EventExceptionThrown:
			d := e.ExceptionDetails
			msg := d.Text
			if d.Exception != nil {
				msg += " " + d.Exception.Description
			}
			problem("uncaught exception at %d:%d: %s", d.LineNumber, d.ColumnNumber, msg)
		case *cdplog.EventEntryAdded:
			if e.Entry.Level == cdplog.EntryLevelWarning || e.Entry.Level == cdplog.EntryLevelError {
				problem("%s %s: %s", e.Entry.Source, e.Entry.Level, e.Entry.Text)
			}
		case *network.EventRequestWillBeSent:
			if e.Request.URL != url {
				problem("network request: %s", e.Request.URL)
			}
		case *page.EventJavascriptDialogOpening:
			problem("dialog: %s %q", e.Type, e.Message)
			select {
			case dialogs <- struct{}{}:
			default:
			}
		}
	})
	ctx, cancelTab := chromedp.NewContext(ctx, listen)
	defer cancelTab()
	go func() { // a dialog blocks the page until it is answered
		for range dialogs {
			_, _ = chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: false})
		}
	}()
	defer close(dialogs)

	if err := chromedp.Do(ctx, chromedp.Navigate(url), chromedp.WaitVisible(chromedp.CSS("body[data-charts]"))); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	got, err := chromedp.Run(ctx, chromedp.Evaluate[loaded](`(() => {
		const canvases = Array.from(document.querySelectorAll("canvas"));
		const drawn = canvases.filter(c => {
			if (typeof Chart === "undefined" || !Chart.getChart(c) || c.width === 0 || c.height === 0) return false;
			return c.getContext("2d").getImageData(0, 0, c.width, c.height).data.some(v => v !== 0);
		});
		return {
			charts: Number(document.body.dataset.charts),
			canvases: canvases.length,
			drawn: drawn.length,
			injected: document.querySelectorAll("img, script[src], link, iframe").length > 0,
			page_width: document.documentElement.scrollWidth,
			window_width: window.innerWidth,
			clipped: Array.from(document.querySelectorAll(".kpi .value"))
				.filter(v => v.scrollWidth > v.clientWidth).map(v => v.textContent).join(" "),
		};
	})()`))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("%s: screenshot: %v", name, err)
	}
	shot := filepath.Join(dir, name+".png")
	if err := os.WriteFile(shot, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("%s: %d charts; page %s, screenshot %s", name, got.Charts, file, shot)
	mu.Lock()
	defer mu.Unlock()
	return got, slices.Clone(problems)
}

// The check sees what it is for: a failed script, a console error, a
// request to the network, a dialog and a blank chart.
func TestTheBrowserCheckSeesProblems(t *testing.T) {
	got, problems := load(t, "bad-page", `<!DOCTYPE html><html><body>
<canvas></canvas>
<img src="http://203.0.113.1/pixel.png">
<script>console.error("boom"); alert("hi"); document.body.dataset.charts = "1"; undefinedFunction();</script>
</body></html>`)
	all := strings.Join(problems, "\n")
	for _, want := range []string{`console.error: "boom"`, "uncaught exception", "undefinedFunction", "network request: http://203.0.113.1/pixel.png", `dialog: alert "hi"`} {
		if !strings.Contains(all, want) {
			t.Errorf("no %q in the problems:\n%s", want, all)
		}
	}
	if got.Charts != 1 || got.Canvases != 1 || got.Drawn != 0 || !got.Injected {
		t.Errorf("got %+v", got)
	}
}
