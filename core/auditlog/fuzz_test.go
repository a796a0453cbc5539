package auditlog

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/auditrelay/auditrelay/core/jsonv"
)

// FuzzDecodeEntry feeds arbitrary bytes to DecodeEntry, DecodeEntryAt,
// DecodeEntries and DecodePage: they must not panic, every error must be a
// *DecodeError with a position inside the input, every entry they accept
// must build into a context that serializes to valid JSON, and
// DecodeEntryAt must say what DecodeEntry says, moved to where the entry
// starts.
func FuzzDecodeEntry(f *testing.F) {
	for _, raw := range fixtures(f) {
		f.Add(raw)
	}
	for _, s := range []string{
		``, `{}`, `[]`, `null`, `{"_id":"a","date":1,"kind":"flag","accesses":[]}`,
		`{"_id":"a","date":"x"}`, `{"items":[{"_id":"a"}]}`, "{\"_id\":\"a\"}\n{\"_id\":\"b\"}",
		`{"_id":"a","date":1,"kind":"flag","accesses":[{"action":"a","resource":"proj/;:env/*;,:flag/"}],"description":"* [x](y) ~~z~~ <b>"}`,
		"{\"_id\":\"\xfeXYZ1\",\"date\":1,\"kind\":\"flag\",\"accesses\":[]}",
		`{"_id":"a\u0000","date":1,"kind":"fl\ud800ag","accesses":[],"title":"t\u0000\udfff","member":{"email":"\u0085"}}`,
		"{\"_links\":{},\"items\":[{\"_id\":\"\xff\"},\n {\"_id\":\"a\",\"date\":1,\"kind\":\"k\",\"accesses\":[]}, 1,{\"x\":\"\xfe\"}],\"totalCount\":2}",
	} {
		f.Add([]byte(s))
	}
	b, err := NewBuilder(Options{})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := DecodeEntry(data)
		if err != nil {
			checkDecodeError(t, data, err)
		} else {
			checkBuild(t, b, e)
		}
		checkDecodeAt(t, data, e, err)
		entries, err := DecodeEntries(data)
		for _, e := range entries {
			checkBuild(t, b, e)
		}
		if err != nil {
			for _, one := range unjoin(err) {
				checkDecodeError(t, data, one)
			}
		}
		page, err := DecodePage(data)
		if err != nil {
			checkDecodeError(t, data, err)
			return
		}
		for _, e := range page.Entries {
			checkBuild(t, b, e)
		}
		for _, de := range page.Invalid {
			checkDecodeError(t, data, de)
			if de.Index < 0 || (de.ID != "" && (de.Field == "_id" || de.Field == "date")) {
				t.Fatalf("invalid item %+v", de)
			}
		}
	})
}

// checkDecodeAt decodes data as if it started at 3:5 of a file and
// compares with DecodeEntry's result e, err.
func checkDecodeAt(t *testing.T, data []byte, e *Entry, err error) {
	t.Helper()
	at, atErr := DecodeEntryAt(data, 3, 5)
	if (err == nil) != (atErr == nil) {
		t.Fatalf("DecodeEntry: %v; DecodeEntryAt: %v", err, atErr)
	}
	if err != nil {
		var de, atDE *DecodeError
		if errors.As(err, &de) != errors.As(atErr, &atDE) {
			t.Fatalf("DecodeEntry: %v; DecodeEntryAt: %v", err, atErr)
		}
		if de == nil {
			return
		}
		wantCol := de.Col
		if de.Line == 1 {
			wantCol += 4
		}
		if atDE.Line != de.Line+2 || atDE.Col != wantCol || atDE.Detail() != de.Detail() {
			t.Fatalf("DecodeEntry: %v; DecodeEntryAt(3:5): %v", err, atErr)
		}
		return
	}
	if at.ID != e.ID || len(at.Warnings) != len(e.Warnings) {
		t.Fatalf("DecodeEntryAt read %q with %d warnings, DecodeEntry %q with %d", at.ID, len(at.Warnings), e.ID, len(e.Warnings))
	}
}

func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

func checkDecodeError(t *testing.T, data []byte, err error) {
	t.Helper()
	var de *DecodeError
	if !errors.As(err, &de) {
		// NDJSON reports an over-long line without a position.
		return
	}
	lines := 1
	for _, c := range data {
		if c == '\n' {
			lines++
		}
	}
	if de.Line < 1 || de.Line > lines || de.Col < 1 || de.Msg == "" {
		t.Fatalf("bad position in %v (input has %d lines)", err, lines)
	}
}

func checkBuild(t *testing.T, b *Builder, e *Entry) {
	t.Helper()
	// Keys are text of bounded length; the summary is display text.
	keys := []string{e.ID, e.Kind}
	for _, a := range e.Accesses {
		keys = append(keys, a.Action, a.Resource)
	}
	for _, k := range keys {
		if why := keyProblem(k, MaxResourceBytes); why != "" {
			t.Fatalf("accepted key %q: %s", k, why)
		}
	}
	s := b.Summary(e)
	for _, f := range []string{s.Title, s.Member, s.Project, s.Environment} {
		if !utf8.ValidString(f) || strings.ContainsFunc(f, isControl) {
			t.Fatalf("summary field %q is not display text", f)
		}
	}
	out := jsonv.Marshal(b.Build(e))
	if _, err := jsonv.Decode(out); err != nil {
		t.Fatalf("context is not valid JSON: %v\n%s", err, out)
	}
}
