package render

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/auditrelay/auditrelay/core/reftest"
)

func lintErrors(t *testing.T, name, tpl, ctx string) []string {
	t.Helper()
	p, err := Parse(name, tpl)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, is := range p.Lint(mustDecode(t, ctx)) {
		if is.Severity == "error" {
			out = append(out, is.String())
		}
	}
	return out
}

// TestLintStrictMode reproduces handlebars.js 4.7.7 strict mode as the
// integration framework's tests use it (ld-semantics §4.3). Messages are
// handlebars.js'; columns are 1-based (handlebars.js counts from 0).
func TestLintStrictMode(t *testing.T) {
	cases := []struct {
		name, tpl, ctx string
		want           []string
	}{
		{"plain mustache missing", `{"c":"{{comment}}"}`, `{}`,
			[]string{`t.hbs:1:9: error: "comment" not defined in [object Object]`}},
		{"missing last segment", "x\n  {{a.missing}}", `{"a":{}}`,
			[]string{`t.hbs:2:5: error: "missing" not defined in [object Object]`}},
		{"missing intermediate in a mustache", "{{_links.details.href}}", `{"_links":{}}`,
			[]string{`t.hbs:1:3: error: "href" not defined in undefined`}},
		{"intermediate null", "{{a.b.c}}", `{"a":{"b":null}}`,
			[]string{`t.hbs:1:3: error: "c" not defined in null`}},
		{"present but null is fine", "{{a.b}}", `{"a":{"b":null}}`, nil},
		{"helper parameters may miss their last segment", "{{#if comment}}c{{/if}}{{queryEncode nope}}{{#each nope}}x{{/each}}{{#with nope}}x{{/with}}{{#unless nope}}u{{/unless}}{{#equal nope 'x'}}e{{/equal}}",
			`{}`, nil},
		{"missing intermediate in a helper parameter", "{{#if customProperties.datadog}}x{{/if}}", `{}`,
			[]string{`t.hbs:1:7: error: Cannot read properties of undefined (reading 'datadog')`}},
		{"null intermediate in a helper parameter", "{{#if a.b}}x{{/if}}", `{"a":null}`,
			[]string{`t.hbs:1:7: error: Cannot read properties of null (reading 'b')`}},
		{"nested ifs guard it", "{{#if customProperties}}{{#if customProperties.datadog}}x{{/if}}{{/if}}", `{}`, nil},
		{"bare block of a missing name", "{{#missing}}x{{/missing}}", `{}`,
			[]string{`t.hbs:1:4: error: "missing" not defined in [object Object]`}},
		{"inverse block of a missing name", "{{^missing}}x{{/missing}}", `{}`,
			[]string{`t.hbs:1:4: error: "missing" not defined in [object Object]`}},
		{"inside with: no parent lookup", "{{#with o}}{{x}}{{/with}}", `{"o":{},"x":1}`,
			[]string{`t.hbs:1:14: error: "x" not defined in [object Object]`}},
		{"@data outside each", "{{@index}}", `{}`,
			[]string{`t.hbs:1:3: error: "index" not defined in [object Object]`}},
		{"@root path", "{{@root.x}}", `{}`,
			[]string{`t.hbs:1:3: error: "x" not defined in [object Object]`}},
		{"../ past the top", "{{../x}}", `{}`,
			[]string{`t.hbs:1:3: error: "x" not defined in undefined`}},
		{"in on a string", "{{s.length}}", `{"s":"abc"}`,
			[]string{`t.hbs:1:3: error: Cannot use 'in' operator to search for 'length' in abc`}},
		{"only taken branches count", "{{#if t}}ok{{else}}{{missing}}{{/if}}", `{"t":true}`, nil},
		{"every failure is reported", "{{a}}\n{{b}}", `{}`,
			[]string{`t.hbs:1:3: error: "a" not defined in [object Object]`, `t.hbs:2:3: error: "b" not defined in [object Object]`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := lintErrors(t, "t.hbs", c.tpl, c.ctx)
			if !slices.Equal(got, c.want) {
				t.Errorf("got  %q\nwant %q", got, c.want)
			}
		})
	}
}

