// Package benchdoc holds what the benchmark programs under internal/bench
// share: the generated block of docs/BENCHMARKS.md each one rewrites, the
// progress line each one shows on long steps, the description of the
// machine, and running until interrupted.
package benchdoc

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Block is a generated block of a Markdown file, between the lines
// <!-- Name:begin --> and <!-- Name:end -->.
type Block struct {
	Name string // e.g. bench-e2e
	// Section is the heading and text of the section added to hold the
	// markers when a file has none, e.g. "## End to end\n\nintro".
	Section string
	// First adds that section before the file's first second-level
	// heading rather than at its end.
	First bool
}

// Begin and End are the marker lines.
func (b Block) Begin() string { return "<!-- " + b.Name + ":begin -->" }
func (b Block) End() string   { return "<!-- " + b.Name + ":end -->" }

// Update puts block between the markers in the file at path.
func (b Block) Update(path, block string) error {
	doc, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	out, err := b.Replace(string(doc), block)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return os.WriteFile(path, []byte(out), 0o644)
}

// Publish prints the report on stdout and, when path is not empty, puts it
// between the markers of the file at path.
func (b Block) Publish(path, report string, logf func(format string, a ...any)) error {
	fmt.Println()
	fmt.Print(report)
	if path == "" {
		return nil
	}
	if err := b.Update(path, report); err != nil {
		return err
	}
	logf("wrote the table to %s", path)
	return nil
}

// Replace replaces what is between the markers of doc with block. Without
// markers it adds the section holding them.
func (b Block) Replace(doc, block string) (string, error) {
	block = strings.TrimRight(block, "\n") + "\n"
	i, j := strings.Index(doc, b.Begin()), strings.Index(doc, b.End())
	switch {
	case i >= 0 && j > i:
		return doc[:i+len(b.Begin())] + "\n" + block + doc[j:], nil
	case i >= 0 || j >= 0:
		return "", fmt.Errorf("the %s markers are incomplete or out of order", b.Name)
	}
	section := strings.TrimRight(b.Section, "\n") + "\n\n" + b.Begin() + "\n" + block + b.End() + "\n"
	if doc != "" && !strings.HasSuffix(doc, "\n") {
		doc += "\n"
	}
	if b.First {
		if strings.HasPrefix(doc, "## ") {
			return section + "\n" + doc, nil
		}
		if k := strings.Index(doc, "\n## "); k >= 0 {
			return doc[:k+1] + section + "\n" + doc[k+1:], nil
		}
	}
	if doc != "" {
		doc += "\n"
	}
	return doc + section, nil
}

// Status shows a line that keeps changing: rewritten in place on a
// terminal, else logged every 10 s.
type Status struct {
	TTY     bool
	Elapsed func() string                 // the run's elapsed time, as shown
	Logf    func(format string, a ...any) // logs one line
	last    time.Time
	line    bool
}

// Show shows the line.
func (s *Status) Show(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if s.TTY {
		fmt.Fprintf(os.Stderr, "\r\033[K[%6s] %s", s.Elapsed(), msg)
		s.line = true
	} else if time.Since(s.last) >= 10*time.Second {
		s.Logf("%s", msg)
		s.last = time.Now()
	}
}

// Done ends a line shown in place.
func (s *Status) Done() {
	if s.line {
		fmt.Fprintln(os.Stderr)
		s.line = false
	}
}

// Machine describes where a run ran: the host, its cores, memory and
// operating system, Go's version, then the servers the caller names, e.g.
// "ClickHouse 18.16.1".
func Machine(servers ...string) string {
	host, _ := os.Hostname()
	parts := []string{fmt.Sprintf("%d cores", runtime.NumCPU())}
	if mem, err := os.ReadFile("/proc/meminfo"); err == nil {
		for line := range strings.Lines(string(mem)) {
			if rest, ok := strings.CutPrefix(line, "MemTotal:"); ok {
				kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
				parts = append(parts, fmt.Sprintf("%.1f GiB RAM", float64(kb)/(1<<20)))
			}
		}
	}
	osName := runtime.GOOS
	if rel, err := os.ReadFile("/etc/os-release"); err == nil {
		for line := range strings.Lines(string(rel)) {
			if v, ok := strings.CutPrefix(strings.TrimSpace(line), "PRETTY_NAME="); ok {
				osName = strings.Trim(v, `"`)
			}
		}
	}
	if k, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		osName += ", Linux " + strings.TrimSpace(string(k))
	}
	parts = append(parts, osName, runtime.Version())
	return fmt.Sprintf("%s (%s)", host, strings.Join(append(parts, servers...), ", "))
}

// Main runs run with a context that the first SIGINT or SIGTERM ends (a
// second one ends the process without run's clean-up), and exits non-zero
// with run's error, named after the program.
func Main(name string, run func(context.Context) error) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		stop()
	}()
	if err := run(ctx); err != nil {
		if ctx.Err() != nil {
			err = errors.New("interrupted")
		}
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
		os.Exit(1)
	}
}

// Env is the environment variable name, or def when it is unset or empty.
func Env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
