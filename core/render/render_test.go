package render

import (
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/auditrelay/auditrelay/core/jsonv"
)

func mustDecode(t testing.TB, s string) jsonv.Value {
	t.Helper()
	v, err := jsonv.DecodeString(s)
	if err != nil {
		t.Fatalf("context %s: %v", s, err)
	}
	return v
}

func render(t testing.TB, tpl, ctx string) (string, error) {
	t.Helper()
	p, err := Parse("t.hbs", tpl)
	if err != nil {
		return "", err
	}
	return p.Execute(mustDecode(t, ctx))
}

// langCase is a template, a context and what handlebars.js 4.7.7 renders
// (checked with testdata/oracle.js), or the error expected instead.
type langCase struct {
	name, tpl, ctx, want string
	err                  string // substring of the expected error
}

var langCases = []langCase{
	// Values and escaping.
	{name: "escape table", tpl: "{{s}}|{{{s}}}|{{& s}}", ctx: `{"s":"<a href='x'>&\"` + "`" + `=</a>"}`,
		want: "&lt;a href=&apos;x&apos;&gt;&amp;&quot;`=&lt;/a&gt;|<a href='x'>&\"`=</a>|<a href='x'>&\"`=</a>"},
	{name: "array joins with commas", tpl: "{{a}}", ctx: `{"a":[1,null,"x",[2,[3]],{"k":1},true]}`, want: "1,,x,2,3,[object Object],true"},
	{name: "object prints [object Object]", tpl: "{{o}}", ctx: `{"o":{"a":1}}`, want: "[object Object]"},
	{name: "numbers as JavaScript prints them", tpl: "{{a}} {{b}} {{c}} {{d}} {{e}}", ctx: `{"a":1580777685229,"b":0.1,"c":-0,"d":1e21,"e":1.5e-7}`,
		want: "1580777685229 0.1 0 1e+21 1.5e-7"},
	{name: "booleans and null", tpl: "[{{t}}|{{f}}|{{n}}|{{missing}}]", ctx: `{"t":true,"f":false,"n":null}`, want: "[true|false||]"},
	{name: "this and dot", tpl: "{{this.a}}{{./a}}{{#with o}}{{.}}{{/with}}", ctx: `{"a":"A","o":"O"}`, want: "AAO"},
	{name: "segment literals", tpl: "{{values.[0]}} {{[foo bar]}} {{a.[1].b}} {{arr.length}} {{s.length}} {{s.[1]}}",
		ctx: `{"values":["v0"],"foo bar":"FB","a":[0,{"b":"B"}],"arr":[1,2,3],"s":"héllo"}`, want: "v0 FB B 3 5 é"},
	{name: "slash separator", tpl: "{{a/b}}", ctx: `{"a":{"b":"AB"}}`, want: "AB"},
	{name: "literal heads are lookups", tpl: `{{"a b"}}|{{1}}|{{true}}|{{null}}`, ctx: `{"a b":"AB","1":"one","true":"T","null":"N"}`, want: "AB|one|T|N"},
	{name: "escaped mustache", tpl: `\{{x}} \\{{x}}`, ctx: `{"x":"X"}`, want: `{{x}} \X`},

	// Truthiness and sections.
	{name: "empty object is truthy", tpl: "{{#if o}}T{{else}}F{{/if}}", ctx: `{"o":{}}`, want: "T"},
	{name: "empty array is falsy", tpl: "{{#if a}}T{{else}}F{{/if}}", ctx: `{"a":[]}`, want: "F"},
	{name: "zero with includeZero", tpl: "{{#if z}}A{{/if}}{{#if z includeZero=true}}B{{/if}}", ctx: `{"z":0}`, want: "B"},
	{name: "unless", tpl: "{{#unless a}}no{{else}}yes{{/unless}}", ctx: `{"a":""}`, want: "no"},
	{name: "bare section over object pushes context", tpl: "{{#o}}{{k}}{{/o}}", ctx: `{"o":{"k":"K"}}`, want: "K"},
	{name: "bare section iterates arrays", tpl: "{{#a}}[{{this}}:{{@index}}]{{/a}}", ctx: `{"a":["x","y"]}`, want: "[x:0][y:1]"},
	{name: "bare section on true keeps context", tpl: "{{#t}}{{k}}{{/t}}", ctx: `{"t":true,"k":"K"}`, want: "K"},
	{name: "bare section on 0 renders with 0", tpl: "{{#z}}[{{this}}]{{/z}}{{^z}}inv{{/z}}", ctx: `{"z":0}`, want: "[0]"},
	{name: "inverse section", tpl: "{{^a}}none{{/a}}{{^b}}none{{/b}}", ctx: `{"a":[],"b":[1]}`, want: "none"},
	{name: "inverted section with else", tpl: "{{^x}}A{{else}}B{{/x}}", ctx: `{"x":false}`, want: "A"},

	// else-if chains.
	{name: "else if chain first", tpl: "{{#if a}}A{{else if b}}B{{else if c}}C{{else}}D{{/if}}", ctx: `{"a":1}`, want: "A"},
	{name: "else if chain third", tpl: "{{#if a}}A{{else if b}}B{{else if c}}C{{else}}D{{/if}}", ctx: `{"c":1}`, want: "C"},
	{name: "else if chain none", tpl: "{{#if a}}A{{else if b}}B{{else if c}}C{{else}}D{{/if}}", ctx: `{}`, want: "D"},
	{name: "else with over each", tpl: "{{#if a}}A{{else with o}}{{k}}{{/if}}", ctx: `{"o":{"k":"K"}}`, want: "K"},

	// each, with and data.
	{name: "each over array", tpl: "{{#each a}}{{@index}}{{@key}}{{this}}{{#if @first}}F{{/if}}{{#if @last}}L{{/if}},{{/each}}", ctx: `{"a":["x","y","z"]}`, want: "00xF,11y,22zL,"},
	{name: "each over object in JS key order", tpl: "{{#each o}}{{@key}}={{this}}:{{@index}}{{#if @last}}L{{/if}},{{/each}}", ctx: `{"o":{"b":1,"a":2,"2":3,"1":4}}`, want: "1=4:0,2=3:1,b=1:2,a=2:3L,"},
	{name: "each else when empty", tpl: "{{#each a}}x{{else}}empty{{/each}}{{#each o}}x{{else}}empty{{/each}}", ctx: `{"a":[],"o":{}}`, want: "emptyempty"},
	{name: "each over a string renders else", tpl: "{{#each s}}x{{else}}E{{/each}}", ctx: `{"s":"abc"}`, want: "E"},
	{name: "@../index", tpl: "{{#each a}}{{#each b}}{{@../index}}.{{@index}} {{/each}}{{/each}}", ctx: `{"a":[{"b":[1,2]},{"b":[3]}]}`, want: "0.0 0.1 1.0 "},
	{name: "@root", tpl: "{{#each a}}{{@root.x}}{{#with this}}{{@root.x}}{{/with}}{{/each}}", ctx: `{"a":[{}],"x":"X"}`, want: "XX"},
	{name: "block params", tpl: "{{#each a as |item i|}}{{i}}={{item.n}} {{/each}}{{#with o as |p|}}{{p.k}}{{/with}}", ctx: `{"a":[{"n":"x"},{"n":"y"}],"o":{"k":"K"}}`, want: "0=x 1=y K"},
	{name: "with else", tpl: "{{#with o}}{{k}}{{else}}none{{/with}}{{#with e}}x{{else}}none{{/with}}", ctx: `{"o":{"k":"K"},"e":""}`, want: "Knone"},
	{name: "with 0 is not empty", tpl: "{{#with z}}[{{this}}]{{/with}}", ctx: `{"z":0}`, want: "[0]"},

	// ../ and no parent-context fallback.
	{name: "parent path", tpl: "{{#with o}}{{../x}}-{{x}}{{/with}}", ctx: `{"o":{"x":"inner"},"x":"outer"}`, want: "outer-inner"},
	{name: "missing key inside with is not looked up in parents", tpl: "{{#with o}}[{{x}}]{{/with}}", ctx: `{"o":{},"x":"X"}`, want: "[]"},
	{name: "missing key inside each is not looked up in parents", tpl: "{{#each a}}[{{x}}]{{/each}}", ctx: `{"a":[{}],"x":"X"}`, want: "[]"},
	{name: "../ skips blocks that keep the context", tpl: "{{#each a}}{{#if this}}{{../x}}{{/if}}{{/each}}", ctx: `{"a":[1],"x":"X"}`, want: "X"},
	{name: "../ of nested each", tpl: "{{#each a}}{{#each ../b}}{{../this}}{{this}};{{/each}}{{/each}}", ctx: `{"a":[1,2],"b":["x","y"]}`, want: "1x;1y;2x;2y;"},
	{name: "../ at top level is undefined", tpl: "[{{../x}}]", ctx: `{"x":1}`, want: "[]"},

	// Subexpressions, hash, lookup, log.
	{name: "lookup", tpl: "{{lookup a 1}}|{{lookup o k}}|{{#with (lookup o 'x')}}{{y}}{{/with}}", ctx: `{"a":["p","q"],"o":{"x":{"y":"Y"},"K":"KK"},"k":"K"}`, want: "q|KK|Y"},
	{name: "subexpression argument", tpl: "{{queryEncode (lookup o 'k')}}", ctx: `{"o":{"k":"a b"}}`, want: "a%20b"},
	{name: "log writes nothing", tpl: "a{{log 'x' level='warn'}}b", ctx: `{}`, want: "ab"},

	// Comments and whitespace control.
	{name: "comments", tpl: "a{{! one }}b{{!-- {{two}} --}}c", ctx: `{}`, want: "abc"},
	{name: "tilde strips whitespace", tpl: "a  {{~x~}}  b\n{{~y}}", ctx: `{"x":"X","y":"Y"}`, want: "aXbY"},
	{name: "tilde on block tags", tpl: "[ {{~#if t~}} X {{~else~}} Y {{~/if~}} ]", ctx: `{"t":true}`, want: "[X]"},
	{name: "standalone block lines", tpl: "a\n  {{#if t}}\n  b\n  {{/if}}\nc\n", ctx: `{"t":true}`, want: "a\n  b\nc\n"},
	{name: "standalone else", tpl: "{{#if t}}\nA\n{{else}}\nB\n{{/if}}\n", ctx: `{}`, want: "B\n"},
	{name: "standalone comment", tpl: "a\n  {{! note }}\nb", ctx: `{}`, want: "a\nb"},
	{name: "blank line between standalone blocks (raymond bug 1)", tpl: "[\n  {{#if a}}\n    A,\n  {{/if}}\n  {{#if b}}\n    B,\n  {{/if}}\n]",
		ctx: `{"a":true,"b":true}`, want: "[\n    A,\n    B,\n]"},
	{name: "each blocks back to back (raymond bug 1)", tpl: "[\n  {{#each xs}}\n  \"{{this}}\",\n  {{/each}}\n  {{#each ys}}\n  \"{{this}}\",\n  {{/each}}\n]",
		ctx: `{"xs":["a"],"ys":["b"]}`, want: "[\n  \"a\",\n  \"b\",\n]"},
	{name: "top-level next sibling (raymond bug 2)", tpl: "{{#if a}}\nX\n{{/if}}  {{c}}", ctx: `{"a":1,"c":"C"}`, want: "X\n  C"},
	{name: "close tag not alone is not standalone", tpl: "{{#if a}}x{{/if}}\n  {{c}}", ctx: `{"a":1,"c":"C"}`, want: "x\n  C"},
	{name: "CRLF standalone", tpl: "{{x}}\r\n{{#if a}}\r\nA\r\n{{/if}}\r\n", ctx: `{"a":1,"x":"X"}`, want: "X\r\nA\r\n"},
	{name: "nbsp is whitespace but not stripped", tpl: "\u00a0{{#if a}}\u00a0\nX\n{{/if}}", ctx: `{"a":1}`, want: "\u00a0\u00a0\nX\n"},
	{name: "else if chain standalone", tpl: "{{#if a}}\nA\n{{else if b}}\nB\n{{else}}\nC\n{{/if}}\nZ", ctx: `{}`, want: "C\nZ"},
	{name: "nested standalone sections", tpl: "{{#x}}\n  {{#y}}\n  Y\n  {{/y}}\n{{/x}}\n", ctx: `{"x":{"y":1}}`, want: "  Y\n"},
	{name: "raw block", tpl: "{{{{raw}}}}{{x}}{{{{/raw}}}}", ctx: `{"raw":true}`, want: "{{x}}"},

	// equal (LaunchDarkly production semantics) and equalWithElse.
	{name: "equal compares text", tpl: "{{#equal n '1'}}eq{{/equal}}", ctx: `{"n":1}`, want: "eq"},
	{name: "equal ignores else", tpl: "{{#equal kind 'flag'}}F{{else}}other{{/equal}}", ctx: `{"kind":"project"}`, want: ""},
	{name: "equal matches", tpl: "{{#equal project.environment.key '~'}} in all environments{{/equal}}", ctx: `{"project":{"environment":{"key":"~"}}}`, want: " in all environments"},
	{name: "equalWithElse honours else", tpl: "{{#equalWithElse kind 'flag'}}F{{else}}other{{/equalWithElse}}", ctx: `{"kind":"project"}`, want: "other"},
	{name: "equal missing equals empty", tpl: "{{#equalWithElse missing ''}}eq{{else}}ne{{/equalWithElse}}", ctx: `{}`, want: "eq"},

	// Framework helpers.
	{name: "pathEncode", tpl: `{{{pathEncode "a b/c?d=e&f#g%"}}}|{{pathEncode "a b/c?d=e&f#g%"}}`, ctx: `{}`, want: "a%20b/c?d=e&f#g%25|a%20b/c?d=e&amp;f#g%25"},
	{name: "queryEncode", tpl: `{{queryEncode "a b/c?d=e&f#g%"}} {{queryEncode "-_.!~*'()"}}`, ctx: `{}`, want: "a%20b%2Fc%3Fd%3De%26f%23g%25 -_.!~*&apos;()"},
	{name: "encode UTF-8", tpl: `{{queryEncode s}}`, ctx: `{"s":"é✓😀"}`, want: "%C3%A9%E2%9C%93%F0%9F%98%80"},
	{name: "encode non-strings", tpl: `{{queryEncode missing}} {{queryEncode n}} {{pathEncode nul}} {{queryEncode a}}`, ctx: `{"n":1.5,"nul":null,"a":[1,"a b"]}`,
		want: "undefined 1.5 null 1%2Ca%20b"},
	{name: "lone surrogate fails like URIError", tpl: `{{queryEncode s}}`, ctx: `{"s":"\ud800x"}`, err: "URI malformed"},
	{name: "basicAuthHeaderValue", tpl: `{{{basicAuthHeaderValue u p}}}`, ctx: `{"u":"user","p":"pa:ss"}`, want: "Basic dXNlcjpwYTpzcw=="},
	{name: "basicAuthHeaderValue of missing and null", tpl: `{{{basicAuthHeaderValue u p}}}`, ctx: `{"p":null}`, want: "Basic dW5kZWZpbmVkOm51bGw="},
	{name: "basicAuthHeaderValue UTF-8", tpl: `{{{basicAuthHeaderValue u p}}}`, ctx: `{"u":"ü","p":"✓"}`, want: "Basic w7w64pyT"},
	{name: "formatWithOffset simple", tpl: `{{formatWithOffset ms 3600 'simple'}}|{{formatWithOffset ms 0 'simple'}}|{{formatWithOffset ms 46800 'simple'}}`, ctx: `{"ms":1580777778959}`,
		want: "2020-02-04 1:56:18|2020-02-04 12:56:18|2020-02-04 1:56:18"},
	{name: "formatWithOffset rfc3339", tpl: `{{formatWithOffset ms 0 'rfc3339'}}|{{formatWithOffset ms -7200 'rfc3339'}}`, ctx: `{"ms":1580777778959}`,
		want: "2020-02-04T00:56:18.959Z|2020-02-03T22:56:18.959Z"},
	{name: "formatWithOffset seconds rounds", tpl: `{{formatWithOffset 1580777685500 0 'seconds'}} {{formatWithOffset 1580777685499 0 'seconds'}} {{formatWithOffset -1500 0 'seconds'}}`, ctx: `{}`,
		want: "1580777686 1580777685 -1"},
	{name: "formatWithOffset milliseconds and default", tpl: `{{formatWithOffset 1000 1.5 'milliseconds'}} {{formatWithOffset 1000 1 'other'}} {{formatWithOffset 1000 1}}`, ctx: `{}`,
		want: "2500 2000 2000"},
	{name: "formatWithOffset of a missing timestamp", tpl: `{{formatWithOffset missing 0 'milliseconds'}}`, ctx: `{}`, want: "NaN"},
	{name: "formatWithOffset rfc3339 of a string fails", tpl: `{{formatWithOffset s 0 'rfc3339'}}`, ctx: `{"s":"1580777778959"}`, err: "Invalid time value"},

	// Errors at render time.
	{name: "unknown helper with arguments", tpl: "a\n  {{foo bar}}", ctx: `{}`, err: `t.hbs:2:5: unknown helper "foo"`},
	{name: "unknown block helper", tpl: "{{#foo 1}}x{{/foo}}", ctx: `{}`, err: `t.hbs:1:4: unknown helper "foo"`},
	{name: "missing simple mustache renders empty", tpl: "[{{foo}}]", ctx: `{}`, want: "[]"},
	{name: "unknown helper in a branch not taken", tpl: "{{#if f}}{{foo 1}}{{/if}}ok", ctx: `{"f":false}`, want: "ok"},
	{name: "if needs one argument", tpl: "{{#if}}x{{/if}}", ctx: `{}`, err: "#if requires exactly one argument"},
	{name: "each needs an argument", tpl: "{{#each}}x{{/each}}", ctx: `{}`, err: "Must pass iterator to #each"},
	{name: "block helper used as mustache", tpl: "{{if a}}", ctx: `{"a":1}`, err: "if is a block helper"},
	{name: "equal needs two arguments", tpl: "{{#equal a}}x{{/equal}}", ctx: `{}`, err: "equal requires exactly two arguments"},
	{name: "block parameter without value", tpl: "{{#if a as |p|}}{{p}}{{/if}}", ctx: `{"a":1}`, err: `block parameter "p" has no value`},
}