func TestLintWarnings(t *testing.T) {
	cases := []struct {
		name, file, tpl, ctx string
		want                 string // substring of one issue
	}{
		{"else inside equal", "t.txt", "{{#equal a 'x'}}A{{else}}B{{/equal}}", `{"a":"y"}`,
			"t.txt:1:18: warning: equal ignores {{else}}"},
		{"unknown helper", "t.txt", "{{#if a}}{{nope a}}{{/if}}", `{"a":0}`,
			`t.txt:1:12: error: unknown helper "nope"`},
		{"block helper as mustache", "t.txt", "{{each a}}", `{"a":[]}`,
			"t.txt:1:3: error: each is a block helper"},
		{"arity", "t.txt", "x{{#with a b}}{{/with}}", `{}`,
			"t.txt:1:5: error: #with requires exactly one argument"},
		{"block params on if", "t.txt", "{{#if a as |x|}}{{/if}}", `{}`,
			`t.txt:1:4: warning: {{#if}} passes no block parameters`},
		{"HTML escaping changes a value", "t.json.hbs", `{"t":"{{title}}"}`, `{"title":"it's"}`,
			`t.json.hbs:1:9: warning: {{…}} HTML-escapes this value`},
		{"form variable inside a JSON string", "t.json.hbs", `{"c":"{{formVariables.color}}", "n": {{formVariables.n}} }`, `{"formVariables":{"color":"x","n":1}}`,
			"t.json.hbs:1:9: warning: form variable formVariables.color is inserted into a JSON string"},
		{"JSON template rendering invalid JSON", "t.json.hbs", `{"a": {{a}} }`, `{"a":""}`,
			"t.json.hbs:1:1: error: rendered output is not valid JSON at output line 1, column 8"},
		{"render error", "t.txt", "{{queryEncode s}}", `{"s":"\ud800"}`,
			"t.txt:1:3: error: queryEncode: URI malformed"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := Parse(c.file, c.tpl)
			if err != nil {
				t.Fatal(err)
			}
			var all []string
			for _, is := range p.Lint(mustDecode(t, c.ctx)) {
				all = append(all, is.String())
			}
			if !slices.ContainsFunc(all, func(s string) bool { return strings.Contains(s, c.want) }) {
				t.Errorf("issues %q\ndo not contain %q", all, c.want)
			}
		})
	}
	// Only JSON templates get the form-variable check, and it looks at
	// strings only.
	p, err := Parse("t.txt", `"{{formVariables.color}}"`)
	if err != nil {
		t.Fatal(err)
	}
	if is := p.StaticIssues(); len(is) != 0 {
		t.Errorf("text template: %v", is)
	}
	p, err = Parse("t.json", `{"n": {{formVariables.n}}, "s": "a\"{{x}}"}`)
	if err != nil {
		t.Fatal(err)
	}
	if is := p.StaticIssues(); len(is) != 0 {
		t.Errorf("form variable outside a string: %v", is)
	}
}

