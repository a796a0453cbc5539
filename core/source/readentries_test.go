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

	"github.com/auditrelay/auditrelay/core/auditlog"
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
		if it.Entry == nil || !bytes.Equal(it.Entry.Raw, it.Raw) {
			t.Errorf("%s: good item without its entry: %q", it.Ref, it.Raw)
			return nil
		}
		out = append(out, fmt.Sprintf("%s=%s@%d:%d", it.Ref, it.Entry.ID, it.Line, it.Col))
		return nil
	})
	return out, err
}

func TestReadEntries(t *testing.T) {
	// The reader hands each element to auditlog, so the elements are
	// valid entries unless a test says otherwise: k completes one.
	const k = `,"date":1,"kind":"k","accesses":[]`
	tests := []struct {
		name  string
		input string
		want  []string
		err   string // substring of the returned error, "" for none
	}{
		{
			name:  "ndjson",
			input: "{\"_id\":\"a\"" + k + "}\n\n  {\"_id\":\"b\"" + k + "}\r\n{\"_id\":\"c\"" + k + "}",
			want:  []string{"line 1=a@1:1", "line 3=b@3:3", "line 4=c@4:1"},
		},
		{
			name:  "ndjson with malformed lines",
			input: "{\"_id\":\"a\"" + k + "}\n{\"_id\":\"b\"" + k + ",}\n[1,\n\"text\"\n{\"_id\":\"c\"" + k + "}\n{\"_id\":\"d\" \n",
			want: []string{
				"line 1=a@1:1",
				`line 2!2:46: trailing comma before '}': expected another member name`,
				`line 3!3:4: "[1]": expected a JSON value, found end of input`,
				`line 4!4:1: expected an audit-log entry (a JSON object), found string`,
				"line 5=c@5:1",
				`line 6!6:11: unterminated object opened at 1:1: expected ',' or '}'`,
			},
		},
		{
			name:  "ndjson with entries auditlog refuses",
			input: "{\"_id\":\"a\"}\n{\"_id\":\"b\",\"date\":\"x\"}\n  {\"_id\":\"c\"" + k + ",\"kind\":\"\"}\n{\"_id\":\"\xff\"" + k + "}\n",
			want: []string{
				`line 1!1:1: "date": required field is missing (milliseconds since epoch)`,
				`line 2!2:19: "date": expected a number (milliseconds since epoch), found string`,
				`line 3!3:55: "kind": expected a non-empty string (the resource kind, e.g. "flag")`,
				`line 4!4:9: "_id": invalid UTF-8: byte 0xFF in a string (JSON text must be UTF-8)`,
			},
		},
		{
			name:  "ndjson of list pages",
			input: "{\"items\":[{\"_id\":\"a\"" + k + "},{\"_id\":\"b\"" + k + "}],\"totalCount\":2}\n{\"_id\":\"c\"" + k + "}\n{\"_links\":{},\"items\":[{\"_id\":\"d\"" + k + "},{\"_id\":7}]}\n",
			want:  []string{"line 1=a@1:11", "line 1=b@1:57", "line 2=c@2:1", "line 3=d@3:23", `line 3!3:76: "_id": expected a non-empty string (the entry id), found number`},
		},
		{
			name:  "array",
			input: "[\n  {\"_id\": \"a\",\n   \"date\": 1" + k + "},\n  {\"_id\": \"b\"" + k + "}, {\"_id\": \"c\"" + k + "}\n]\n",
			want:  []string{"line 2=a@2:3", "line 4=b@4:3", "line 4=c@4:51"},
		},
		{
			name:  "empty array",
			input: " [ ] ",
		},
		{
			name:  "array with malformed elements",
			input: "[\n {\"_id\": \"a\"" + k + "},\n {\"_id\": \"b\", \"date\": tru},\n 42,\n {\"_id\": \"ü\", \"x\": [1 2]},\n {\"_id\": \"d\"" + k + "}\n]",
			want: []string{
				"line 2=a@2:2",
				`line 3!3:23: "date": invalid literal: expected "true"`,
				`line 4!4:2: expected an audit-log entry (a JSON object), found number`,
				`line 5!5:23: "x": expected ',' or ']' after array element, found "2" (missing comma?)`,
				"line 6=d@6:2",
			},
		},
		{
			name:  "list page, links first",
			input: "{\n \"_links\": {\"self\": {\"href\": \"/api/v2/auditlog\"}},\n \"items\": [\n  {\"_id\": \"a\"" + k + "},\n  {\"_id\": \"b\"" + k + "}\n ],\n \"totalCount\": 2\n}\n",
			want:  []string{"line 4=a@4:3", "line 5=b@5:3"},
		},
		{
			name:  "pretty-printed entries one after another",
			input: "{\n  \"_id\": \"a\",\n  \"items\": 3" + k + "\n}\n{\n  \"_id\": \"b\"" + k + "\n}\n",
			want:  []string{"line 1=a@1:1", "line 5=b@5:1"},
		},
		{
			name:  "entry with a missing colon is reported, reading goes on",
			input: "[{\n \"_id\" \"a\"\n}, {\"_id\": \"b\"" + k + "}]",
			want:  []string{`line 1!2:8: expected ':' after member name "_id", found "\""`, "line 3=b@3:4"},
		},
		{
			name:  "byte-order mark",
			input: "\uFEFF{\"_id\":\"a\"" + k + "}\n",
			want:  []string{"line 1=a@1:1"},
		},
		{
			name:  "empty file",
			input: "\n  \n",
		},
		{
			name:  "unterminated array",
			input: "[\n {\"_id\": \"a\"" + k + "},\n {\"_id\": \"b\"" + k + "}\n",
			want:  []string{"line 2=a@2:2", "line 3=b@3:2"},
			err:   "line 4:1: unterminated array opened at 1:1: expected ',' or ']'",
		},
		{
			name:  "missing comma between entries",
			input: "[{\"_id\": \"a\"" + k + "}\n {\"_id\": \"b\"}]",
			want:  []string{"line 1=a@1:2"},
			err:   "line 2:2: expected ',' or ']' after the entry at 1:2, found \"{\" (missing comma?)",
		},
		{
			name:  "trailing comma",
			input: "[{\"_id\": \"a\"" + k + "},\n]",
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
			input: "[{\"_id\": \"a\"" + k + "}] x",
			want:  []string{"line 1=a@1:2"},
			err:   "line 1:50: expected an audit-log entry '{'",
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

// FuzzReadEntries: whatever the file, every item is placed in it, a good
// item is the entry auditlog decodes from its bytes, and a refused one is
// refused by auditlog for the same reason, placed where the entry starts,
// or larger than the limit: one decoder decides, wherever entries come
// from.
// BenchmarkReplayNDJSONToEntries is what replaying a file costs up to the
// store: reading it and decoding every entry (the engine decodes an item
// only when the reader did not: Item.Entry).
func BenchmarkReplayNDJSONToEntries(b *testing.B) {
	var buf bytes.Buffer
	for i := range 10_000 {
		buf.Write(entryJSON(fmt.Sprintf("e%06d", i), int64(i)))
		buf.WriteByte('\n')
	}
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		n := 0
		err := source.ReadEntries(bytes.NewReader(data), func(it source.Item) error {
			e := it.Entry
			if e == nil {
				var err error
				if e, err = auditlog.DecodeEntry(it.Raw); err != nil {
					return err
				}
			}
			n += len(e.ID)
			return nil
		})
		if err != nil || n == 0 {
			b.Fatal(err)
		}
	}
}

func FuzzReadEntries(f *testing.F) {
	const k = `,"date":1,"kind":"k","accesses":[]`
	for _, s := range []string{
		"{\"_id\":\"a\"" + k + "}\n{\"_id\":\"b\"}",
		"[{\"_id\":\"a\"" + k + "},{\"_id\":\"b\"" + k + "}]",
		"{\"items\":[{\"_id\":\"a\"" + k + "}],\"_links\":{}}",
		"{\n\"_id\":\"a\"" + k + "\n}\n{\"_id\" \"b\"}",
		"[{\"a\":[1}, {\"b\":\"\\\"\"}]",
		"{\"items\":[1,2,]}",
		"\xEF\xBB\xBF[\"\n",
		"{\"_id\":1}\n[1,2]\n{\"items\":[{}]}\n",
		"[\n  {\"_id\":\"\xff\"" + k + "},\n  {\"_id\":\"c\",\"date\":2,\n \"kind\":\"\",\"accesses\":[]}]",
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
			alone, aloneErr := auditlog.DecodeEntry(bytes.Clone(it.Raw))
			if it.Err == nil {
				if it.Entry == nil || !bytes.Equal(it.Entry.Raw, it.Raw) || !json.Valid(it.Raw) || it.Raw[0] != '{' {
					t.Fatalf("good item is not a decoded JSON object: %q", it.Raw)
				}
				if aloneErr != nil || alone.ID != it.Entry.ID {
					t.Fatalf("good item %q: decoded alone: %v", it.Raw, aloneErr)
				}
				return nil
			}
			if it.Entry != nil {
				t.Fatalf("refused item with an entry: %v", it.Err)
			}
			var pe *source.PositionError
			var de *auditlog.DecodeError
			switch {
			case errors.As(it.Err, &de):
				if de.Line < it.Line || de.Line > lines || de.Col < 1 {
					t.Fatalf("rejection %v for the item at %d:%d", it.Err, it.Line, it.Col)
				}
				var aloneDE *auditlog.DecodeError
				if !errors.As(aloneErr, &aloneDE) || aloneDE.Detail() != de.Detail() || aloneDE.Line+it.Line-1 != de.Line {
					t.Fatalf("refused %q in the file with %v, alone with %v", it.Raw, it.Err, aloneErr)
				}
			case errors.As(it.Err, &pe):
				if pe.Line < it.Line || pe.Line > lines || pe.Col < 1 {
					t.Fatalf("rejection %v for the item at %d:%d", it.Err, it.Line, it.Col)
				}
			default:
				t.Fatalf("rejection %T %v is not positioned", it.Err, it.Err)
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