func TestLanguage(t *testing.T) {
	for _, c := range langCases {
		t.Run(c.name, func(t *testing.T) {
			got, err := render(t, c.tpl, c.ctx)
			if c.err != "" {
				if err == nil {
					t.Fatalf("got %q, want error containing %q", got, c.err)
				}
				if !strings.Contains(err.Error(), c.err) {
					t.Fatalf("error %q does not contain %q", err, c.err)
				}
				var e *Error
				if !errors.As(err, &e) || e.Line < 1 || e.Col < 1 {
					t.Fatalf("error %v has no position", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != c.want {
				t.Errorf("got  %q\nwant %q", got, c.want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	cases := []struct {
		tpl       string
		line, col int
		msg       string
	}{
		{"{{#if a}}\nx", 2, 2, "expected {{/if}} to close the block opened at 1:1, found end of template"},
		{"{{#if a}}x{{/each}}", 1, 11, "{{/each}} does not match {{#if}} opened at 1:1"},
		{"a\n  {{foo", 2, 8, `expected "}}", found end of template`},
		{"{{foo bar=}}", 1, 11, `expected a value for bar=, found "}}"`},
		{"{{{x}}", 1, 5, `expected "}}}" to close "{{{", found "}}"`},
		{"{{else}}", 1, 1, "{{else}} outside of a block"},
		{"x {{/if}}", 1, 3, "closing tag {{/if}} without an opening {{#...}}"},
		{"{{foo.0}}", 1, 7, `expected a name after ".", found number 0`},
		{"{{foo a=1 b}}", 1, 11, "positional argument"},
		{"{{> partial}}", 1, 1, "partials ({{> name}}) are not supported"},
		{"{{a.this}}", 1, 5, "invalid path a.this"},
		{"{{(foo)}}", 1, 3, "a subexpression cannot be used as a helper name"},
		{"é✓ {{#if}", 1, 9, `expected "}}", found character "}"`},
		{"{{!-- never closed", 1, 1, "unclosed comment"},
		{"{{*decorator}}", 1, 1, "decorators ({{* …}}) are not supported"},
		{"{{foo(bar)}}", 1, 6, `unexpected character "("`},
		{"{{{{raw}}}}x{{{{/other}}}}", 1, 13, "{{{{/other}}}} does not match {{{{raw}}}}"},
		{"{{{{raw}}}} x", 1, 12, "unclosed raw block"},
		{"{{a 'x}}", 1, 5, "unterminated string"},
		{"{{a.[b}}", 1, 5, "unclosed [ in a path"},
		{"a\x00{{b}}", 1, 2, "NUL character"},
		{strings.Repeat("{{#if a}}", 501), 1, 4501, "nested deeper than 500 levels"},
		{"{{a " + strings.Repeat("(b ", 501), 1, 1505, "nested deeper than 500 levels"},
		{"{{#each xs as ||}}{{/each}}", 1, 16, "expected block parameter names"},
	}
	for _, c := range cases {
		_, err := Parse("bad.hbs", c.tpl)
		var e *Error
		if !errors.As(err, &e) {
			t.Errorf("%q: error %v is not *Error", c.tpl, err)
			continue
		}
		if e.Template != "bad.hbs" || e.Line != c.line || e.Col != c.col || !strings.Contains(e.Msg, c.msg) {
			t.Errorf("%q: got %v, want bad.hbs:%d:%d: …%s…", c.tpl, err, c.line, c.col, c.msg)
		}
		if !strings.HasPrefix(err.Error(), "bad.hbs:") {
			t.Errorf("%q: %q does not start with the template name", c.tpl, err)
		}
	}
}

func TestSimpleDate24h(t *testing.T) {
	tpl, err := ParseOptions("t", "{{formatWithOffset ms 3600 'simple'}}|{{formatWithOffset ms 46800 'simple'}}", Options{SimpleDate24h: true})
	if err != nil {
		t.Fatal(err)
	}
	got, err := tpl.Execute(mustDecode(t, `{"ms":1580777778959}`))
	if err != nil {
		t.Fatal(err)
	}
	if want := "2020-02-04 01:56:18|2020-02-04 13:56:18"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestLogOption(t *testing.T) {
	var mu sync.Mutex
	var logged []string
	tpl, err := ParseOptions("t", "{{log 'a' n level='warn'}}{{log kind}}", Options{Log: func(level string, args []jsonv.Value) {
		mu.Lock()
		defer mu.Unlock()
		var parts []string
		for _, a := range args {
			parts = append(parts, jsString(a))
		}
		logged = append(logged, level+":"+strings.Join(parts, ","))
	}})
	if err != nil {
		t.Fatal(err)
	}
	out, err := tpl.Execute(mustDecode(t, `{"n":1,"kind":"flag"}`))
	if err != nil || out != "" {
		t.Fatalf("got %q, %v", out, err)
	}
	if got := strings.Join(logged, " "); got != "warn:a,1 info:flag" {
		t.Errorf("logged %q", got)
	}
}

func TestAppendExecuteReusesBuffer(t *testing.T) {
	tpl, err := Parse("t", "{{#each a}}{{this}}{{/each}}")
	if err != nil {
		t.Fatal(err)
	}
	buf := []byte("prefix:")
	buf, err = tpl.AppendExecute(buf, mustDecode(t, `{"a":[1,2,3]}`))
	if err != nil || string(buf) != "prefix:123" {
		t.Fatalf("got %q, %v", buf, err)
	}
	bad, err := Parse("t", "{{foo 1}}")
	if err != nil {
		t.Fatal(err)
	}
	out, err := bad.AppendExecute(buf, jsonv.Obj(nil))
	if err == nil || string(out) != "prefix:123" {
		t.Fatalf("on error got %q, %v; want the buffer unchanged and an error", out, err)
	}
}

func TestNameSourceIsJSON(t *testing.T) {
	tpl, err := Parse("dir/x.json.hbs", "{{a}}")
	if err != nil {
		t.Fatal(err)
	}
	if tpl.Name() != "dir/x.json.hbs" || tpl.Source() != "{{a}}" {
		t.Errorf("Name/Source = %q, %q", tpl.Name(), tpl.Source())
	}
	for path, want := range map[string]bool{
		"a.json": true, "a.json.hbs": true, "A.JSON.HBS": true, "templates/default.json.hbs": true,
		"a.text.hbs": false, "a.txt.hbs": false, "a.html.hbs": false, "a.hbs": false, "json": false,
	} {
		if got := IsJSONTemplate(path); got != want {
			t.Errorf("IsJSONTemplate(%q) = %v", path, got)
		}
	}
}

// TestConcurrentExecute renders one template from many goroutines (run
// with -race): compiled templates and values are shared read-only.
func TestConcurrentExecute(t *testing.T) {
	tpl, err := Parse("t", "{{#each items as |it i|}}{{i}}:{{it.name}}{{#if @last}}.{{else}},{{/if}}{{/each}} {{queryEncode q}}")
	if err != nil {
		t.Fatal(err)
	}
	roots := []jsonv.Value{
		mustDecode(t, `{"items":[{"name":"a"},{"name":"b"}],"q":"x y"}`),
		mustDecode(t, `{"items":[{"name":"c"}],"q":"é"}`),
	}
	wants := []string{"0:a,1:b. x%20y", "0:c. %C3%A9"}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				k := (g + i) % 2
				got, err := tpl.Execute(roots[k])
				if err != nil || got != wants[k] {
					t.Errorf("got %q, %v; want %q", got, err, wants[k])
					return
				}
			}
		}()
	}
	wg.Wait()
}

// TestParseLargeInputs parses megabyte-sized inputs that a lexer with
// quadratic scanning (raymond's took seconds for 20 KB of spaces in a
// comment) would not finish within the test timeout.
func TestParseLargeInputs(t *testing.T) {
	spaces := strings.Repeat(" \n", 1<<19)
	cases := []struct{ name, src, want string }{
		{"comment", "a{{!--" + spaces + "--}}b", "ab"},
		{"short comment", "a{{!" + spaces + "}}b", "ab"},
		{"expression", "{{" + spaces + "x" + spaces + "}}", "X"},
		{"escaped mustaches", strings.Repeat(`\{{x}}`, 1<<16), strings.Repeat("{{x}}", 1<<16)},
		{"text", spaces, spaces},
	}
	for _, c := range cases {
		got, err := render(t, c.src, `{"x":"X"}`)
		if err != nil || got != c.want {
			t.Errorf("%s: got %d bytes, %v", c.name, len(got), err)
		}
	}
	if _, err := Parse("t", "{{!--"+spaces); err == nil {
		t.Error("unclosed comment parsed")
	}
}
