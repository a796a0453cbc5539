package render

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/auditrelay/auditrelay/core/jsonv"
)

func fuzzSeeds(f *testing.F, withContext bool) {
	for _, c := range langCases {
		if withContext {
			f.Add(c.tpl, c.ctx)
		} else {
			f.Add(c.tpl)
		}
	}
	extra := []string{
		"{{#each a as |x i|}}{{x}}{{i}}{{else}}{{../y}}{{/each}}",
		"{{~#if a~}} {{else if b~}} {{~^~}} {{~/if~}}",
		"{{{{raw}}}} {{x}} {{{{/raw}}}}",
		"{{foo bar=(baz 1 'x' true null undefined) qux=-1.5}}",
		"{{!-- {{x}} --}}{{! y }}\\{{z}}",
		"{{@../../index}}{{@root.a.[b c]}}",
		"{{#a}}{{^b}}{{/b}}{{/a}}",
		"{{", "}}", "{{#if}}", "{{/if}}", "{{else}}", "{{a.}}", "{{..a}}", "{{[a}}", "{{'a}}",
	}
	for _, s := range extra {
		if withContext {
			f.Add(s, `{"a":[1,{"b":null}],"b":"x","y":{}}`)
		} else {
			f.Add(s)
		}
	}
}

// FuzzParse: any text either compiles or fails with a positioned *Error;
// nothing panics or hangs.
func FuzzParse(f *testing.F) {
	fuzzSeeds(f, false)
	f.Fuzz(func(t *testing.T, src string) {
		tpl, err := Parse("fuzz.hbs", src)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v is not *Error", err)
			}
			lines := strings.Count(src, "\n") + 1
			if e.Template != "fuzz.hbs" || e.Line < 1 || e.Line > lines || e.Col < 1 || e.Msg == "" {
				t.Fatalf("bad position in %v (source has %d lines)", err, lines)
			}
			if e.Line == lines {
				last := src[strings.LastIndexByte(src, '\n')+1:]
				if e.Col > utf8.RuneCountInString(last)+1 {
					t.Fatalf("column past the end of the line: %v", err)
				}
			}
			return
		}
		if tpl.Source() != src {
			t.Fatal("Source() differs from the input")
		}
	})
}

// FuzzExecute: any template that parses renders any JSON context without
// panicking; Execute and AppendExecute agree, and Lint runs.
func FuzzExecute(f *testing.F) {
	fuzzSeeds(f, true)
	f.Fuzz(func(t *testing.T, src, ctx string) {
		tpl, err := Parse("fuzz.hbs", src)
		if err != nil {
			return
		}
		root, err := jsonv.DecodeString(ctx)
		if err != nil {
			return
		}
		out, err := tpl.Execute(root)
		buf, err2 := tpl.AppendExecute([]byte("x"), root)
		if (err == nil) != (err2 == nil) {
			t.Fatalf("Execute error %v, AppendExecute error %v", err, err2)
		}
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Line < 1 || e.Col < 1 {
				t.Fatalf("render error without position: %v", err)
			}
		} else if string(buf) != "x"+out {
			t.Fatalf("Execute %q, AppendExecute %q", out, buf)
		}
		for _, is := range tpl.Lint(root) {
			if is.Line < 1 || is.Col < 1 || (is.Severity != "error" && is.Severity != "warning") {
				t.Fatalf("bad issue %v", is)
			}
		}
	})
}
