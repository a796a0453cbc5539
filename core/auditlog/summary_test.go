package auditlog

import (
	"os"
	"path/filepath"
	"testing"
)

// The cheap summary must agree with the full context on every fixture.
func TestSummarizeAgreesWithTheContext(t *testing.T) {
	files, err := filepath.Glob("testdata/entries/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("fixtures: %v", err)
	}
	b, err := NewBuilder(Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		e, err := DecodeEntry(data)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		ctx := b.Build(e)
		s := b.Summary(e)
		if want := ctx.Path("title", "plainText").Text(); s.Title != want {
			t.Errorf("%s: title %q, context says %q", f, s.Title, want)
		}
		if want := ctx.Path("project", "key").Text(); s.Project != want {
			t.Errorf("%s: project %q, context says %q", f, s.Project, want)
		}
		if want := ctx.Path("project", "environment", "key").Text(); s.Environment != want {
			t.Errorf("%s: environment %q, context says %q", f, s.Environment, want)
		}
		if want := ctx.Path("member", "email").Text(); s.Member != want {
			t.Errorf("%s: member %q, context says %q", f, s.Member, want)
		}
	}
}

func TestPlainInline(t *testing.T) {
	cases := map[string]string{
		"plain": "plain",
		"[Maya](mailto:m@x.com) turned on [F](u)": "Maya turned on F",
		"updated `Production`":                    "updated 'Production'",
		"**bold** and _em_ and snake_case":        "bold and em and snake_case",
		`escaped \[not a link\]`:                  "escaped [not a link]",
		"[unclosed":                               "[unclosed",
	}
	for in, want := range cases {
		if got := PlainInline(in); got != want {
			t.Errorf("PlainInline(%q) = %q, want %q", in, got, want)
		}
	}
}
