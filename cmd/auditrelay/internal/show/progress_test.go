package show

import (
	"bytes"
	"strings"
	"testing"

	"github.com/auditrelay/auditrelay/core/source"
)

func TestReplaySummary(t *testing.T) {
	tests := []struct {
		p    source.ReplayProgress
		want string
	}{
		{source.ReplayProgress{}, "replayed 0 entries: 0 accepted, 0 duplicates, 0 rejected"},
		{source.ReplayProgress{Read: 1, Accepted: 1}, "replayed 1 entry: 1 accepted, 0 duplicates, 0 rejected"},
		{source.ReplayProgress{Read: 2000, Accepted: 1990, Duplicates: 8, Rejected: 2, Rejections: []source.Rejection{
			{Ref: "line 17", Line: 17, Col: 1, Reason: `"_id": required field is missing (the entry id)`},
			{Ref: "line 903", Line: 903, Reason: "entry refused"},
		}}, `replayed 2000 entries: 1990 accepted, 8 duplicates, 2 rejected (line 17:1: "_id": required field is missing (the entry id); line 903: entry refused)`},
		{source.ReplayProgress{Read: 9, Duplicates: 1, Rejected: 8, Rejections: []source.Rejection{
			{Ref: "line 1", Reason: "a"}, {Ref: "line 2", Reason: "b"}, {Ref: "line 3", Reason: "c"},
			{Ref: "line 4", Reason: "d"}, {Ref: "line 5", Reason: "e"}, {Ref: "line 6", Reason: "f"},
		}}, "replayed 9 entries: 0 accepted, 1 duplicate, 8 rejected (line 1: a; line 2: b; line 3: c; line 4: d; line 5: e; and 3 more)"},
	}
	for _, tt := range tests {
		if got := ReplaySummary(tt.p); got != tt.want {
			t.Errorf("got  %s\nwant %s", got, tt.want)
		}
	}
}

func TestProgress(t *testing.T) {
	p := source.ReplayProgress{Read: 12345, Accepted: 12300, Duplicates: 40, Rejected: 5, BytesRead: 500}

	var plain bytes.Buffer
	r := NewProgress(&plain, false, 1000)
	r.Update(p)
	if plain.Len() != 0 {
		t.Errorf("not a terminal: Update wrote %q", plain.String())
	}
	r.Finish(p)
	if want := ReplaySummary(p) + "\n"; plain.String() != want {
		t.Errorf("Finish wrote %q, want %q", plain.String(), want)
	}

	var term bytes.Buffer
	r = NewProgress(&term, true, 1000)
	r.Update(p)
	line := term.String()
	for _, want := range []string{"\r\x1b[K", " 50%", "12,345 read", "12,300 accepted", "40 duplicates", "5 rejected", "████"} {
		if !strings.Contains(line, want) {
			t.Errorf("terminal line %q lacks %q", line, want)
		}
	}
	r.Finish(p)
	if !strings.HasSuffix(term.String(), "\r\x1b[K"+ReplaySummary(p)+"\n") {
		t.Errorf("Finish did not replace the live line: %q", term.String())
	}
}
