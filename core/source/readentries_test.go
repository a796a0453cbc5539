package source_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/auditrelay/auditrelay/core/source"
)

// got is what ReadEntries produced, in a comparable form: "ref=id" for a
// good item ("@line:col" appended), "ref!error" for a rejected one.
func readAll(t *testing.T, input string) ([]string, error) {
	t.Helper()
	var out []string
	err := source.ReadEntries(strings.NewReader(input), func(it source.Item) error {
		if it.Source != "replay" {
			t.Errorf("Source %q", it.Source)
		}
		if it.Err != nil {
			out = append(out, it.Ref+"!"+it.Err.Error())
			return nil
		}
		var e struct {
			ID string `json:"_id"`
		}
		if err := json.Unmarshal(it.Raw, &e); err != nil {
			t.Errorf("%s: good item is not JSON: %v: %q", it.Ref, err, it.Raw)
		}
		out = append(out, fmt.Sprintf("%s=%s@%d:%d", it.Ref, e.ID, it.Line, it.Col))
		return nil
	})
	return out, err
}

func TestReadEntries(t *testing.T) {
	tests := []struct {
		name  string
		input string
		want  []string
		err   string // substring of the returned error, "" for none
	}{
		{
			name:  "ndjson",
			input: "{\"_id\":\"a\"}\n\n  {\"_id\":\"b\"}\r\n{\"_id\":\"c\"}",
			want:  []string{"line 1=a@1:1", "line 3=b@3:3", "line 4=c@4:1"},
		},
		{
			name:  "ndjson with malformed lines",
			input: "{\"_id\":\"a\"}\n{\"_id\":\"b\",}\n[1,\n\"text\"\n{\"_id\":\"c\"}\n{\"_id\":\"d\" \n",
			want: []string{
				"line 1=a@1:1",
				`line 2!line 2:12: trailing comma before '}': expected another member name`,
				`line 3!line 3:1: expected an audit-log entry (a JSON object), found an array`,
				`line 4!line 4:1: expected an audit-log entry (a JSON object), found a string`,
				"line 5=c@5:1",
				`line 6!line 6:11: unterminated object opened at 1:1: expected ',' or '}'`,
			},
		},
		{
			name:  "ndjson of list pages",
			input: "{\"items\":[{\"_id\":\"a\"},{\"_id\":\"b\"}],\"totalCount\":2}\n{\"_id\":\"c\"}\n{\"_links\":{},\"items\":[{\"_id\":\"d\"}]}\n",
			want:  []string{"line 1=a@1:11", "line 1=b@1:23", "line 2=c@2:1", "line 3=d@3:23"},
		},
		{
			name:  "array",
			input: "[\n  {\"_id\": \"a\",\n   \"date\": 1},\n  {\"_id\": \"b\"}, {\"_id\": \"c\"}\n]\n",
			want:  []string{"line 2=a@2:3", "line 4=b@4:3", "line 4=c@4:17"},
		},
		{
			name:  "empty array",
			input: " [ ] ",
		},
		{
			name:  "array with malformed elements",
			input: "[\n {\"_id\": \"a\"},\n {\"_id\": \"b\", \"date\": tru},\n 42,\n {\"_id\": \"ü\", \"x\": [1 2]},\n {\"_id\": \"d\"}\n]",
			want: []string{
				"line 2=a@2:2",
				`line 3!line 3:23: invalid literal: expected "true"`,
				`line 4!line 4:2: expected an audit-log entry (a JSON object), found a number`,
				`line 5!line 5:23: expected ',' or ']' after array element, found "2" (missing comma?)`,
				"line 6=d@6:2",
			},
		},
		{
			name:  "list page, links first",
			input: "{\n \"_links\": {\"self\": {\"href\": \"/api/v2/auditlog\"}},\n \"items\": [\n  {\"_id\": \"a\"},\n  {\"_id\": \"b\"}\n ],\n \"totalCount\": 2\n}\n",
			want:  []string{"line 4=a@4:3", "line 5=b@5:3"},
		},
		{
			name:  "pretty-printed entries one after another",
			input: "{\n  \"_id\": \"a\",\n  \"items\": 3\n}\n{\n  \"_id\": \"b\"\n}\n",
			want:  []string{"line 1=a@1:1", "line 5=b@5:1"},
		},
		{
			name:  "entry with a missing colon is reported, reading goes on",
			input: "[{\n \"_id\" \"a\"\n}, {\"_id\": \"b\"}]",
			want:  []string{`line 1!line 2:8: expected ':' after member name "_id", found "\""`, "line 3=b@3:4"},
		},
		{
			name:  "byte-order mark",
			input: "\uFEFF{\"_id\":\"a\"}\n",
			want:  []string{"line 1=a@1:1"},
		},
		{
			name:  "empty file",
			input: "\n  \n",
		},
		{
			name:  "unterminated array",
			input: "[\n {\"_id\": \"a\"},\n {\"_id\": \"b\"}\n",
			want:  []string{"line 2=a@2:2", "line 3=b@3:2"},
			err:   "line 4:1: unterminated array opened at 1:1: expected ',' or ']'",
		},
		{
			name:  "missing comma between entries",
			input: "[{\"_id\": \"a\"}\n {\"_id\": \"b\"}]",
			want:  []string{"line 1=a@1:2"},
			err:   "line 2:2: expected ',' or ']' after the entry at 1:2, found \"{\" (missing comma?)",
		},
		{
			name:  "trailing comma",
			input: "[{\"_id\": \"a\"},\n]",
			want:  []string{"line 1=a@1:2"},
			err:   "line 2:1: trailing comma before ']'",
		},
		{
			name:  "unterminated string",
			input: "[{\"_id\": \"a",
			err:   "unexpected end of input in the value starting at 1:2",
		},
		{
			name:  "not JSON",
			input: "hello\n",
			err:   "line 1:1: expected an audit-log entry '{', an array of entries '[' or a list page",
		},
		{
			name:  "content after the array",
			input: "[{\"_id\": \"a\"}] x",
			want:  []string{"line 1=a@1:2"},
			err:   "line 1:16: expected an audit-log entry '{'",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readAll(t, tt.input)
			if tt.err == "" && err != nil {
				t.Fatalf("error %v", err)
			}
			if tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)) {
				t.Fatalf("error %v, want one containing %q", err, tt.err)
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("got\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(tt.want, "\n  "))
			}
		})
	}
}