// TestLintCorpus runs Lint over every golden body pair: exactly the pairs
// that handlebars.js fails to render in strict mode are reported, at the
// position it reports.
func TestLintCorpus(t *testing.T) {
	ref := reftest.Dir(t)
	var idx goldenIndex
	readJSON(t, filepath.Join(ref, "golden", "index.json"), &idx)
	want := map[string]string{
		"datadog/other__webhook.enable.json":  `datadog/templates/default.json.hbs:24:25: error: "key" not defined in [object Object]`,
		"pagerduty/other__metric.create.json": `pagerduty/templates/default.json.hbs:16:19: error: "href" not defined in undefined`,
		"zapier/member__update.json":          `zapier/templates/default.json.hbs:3:13: error: "key" not defined in [object Object]`,
		"zapier/other__metric.create.json":    `zapier/templates/default.json.hbs:19:17: error: "href" not defined in undefined`,
		"zapier/other__webhook.enable.json":   `zapier/templates/default.json.hbs:3:13: error: "key" not defined in [object Object]`,
	}
	for _, pair := range idx.Pairs {
		if pair.Template == nil {
			continue
		}
		name := pair.Integration + "/" + *pair.Template
		src, err := os.ReadFile(filepath.Join(ref, "integrations", pair.Integration, *pair.Template))
		if err != nil {
			t.Fatal(err)
		}
		tpl, err := Parse(name, string(src))
		if err != nil {
			t.Fatal(err)
		}
		event := decodeFile(t, filepath.Join(ref, pair.Context))
		root := bodyContext(event, decodeRaw(t, pair.FormVariables), decodeRaw(t, pair.OAuth), pair.IsJSON)
		var errs []string
		for _, is := range tpl.Lint(root) {
			if is.Severity == "error" {
				errs = append(errs, is.String())
			}
		}
		got := strings.Join(errs, "\n")
		if got != want[pair.Golden] {
			t.Errorf("%s: lint errors\n%s\nwant\n%s", pair.Golden, got, want[pair.Golden])
		}
	}
}

// TestNestedIterationWarning: a loop over an array inside a loop over the
// same array is a static warning at the inner loop's argument; loops over
// different arrays, or over the element, are not.
func TestNestedIterationWarning(t *testing.T) {
	cases := []struct {
		name, tpl string
		want      []string // line:col of each warning
	}{
		{"../ inside #each", "{{#each tags}}{{#each ../tags}}{{this}}{{/each}}{{/each}}", []string{"1:23"}},
		{"through #if, which pushes no context", "{{#each tags}}\n  {{#if @first}}{{#each ../tags}}x{{/each}}{{/if}}\n{{/each}}", []string{"2:25"}},
		{"@root", "{{#each tags}}{{#each @root.tags}}x{{/each}}{{/each}}", []string{"1:23"}},
		{"inside #with", "{{#with project}}{{#each tags}}{{#each ../tags}}x{{/each}}{{/each}}{{/with}}", []string{"1:40"}},
		{"a section over the same array", "{{#each tags}}{{#../tags}}x{{/../tags}}{{/each}}", []string{"1:18"}},
		{"three levels", "{{#each a}}{{#each ../a}}{{#each ../../a}}x{{/each}}{{/each}}{{/each}}", []string{"1:20", "1:34"}},
		{"different arrays", "{{#each tags}}{{#each ../targets}}x{{/each}}{{/each}}", nil},
		{"the element's own array", "{{#each accesses}}{{#each resources}}x{{/each}}{{/each}}", nil},
		{"same name, other object", "{{#each project.tags}}{{#each @root.environment.tags}}x{{/each}}{{/each}}", nil},
		{"the inverse is outside the loop", "{{#each tags}}x{{else}}{{#each tags}}y{{/each}}{{/each}}", nil},
		{"one after the other", "{{#each tags}}x{{/each}}{{#each tags}}y{{/each}}", nil},
		{"block parameters are not resolved", "{{#each tags as |t|}}{{#each t}}x{{/each}}{{/each}}", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tpl, err := Parse("t.hbs", tc.tpl)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, is := range tpl.StaticIssues() {
				if strings.Contains(is.Msg, "nested iteration over the same array") {
					if is.Severity != "warning" {
						t.Errorf("severity %q, want warning", is.Severity)
					}
					got = append(got, fmt.Sprintf("%d:%d", is.Line, is.Col))
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("warnings at %v, want %v (%v)", got, tc.want, tpl.StaticIssues())
			}
		})
	}
	tpl, err := Parse("t.hbs", "{{#each tags}}{{#each ../tags}}{{this}}{{/each}}{{/each}}")
	if err != nil {
		t.Fatal(err)
	}
	want := "t.hbs:1:23: warning: nested iteration over the same array: tags is already iterated by the loop at 1:9, so the output grows with the square of its length (an entry with thousands of items exceeds the render budget); iterate it once"
	if is := tpl.StaticIssues(); len(is) != 1 || is[0].String() != want {
		t.Fatalf("issues %v\nwant %s", is, want)
	}
}
