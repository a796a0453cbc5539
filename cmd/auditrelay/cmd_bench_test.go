package main

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/auditrelay/auditrelay/core/bench"
)

// TestBenchCommand runs `auditrelay bench`, small: --json prints the
// report, the profiles asked for are written, and bad flags are usage
// errors. The report's own consistency is tested in core/bench.
func TestBenchCommand(t *testing.T) {
	for _, args := range [][]string{
		{"bench", "--events", "0"},
		{"bench", "--store", "mysql://x"},
	} {
		var out, errOut bytes.Buffer
		if code := run(t.Context(), args, strings.NewReader(""), &out, &errOut); code != exitBadUsage {
			t.Errorf("%v: exit %d, want %d: %s", args, code, exitBadUsage, errOut.String())
		}
	}
	if testing.Short() {
		t.Skip("runs the whole benchmark path")
	}
	t.Chdir(t.TempDir())
	var out, errOut bytes.Buffer
	args := []string{"bench", "--in-process", "--events", "200", "--paced-rate", "0", "--json", "--cpuprofile", "cpu.out", "--memprofile", "mem.out"}
	if code := run(t.Context(), args, strings.NewReader(""), &out, &errOut); code != 0 {
		t.Fatalf("bench exited %d: %s", code, errOut.String())
	}
	var rep bench.Report
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("--json output: %v\n%s", err, out.String())
	}
	if len(rep.Runs) != 1 || rep.Runs[0].Events != 200 || rep.Runs[0].EventsPerSec <= 0 || rep.Backlog != nil {
		t.Errorf("report %+v: want one run of 200 events, no backlog phase", rep)
	}
	if errOut.Len() != 0 {
		t.Errorf("--json wrote progress to stderr: %q", errOut.String())
	}
	for _, name := range []string{"cpu.out", "mem.out"} {
		if fi, err := os.Stat(name); err != nil || fi.Size() == 0 {
			t.Errorf("profile %s: %v (size %d)", name, err, sizeOf(fi))
		}
	}
}

func sizeOf(fi os.FileInfo) int64 {
	if fi == nil {
		return 0
	}
	return fi.Size()
}