func TestReadEntriesKeepsExactBytes(t *testing.T) {
	elem := "{ \"_id\" : \"a\",\n    \"date\": 1.50e3, \"s\": \"\\u00e9\\\"]}\" }"
	var raws []string
	err := source.ReadEntries(strings.NewReader("[\n  "+elem+"\n]"), func(it source.Item) error {
		raws = append(raws, string(it.Raw))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(raws) != 1 || raws[0] != elem {
		t.Errorf("raw %q, want %q", raws, elem)
	}
}

func TestReadEntriesStopsOnCallbackError(t *testing.T) {
	stop := errors.New("stop here")
	n := 0
	err := source.ReadEntries(strings.NewReader("{\"_id\":1}\n{\"_id\":2}\n{\"_id\":3}\n"), func(source.Item) error {
		n++
		if n == 2 {
			return stop
		}
		return nil
	})
	if err != stop || n != 2 {
		t.Errorf("err %v after %d items, want the callback's error after 2", err, n)
	}
}

// arrayStream produces a JSON array of n entries on demand, without
// holding it, and remembers where each entry starts.
type arrayStream struct {
	n, i   int
	buf    bytes.Buffer
	offset int64   // bytes handed out so far
	starts []int64 // offset of each entry
	closed bool
}

func (s *arrayStream) Read(p []byte) (int, error) {
	for s.buf.Len() < len(p) && !s.closed {
		if s.i == 0 {
			s.buf.WriteString("[\n")
		}
		if s.i == s.n {
			s.buf.WriteString("]\n")
			s.closed = true
			break
		}
		if s.i > 0 {
			s.buf.WriteString(",\n")
		}
		s.starts = append(s.starts, s.offset+int64(s.buf.Len()))
		s.buf.Write(entryJSON(fmt.Sprintf("e%06d", s.i), 1700000000000+int64(s.i)))
		s.i++
	}
	if s.buf.Len() == 0 {
		return 0, io.EOF
	}
	n, _ := s.buf.Read(p)
	s.offset += int64(n)
	return n, nil
}

func TestReadEntriesStreamsHugeArray(t *testing.T) {
	const n = 50_000
	src := &arrayStream{n: n}
	count := 0
	var maxAhead int64
	err := source.ReadEntries(src, func(it source.Item) error {
		if it.Err != nil {
			t.Fatalf("%s: %v", it.Ref, it.Err)
		}
		// How far past this entry's start the reader had read when it
		// handed the entry over: bounded by its buffer, whatever the
		// size of the file.
		maxAhead = max(maxAhead, src.offset-src.starts[count])
		if it.Line != 2+count {
			t.Fatalf("entry %d at line %d", count, it.Line)
		}
		count++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if count != n {
		t.Fatalf("read %d entries, want %d", count, n)
	}
	if maxAhead > 128<<10 {
		t.Errorf("read up to %d bytes ahead of an entry (file of %d bytes): not streaming", maxAhead, src.offset)
	}
	if src.offset < 10<<20 {
		t.Errorf("test file only %d bytes", src.offset)
	}
}

func BenchmarkReadEntriesArray(b *testing.B) {
	b.ReportAllocs()
	var size int64
	for b.Loop() {
		src := &arrayStream{n: 10_000}
		if err := source.ReadEntries(src, func(source.Item) error { return nil }); err != nil {
			b.Fatal(err)
		}
		size = src.offset
	}
	b.SetBytes(size)
}

func BenchmarkReadEntriesNDJSON(b *testing.B) {
	var buf bytes.Buffer
	for i := range 10_000 {
		buf.Write(entryJSON(fmt.Sprintf("e%06d", i), int64(i)))
		buf.WriteByte('\n')
	}
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if err := source.ReadEntries(bytes.NewReader(data), func(source.Item) error { return nil }); err != nil {
			b.Fatal(err)
		}
	}
}

func FuzzReadEntries(f *testing.F) {
	for _, s := range []string{
		"{\"_id\":\"a\"}\n{\"_id\":\"b\"}",
		"[{\"_id\":\"a\"},{\"_id\":\"b\"}]",
		"{\"items\":[{\"_id\":\"a\"}],\"_links\":{}}",
		"{\n\"_id\":\"a\"\n}\n{\"_id\" \"b\"}",
		"[{\"a\":[1}, {\"b\":\"\\\"\"}]",
		"{\"items\":[1,2,]}",
		"\xEF\xBB\xBF[\"\n",
		"{\"_id\":1}\n[1,2]\n{\"items\":[{}]}\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		lines := bytes.Count(data, []byte("\n")) + 1
		err := source.ReadEntries(bytes.NewReader(data), func(it source.Item) error {
			if it.Line < 1 || it.Line > lines || it.Col < 1 {
				t.Fatalf("item at %d:%d, input has %d lines", it.Line, it.Col, lines)
			}
			if it.Ref != fmt.Sprintf("line %d", it.Line) {
				t.Fatalf("Ref %q for line %d", it.Ref, it.Line)
			}
			if it.Err == nil {
				if !json.Valid(it.Raw) || it.Raw[0] != '{' {
					t.Fatalf("good item is not a JSON object: %q", it.Raw)
				}
				return nil
			}
			var pe *source.PositionError
			if !errors.As(it.Err, &pe) || pe.Line < it.Line || pe.Line > lines || pe.Col < 1 {
				t.Fatalf("rejection %v for the item at %d:%d", it.Err, it.Line, it.Col)
			}
			return nil
		})
		var pe *source.PositionError
		if err != nil && (!errors.As(err, &pe) || pe.Line < 1 || pe.Line > lines || pe.Col < 1) {
			t.Fatalf("error %v is not positioned in the input", err)
		}
		if err != nil && !utf8.ValidString(err.Error()) {
			t.Fatalf("error message is not UTF-8: %q", err.Error())
		}
	})
}
