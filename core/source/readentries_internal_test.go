package source

import (
	"bufio"
	"fmt"
	"strings"
	"testing"
)

// readLimited reads with a small entry limit, so that oversized entries
// can be tested without megabytes of input.
func readLimited(t *testing.T, input string, limit int) []string {
	t.Helper()
	var out []string
	rd := &entryReader{br: bufio.NewReaderSize(strings.NewReader(input), 16), line: 1, col: 1, limit: limit,
		fn: func(it Item) error {
			if it.Err != nil {
				out = append(out, it.Ref+"!"+it.Err.Error())
			} else {
				out = append(out, it.Ref+"="+string(it.Raw))
			}
			return nil
		}}
	if err := rd.run(); err != nil {
		t.Fatalf("error %v", err)
	}
	return out
}

func TestOversizedEntriesAreSkipped(t *testing.T) {
	big := `{"_id":"big","pad":"` + strings.Repeat("é", 40) + `"}`
	a, b := `{"_id":"a","date":1,"kind":"k","accesses":[]}`, `{"_id":"b","date":1,"kind":"k","accesses":[]}`
	tests := []struct {
		name, input string
		want        []string
	}{
		{
			name:  "ndjson line",
			input: a + "\n" + big + "\n" + b + "\n",
			want:  []string{"line 1=" + a, "line 2!line 2:1: line is longer than 64 bytes; skipped", "line 3=" + b},
		},
		{
			name:  "array element",
			input: "[" + a + ",\n " + big + ",\n" + b + "]",
			want:  []string{"line 1=" + a, "line 2!line 2:2: entry is larger than 64 bytes; skipped", "line 3=" + b},
		},
		{
			name:  "page item",
			input: "{\"items\": [\n" + big + ", " + b + "]}",
			want:  []string{"line 2!line 2:1: entry is larger than 64 bytes; skipped", "line 2=" + b},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := readLimited(t, tt.input, 64)
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("got\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(tt.want, "\n  "))
			}
		})
	}
}

func TestTinyBufferGivesTheSameResult(t *testing.T) {
	// Values split across many buffer refills (and UTF-8 sequences split
	// between them) are read and positioned as with a large buffer.
	const k = `,"date":1,"kind":"k","accesses":[]`
	input := "[\n  {\"_id\": \"ü-1\", \"s\": \"a\\\"b\\\\\"" + k + "},\n  {\"_id\": \"é\", \"x\": [1 2]},\n  {\"_id\": \"3\"" + k + "}\n]"
	var big, small []string
	collect := func(into *[]string) func(Item) error {
		return func(it Item) error {
			*into = append(*into, fmt.Sprintf("%s %d:%d %q %v", it.Ref, it.Line, it.Col, it.Raw, it.Err))
			return nil
		}
	}
	if err := ReadEntries(strings.NewReader(input), collect(&big)); err != nil {
		t.Fatal(err)
	}
	rd := &entryReader{br: bufio.NewReaderSize(strings.NewReader(input), 16), line: 1, col: 1, limit: MaxEntryBytes, fn: collect(&small)}
	if err := rd.run(); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(big) != fmt.Sprint(small) || len(big) != 3 {
		t.Errorf("large buffer:\n  %s\nsmall buffer:\n  %s", strings.Join(big, "\n  "), strings.Join(small, "\n  "))
	}
}
