// Command testsummary reads `go test -json` on stdin and prints what
// `go test` prints without -v (each package's result, the output of
// failing tests and build errors), then one line saying how many tests
// were skipped and why, so that a run without PostgreSQL or ../shared
// says so instead of passing quietly. It exits 1 when anything failed.
//
//	go test -race -timeout 25m -json ./... | go run ./.ci/testsummary
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"regexp"
	"sort"
	"strings"
)

// event is one line of `go test -json` (cmd/test2json).
type event struct {
	Action  string
	Package string
	Test    string
	Output  string
	Elapsed float64
}

func main() {
	os.Exit(summarize(os.Stdin, os.Stdout))
}

// fileLine is the "file_test.go:123: " go test puts before a message.
var fileLine = regexp.MustCompile(`^\s*[\w./-]+\.go:\d+: `)

func summarize(in io.Reader, out io.Writer) int {
	type key struct{ pkg, test string }
	outputs := map[key][]string{} // a running test's output, until its result
	reasons := map[string][]string{}
	failed := false
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var e event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			fmt.Fprintln(out, sc.Text()) // not an event: pass it on
			continue
		}
		k := key{e.Package, e.Test}
		switch e.Action {
		case "build-output":
			fmt.Fprint(out, e.Output)
		case "output":
			if e.Test == "" {
				// Package lines: "ok", "FAIL", "?", panics outside tests.
				if !strings.HasPrefix(e.Output, "=== ") && !strings.HasPrefix(e.Output, "PASS") && !strings.HasPrefix(e.Output, "--- ") {
					fmt.Fprint(out, e.Output)
				}
				continue
			}
			outputs[k] = append(outputs[k], e.Output)
		case "fail":
			failed = true
			if e.Test != "" {
				fmt.Fprint(out, strings.Join(outputs[k], ""))
			}
			delete(outputs, k)
		case "skip":
			if e.Test != "" && !strings.Contains(e.Test, "/") {
				reasons[skipReason(outputs[k])] = append(reasons[skipReason(outputs[k])], e.Test)
			}
			delete(outputs, k)
		case "pass":
			delete(outputs, k)
		}
	}
	if err := sc.Err(); err != nil {
		fmt.Fprintf(out, "testsummary: reading go test -json: %v\n", err)
		return 1
	}
	fmt.Fprintln(out, skipLine(reasons))
	if failed {
		return 1
	}
	return 0
}

// skipReason is the last message a skipped test printed (its t.Skip).
func skipReason(lines []string) string {
	for i := len(lines) - 1; i >= 0; i-- {
		l := strings.TrimSpace(lines[i])
		if l == "" || strings.HasPrefix(l, "--- SKIP") || strings.HasPrefix(l, "=== ") {
			continue
		}
		return strings.TrimSpace(fileLine.ReplaceAllString(l, ""))
	}
	return "no reason given"
}

// skipLine is the one-line summary: "skipped 7 tests: reason (5), other (2)".
func skipLine(reasons map[string][]string) string {
	if len(reasons) == 0 {
		return "skipped: none"
	}
	type group struct {
		reason string
		n      int
	}
	var groups []group
	total := 0
	for r, tests := range reasons {
		groups = append(groups, group{r, len(tests)})
		total += len(tests)
	}
	sort.Slice(groups, func(i, j int) bool {
		if groups[i].n != groups[j].n {
			return groups[i].n > groups[j].n
		}
		return groups[i].reason < groups[j].reason
	})
	parts := make([]string, len(groups))
	for i, g := range groups {
		parts[i] = fmt.Sprintf("%s (%d)", g.reason, g.n)
	}
	noun := "tests"
	if total == 1 {
		noun = "test"
	}
	return fmt.Sprintf("skipped %d %s: %s", total, noun, strings.Join(parts, "; "))
}
