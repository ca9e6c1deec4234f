package main

import (
	"debug/buildinfo"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat times: 100 on every
// Linux architecture Go supports.
const clockTicks = 100

// procCPU is a process's user + system CPU time in seconds.
func procCPU(pid int) (float64, error) {
	if pid <= 0 {
		return 0, fmt.Errorf("no pid")
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	return parseStatCPU(string(b))
}

// parseStatCPU reads utime and stime (fields 14 and 15) from a
// /proc/<pid>/stat line. The command name (field 2) may hold spaces and
// parentheses, so fields are counted after its last ")".
func parseStatCPU(stat string) (float64, error) {
	i := strings.LastIndexByte(stat, ')')
	f := strings.Fields(stat[i+1:]) // f[0] is field 3, the state
	if i < 0 || len(f) < 13 {
		return 0, fmt.Errorf("unexpected /proc stat line %q", stat)
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("unexpected /proc stat line %q", stat)
	}
	return float64(utime+stime) / clockTicks, nil
}

// procHWM is a process's peak resident set size in bytes (VmHWM).
func procHWM(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("no VmHWM in /proc/%d/status", pid)
}

// parseMetrics reads the Prometheus text format into a map holding every
// series by its full name (name{labels}) and every metric name with the
// sum of its series.
func parseMetrics(text string) map[string]float64 {
	m := map[string]float64{}
	for line := range strings.Lines(text) {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			continue
		}
		series := line[:i]
		m[series] = v
		if name, _, ok := strings.Cut(series, "{"); ok {
			m[name] += v
		}
	}
	return m
}

// seriesBy is the series of a metric by the value of one label; nil when
// the metric is absent.
func seriesBy(m map[string]float64, name, label string) map[string]float64 {
	var out map[string]float64
	prefix := name + "{"
	for series, v := range m {
		rest, ok := strings.CutPrefix(series, prefix)
		if !ok {
			continue
		}
		for kv := range strings.SplitSeq(strings.TrimSuffix(rest, "}"), ",") {
			if val, ok := strings.CutPrefix(kv, label+"="); ok {
				if out == nil {
					out = map[string]float64{}
				}
				out[strings.Trim(val, `"`)] += v
			}
		}
	}
	return out
}

// binaryVersion names the source a binary was built from: the version
// stamped into it (awumeter version), else the VCS revision in its Go build
// information, else, for a binary under the current directory (make build's
// bin/awumeter), the checkout's HEAD and whether it has changes.
func binaryVersion(path string) string {
	if out, err := exec.Command(path, "version").Output(); err == nil {
		if v := strings.TrimSpace(string(out)); v != "" && v != "dev" {
			return "version " + v
		}
	}
	if info, err := buildinfo.ReadFile(path); err == nil {
		var rev, modified string
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				modified = s.Value
			}
		}
		if rev != "" {
			return describeRev(rev, modified == "true")
		}
	}
	if rel, err := filepath.Rel(".", path); err != nil || filepath.IsAbs(rel) || strings.HasPrefix(rel, "..") {
		return "unknown source"
	}
	rev, err := exec.Command("git", "rev-parse", "HEAD").Output()
	if err != nil {
		return "unknown source"
	}
	// --no-optional-locks: only read, never refresh the index.
	changes, err := exec.Command("git", "--no-optional-locks", "status", "--porcelain").Output()
	return "the checkout's " + describeRev(strings.TrimSpace(string(rev)), err != nil || len(changes) > 0)
}

func describeRev(rev string, modified bool) string {
	rev = rev[:min(len(rev), 7)]
	if modified {
		return rev + " with uncommitted changes"
	}
	return rev
}
