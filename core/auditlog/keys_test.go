package auditlog

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestKeyFieldsAreValidated covers issue 13's D4: ids that differ only in
// bytes that are not UTF-8 used to decode to the same U+FFFD id, and the
// second entry was answered as a duplicate and never delivered. Every
// field used as a key is now refused, naming the field, unless it is text
// of bounded length.
func TestKeyFieldsAreValidated(t *testing.T) {
	entry := func(id, kind, action, resource string) string {
		return `{"_id":"` + id + `","date":1,"kind":"` + kind + `","accesses":[{"action":"` + action + `","resource":"` + resource + `"}]}`
	}
	ok := func(id string) string { return entry(id, "flag", "updateOn", "proj/p:env/e:flag/f") }
	tests := []struct {
		name, in string
		field    string
		has      string
	}{
		{"id 0xFE", ok("\xfeXYZ1"), "_id", "invalid UTF-8: byte 0xFE in a string"},
		{"id 0xFF", ok("\xffXYZ1"), "_id", "invalid UTF-8: byte 0xFF in a string"},
		{"id NUL escape", ok(`a\u0000b`), "_id", "found a control character U+0000 at byte 1"},
		{"id lone surrogate", ok(`\ud800XYZ1`), "_id", `found a lone surrogate \ud800 at byte 0`},
		{"id newline", ok(`a\nb`), "_id", "found a control character U+000A at byte 1"},
		{"id C1 control", ok(`a\u0085`), "_id", "control character U+0085"},
		{"id too long", ok(strings.Repeat("a", MaxIDBytes+1)), "_id", "expected an entry id (text of at most 128 bytes without control characters), found 129 bytes"},
		{"kind control", entry("a", `fl\u0007ag`, "updateOn", "proj/p"), "kind", "control character U+0007"},
		{"kind too long", entry("a", strings.Repeat("k", MaxKindBytes+1), "updateOn", "proj/p"), "kind", "65 bytes"},
		{"action surrogate", entry("a", "flag", `update\udc00`, "proj/p"), "accesses[0].action", `lone surrogate \udc00`},
		{"resource NUL", entry("a", "flag", "updateOn", `proj/p\u0000:env/e`), "accesses[0].resource", "control character U+0000"},
		{"resource too long", entry("a", "flag", "updateOn", "proj/"+strings.Repeat("p", MaxResourceBytes)), "accesses[0].resource", "8197 bytes"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, decode := range []func([]byte) error{
				func(b []byte) error { _, err := DecodeEntry(b); return err },
				func(b []byte) error { _, err := DecodeEntries(b); return err },
				func(b []byte) error { _, err := DecodeEntries([]byte("[" + string(b) + "]")); return err },
				func(b []byte) error {
					p, err := DecodePage([]byte(`{"items":[` + string(b) + "]}"))
					if err == nil && len(p.Invalid) == 1 {
						err = p.Invalid[0]
					}
					return err
				},
			} {
				err := decode([]byte(tc.in))
				var de *DecodeError
				if !errors.As(err, &de) {
					t.Fatalf("err = %v, want a *DecodeError", err)
				}
				// A list's syntax error names the element too: "[0]._id".
				if !strings.HasSuffix(de.Field, tc.field) || !strings.Contains(err.Error(), tc.has) || len(err.Error()) > 300 {
					t.Errorf("got %v (field %q), want field %q and %q", err, de.Field, tc.field, tc.has)
				}
			}
		})
	}

	// What still passes: ids of any printable text, not only hex.
	for _, id := range []string{"6790c1a2e4b0c2d3f4a5b601", "e1", "crash0000000000000000042", "id with spaces", "ü-ñ-😀", strings.Repeat("x", MaxIDBytes)} {
		if e, err := DecodeEntry([]byte(ok(id))); err != nil || e.ID != id {
			t.Errorf("id %q: %v", id, err)
		}
	}
}

// TestOptionalKeyFieldsAreIgnored: specifiers outside accesses only shape
// the template context, so a bad one is noted and ignored, as a wrongly
// typed optional field is.
func TestOptionalKeyFieldsAreIgnored(t *testing.T) {
	in := `{"_id":"a","date":1,"kind":"flag","accesses":[],"target":{"resources":["proj/p\u0000","proj/q"]},"parent":{"resource":"proj/\ud800","name":"P"}}`
	e, err := DecodeEntry([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(e.Target.Resources, []string{"proj/q"}) || e.Parent == nil || e.Parent.Resource != "" || e.Parent.Name != "P" {
		t.Errorf("target %v parent %+v", e.Target.Resources, e.Parent)
	}
	var got []string
	for _, w := range e.Warnings {
		got = append(got, w.Field+": "+w.Msg)
	}
	want := []string{
		"target.resources[0]: expected a resource specifier (text of at most 8192 bytes without control characters), found a control character U+0000 at byte 6; ignored",
		`parent.resource: expected a resource specifier (text of at most 8192 bytes without control characters), found a lone surrogate \ud800 at byte 5; ignored`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("warnings\n got  %q\n want %q", got, want)
	}
}

// TestSummaryIsDisplayText: whatever the entry's texts hold, its summary
// (what the store keeps in text columns, which PostgreSQL refuses with NUL
// or surrogates) is valid UTF-8 without control characters, bounded.
func TestSummaryIsDisplayText(t *testing.T) {
	b, err := NewBuilder(Options{})
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("é", 2000)
	for _, tc := range []struct {
		title, email string
		want         Summary
	}{
		{`a\u0000b\ud800c\nd\te`, `m\u0000@x`, Summary{Title: "a\uFFFDb\uFFFDc d e", Member: "m\uFFFD@x", Project: "p", Environment: "e"}},
		{long, "ok@example.com", Summary{Title: strings.Repeat("é", 512) + "…", Member: "ok@example.com", Project: "p", Environment: "e"}},
		{"plain `code`", "ok@example.com", Summary{Title: "plain 'code'", Member: "ok@example.com", Project: "p", Environment: "e"}},
	} {
		in := fmt.Sprintf(`{"_id":"a","date":1,"kind":"flag","title":"%s","member":{"email":"%s"},"accesses":[{"action":"updateOn","resource":"proj/p:env/e:flag/f"}]}`, tc.title, tc.email)
		e, err := DecodeEntry([]byte(in))
		if err != nil {
			t.Fatal(err)
		}
		got := b.Summary(e)
		if got != tc.want {
			t.Errorf("summary of %.40q\n got  %+v\n want %+v", tc.title, got, tc.want)
		}
		for _, s := range []string{got.Title, got.Member, got.Project, got.Environment} {
			if !utf8.ValidString(s) || strings.ContainsFunc(s, isControl) || len(s) > maxSummaryTitle+len("…") {
				t.Errorf("not display text: %q", s)
			}
		}
	}
}
