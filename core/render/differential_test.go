package render

import (
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/auditrelay/auditrelay/core/jsonv"
)

// Differential testing against handlebars.js. testdata/differential.json
// holds random templates and contexts with the output handlebars.js 4.7.7
// produced (testdata/oracle.js); TestDifferentialCorpus replays it without
// node. TestDifferentialNode generates fresh cases and asks node directly
// when HBS_NODE_MODULES points at an install of handlebars@4.7.7 and
// dateformat@4.5.1; with -update-differential it rewrites the corpus.

var updateDifferential = flag.Bool("update-differential", false, "rewrite testdata/differential.json from handlebars.js (needs HBS_NODE_MODULES)")

type diffCase struct {
	T string          `json:"t"`
	C json.RawMessage `json:"c"`
	// Out is the handlebars.js output; Err is set when handlebars.js threw.
	Out *string `json:"out,omitempty"`
	Err string  `json:"err,omitempty"`
	// Strict asks the oracle for strict mode (not stored in the corpus).
	Strict bool `json:"strict,omitempty"`
}

func checkDiffCase(t *testing.T, i int, c diffCase) {
	t.Helper()
	ctx, err := jsonv.Decode(c.C)
	if err != nil {
		t.Fatalf("case %d: context: %v", i, err)
	}
	tpl, err := Parse("case.hbs", c.T)
	var got string
	if err == nil {
		got, err = tpl.Execute(ctx)
	}
	switch {
	case c.Err != "" && err == nil:
		t.Errorf("case %d: %q\ncontext %s\nhandlebars.js fails (%s), got %q", i, c.T, c.C, c.Err, got)
	case c.Err == "" && err != nil:
		t.Errorf("case %d: %q\ncontext %s\nhandlebars.js renders %q, got error %v", i, c.T, c.C, *c.Out, err)
	case c.Err == "" && got != *c.Out:
		t.Errorf("case %d: %q\ncontext %s\n got %q\nwant %q", i, c.T, c.C, got, *c.Out)
	}
}

func TestDifferentialCorpus(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "differential.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cases []diffCase
	if err := json.Unmarshal(data, &cases); err != nil {
		t.Fatal(err)
	}
	if len(cases) < 1000 {
		t.Fatalf("corpus has only %d cases", len(cases))
	}
	for i, c := range cases {
		checkDiffCase(t, i, c)
	}
}

func TestDifferentialNode(t *testing.T) {
	modules := os.Getenv("HBS_NODE_MODULES")
	if modules == "" {
		t.Skip("set HBS_NODE_MODULES to a node_modules with handlebars@4.7.7 and dateformat@4.5.1 to compare with handlebars.js")
	}
	n := 3000
	if *updateDifferential {
		n = 1000
	}
	g := &caseGen{rng: rand.New(rand.NewPCG(uint64(os.Getpid()), 7))}
	if *updateDifferential {
		g.rng = rand.New(rand.NewPCG(1, 2)) // reproducible corpus
	}
	cases := make([]diffCase, n)
	for i := range cases {
		cases[i] = diffCase{T: g.template(), C: json.RawMessage(g.context())}
	}
	results := runOracle(t, modules, cases)
	for i := range cases {
		if results[i].Err != "" {
			cases[i].Err = results[i].Err
		} else {
			out := results[i].Out
			cases[i].Out = &out
		}
		checkDiffCase(t, i, cases[i])
	}
	if *updateDifferential && !t.Failed() {
		data, err := json.MarshalIndent(cases, "", " ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join("testdata", "differential.json"), append(data, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

type oracleResult struct {
	Out string `json:"out"`
	Err string `json:"err"`
}

func runOracle(t *testing.T, modules string, cases []diffCase) []oracleResult {
	t.Helper()
	in, err := json.Marshal(cases)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "cases.json")
	if err := os.WriteFile(file, in, 0o644); err != nil {
		t.Fatal(err)
	}
	oracle, err := filepath.Abs(filepath.Join("testdata", "oracle.js"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("node", oracle, file)
	cmd.Env = append(os.Environ(), "NODE_PATH="+modules, "TZ=UTC")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node oracle: %v", err)
	}
	var res []oracleResult
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("oracle output: %v", err)
	}
	if len(res) != len(cases) {
		t.Fatalf("oracle answered %d of %d cases", len(res), len(cases))
	}
	return res
}

// caseGen builds random templates from the constructs integration templates
// use, with the whitespace around them that the standalone rules care
// about, and random contexts for them.
type caseGen struct {
	rng *rand.Rand
}

func (g *caseGen) pick(xs ...string) string { return xs[g.rng.IntN(len(xs))] }

var genPaths = []string{
	"a", "b", "b.c", "b.d", "this", ".", "./a", "this.a", "../a", "../b.c", "../../a", "..", "arr", "arr.[0]", "arr.length",
	"o", "o.k", "o.z", "s", "s.length", "n", "z", "e", "t", "f", "nul", "nul.x", "missing", "missing.x",
	"@index", "@key", "@first", "@last", "@root.a", "@root.b.c", "@../index", "[a]", "b/c",
}

func (g *caseGen) path() string { return genPaths[g.rng.IntN(len(genPaths))] }

func (g *caseGen) tilde() (string, string) {
	l, r := "", ""
	if g.rng.IntN(6) == 0 {
		l = "~"
	}
	if g.rng.IntN(6) == 0 {
		r = "~"
	}
	return l, r
}

func (g *caseGen) text() string {
	var b strings.Builder
	for n := g.rng.IntN(3); n >= 0; n-- {
		b.WriteString(g.pick("", "x", " ", "  ", "\n", "\n", "\n  ", "  \n", "\t", "y\n", "\r\n", "\u00a0", "<&>", "'\""))
	}
	return b.String()
}

func (g *caseGen) param() string {
	switch g.rng.IntN(8) {
	case 0:
		return g.pick(`"str"`, `"it's"`, `"a b/c?d=e&f#g%"`, `"é✓😀"`, `''`)
	case 1:
		return g.pick("0", "1", "-1", "1.5", "true", "false", "null", "undefined", "1580777685500")
	case 2:
		return "(lookup " + g.path() + " " + g.pick("'k'", "0", "'length'", "@index", "'c'") + ")"
	}
	return g.path()
}

func (g *caseGen) mustache() string {
	l, r := g.tilde()
	switch g.rng.IntN(12) {
	// Unescaped values are followed by text: handlebars.js adds two
	// adjacent unescaped numbers at the start of a block (a documented
	// divergence).
	case 0:
		return "{{" + l + "{" + g.path() + "}" + r + "}}|"
	case 1:
		return "{{" + l + "& " + g.path() + r + "}}|"
	case 2:
		return "{{" + l + "queryEncode " + g.param() + r + "}}"
	case 3:
		return "{{" + l + "pathEncode " + g.param() + r + "}}"
	case 4:
		return "{{" + l + "lookup " + g.path() + " " + g.param() + r + "}}"
	case 5:
		return "{{" + l + "formatWithOffset " + g.pick("n", "1580777685500", "0", "-1", "@index", "t") + " " +
			g.pick("0", "3600", "-7200", "1.5") + " " + g.pick("'simple'", "'rfc3339'", "'seconds'", "'milliseconds'", "'other'") + r + "}}"
	case 6:
		return "{{" + l + "basicAuthHeaderValue " + g.param() + " " + g.param() + r + "}}"
	case 7:
		return "{{" + l + "! note " + r + "}}"
	case 8:
		return "{{" + l + "!-- {{x}} --" + r + "}}"
	case 9:
		return "{{" + l + "log " + g.param() + r + "}}"
	}
	return "{{" + l + g.path() + r + "}}"
}

func (g *caseGen) body(depth int) string {
	var b strings.Builder
	for n := g.rng.IntN(4); n >= 0; n-- {
		b.WriteString(g.text())
		if depth < 3 && g.rng.IntN(3) == 0 {
			b.WriteString(g.block(depth + 1))
		} else {
			b.WriteString(g.mustache())
		}
	}
	b.WriteString(g.text())
	return b.String()
}

func (g *caseGen) block(depth int) string {
	helper := g.pick("if", "if", "unless", "each", "each", "with", "section", "inverse", "equalWithElse", "equal", "raw")
	open := func(name, args string) string {
		l, r := g.tilde()
		return "{{" + l + name + args + r + "}}"
	}
	close := func(name string) string {
		l, r := g.tilde()
		return "{{" + l + "/" + name + r + "}}"
	}
	elseTag := func() string {
		l, r := g.tilde()
		return "{{" + l + g.pick("else", "else", "^") + r + "}}"
	}
	nl := func() string { return g.pick("", "\n", "\n  ", "  \n", " ") }
	var b strings.Builder
	switch helper {
	case "section":
		p := g.pick("a", "o", "arr", "t", "f", "nul", "z", "e", "s", "b")
		b.WriteString(open("#"+p, "") + nl() + g.body(depth) + nl())
		if g.rng.IntN(3) == 0 {
			b.WriteString(elseTag() + nl() + g.body(depth) + nl())
		}
		b.WriteString(close(p))
	case "raw":
		b.WriteString("{{{{raw}}}}" + nl() + "{{x}} " + g.text() + "{{{{/raw}}}}")
	case "inverse":
		p := g.pick("a", "o", "arr", "t", "f", "nul", "z", "e")
		b.WriteString(open("^"+p, "") + nl() + g.body(depth) + nl() + close(p))
	default:
		args := " " + g.path()
		switch helper {
		case "if":
			if g.rng.IntN(5) == 0 {
				args += " includeZero=true"
			}
		case "each":
			args = " " + g.pick("arr", "o", "b", "s", "missing", "nested", "nested.[0]", "../arr", "this")
			if g.rng.IntN(4) == 0 {
				args += " as |item key|"
			}
		case "with":
			if g.rng.IntN(4) == 0 {
				args += " as |w|"
			}
		case "equalWithElse", "equal":
			args += " " + g.param()
		}
		b.WriteString(open("#"+helper, args) + nl() + g.body(depth) + nl())
		for g.rng.IntN(3) == 0 && helper == "if" {
			l, r := g.tilde()
			b.WriteString("{{" + l + "else if " + g.path() + r + "}}" + nl() + g.body(depth) + nl())
		}
		if g.rng.IntN(2) == 0 {
			b.WriteString(elseTag() + nl() + g.body(depth) + nl())
		}
		b.WriteString(close(helper))
	}
	return b.String()
}

var soupParts = []string{
	"{{", "}}", "{{{", "}}}", "{{~", "~}}", "{{#if a}}", "{{/if}}", "{{else}}", "{{ else }}", "{{^}}", "{{~else~}}",
	"{{else if b}}", "{{#each arr}}", "{{/each}}", "{{a}}", "{{ a }}", "{{b.c}}", "{{b/c}}", "{{.}}", "{{..}}",
	"{{../a}}", "{{./a}}", "{{this}}", "{{[a]}}", "{{[a b]}}", `{{[a\]b]}}`, `{{"a"}}`, "{{'a'}}", "{{1}}", "{{-1}}",
	"{{1.5}}", "{{1e5}}", "{{-x}}", "{{null}}", "{{undefined}}", "{{true}}", "{{lookup o 'k'}}", "{{lookup o null}}",
	`{{queryEncode "a\"b"}}`, `{{queryEncode 'it\'s'}}`, `\{{a}}`, `\\{{a}}`, `\`, "{{!x}}", "{{!-- x --}}", "{{!--}}", "{{! }}",
	"{{~!-- y --~}}", "{{{{raw}}}}", "{{{{/raw}}}}", "x", " ", "\n", "  \n", "{{a b=c}}", "{{#with o as |p|}}", "{{/with}}",
	"{{p}}", "{{@index}}", "{{@root.a}}", "{{&a}}|", "{{{a}}}|", "{{a}}}", "{{#a}}", "{{/a}}", "{{^a}}", "{{elsewhere}}",
	"{{foo.0}}", "{{foo(bar)}}", "{{a~}}", "{{a ~}}", "{{~ a}}", "(", ")", "|", "=", "@", "as |x|", "{{#if a as |x|}}",
	"{{$x}}", "{{a:b}}", "{{a?b}}", "{{é}}", "{{#each arr as |x|}}", "{{x}}", "{{#if (lookup o 'k')}}", "{{s.length}}",
	"{{@key}}", "{{#unless a}}", "{{/unless}}", "{{#if a includeZero=true}}", "\t", "\r\n", "}", "{", "~",
}

// soup strings random fragments together, mostly invalid: both
// implementations must then agree on failing.
func (g *caseGen) soup() string {
	var b strings.Builder
	for n := 1 + g.rng.IntN(8); n > 0; n-- {
		b.WriteString(soupParts[g.rng.IntN(len(soupParts))])
	}
	return b.String()
}

func (g *caseGen) template() string {
	if g.rng.IntN(4) == 0 {
		return g.soup()
	}
	t := g.body(0)
	if strings.Contains(t, "as |item key|") && g.rng.IntN(2) == 0 {
		t = strings.ReplaceAll(t, "{{{a}}}", "\x00")
		t = strings.ReplaceAll(t, "{{a}}", "{{item}}{{key}}")
		t = strings.ReplaceAll(t, "\x00", "{{{a}}}")
	}
	return t
}

func (g *caseGen) scalar() string {
	return g.pick(`"A"`, `"<b>&'\""`, `0`, `1`, `-2.5`, `""`, `true`, `false`, `null`, `"é✓"`, `1580777685229`, `{}`, `[]`, `[1,"x",null]`)
}

func (g *caseGen) context() string {
	obj := func() string {
		return fmt.Sprintf(`{"k":%s,"c":%s,"a":%s}`, g.scalar(), g.scalar(), g.scalar())
	}
	return fmt.Sprintf(`{"a":%s,"b":{"c":%s,"d":%s},"arr":[%s,%s,%s],"o":{"z":%s,"k":%s,"2":%s},"s":"str","n":%s,"z":0,"e":"","t":true,"f":false,"nul":null,"nested":[%s,%s]}`,
		g.scalar(), g.scalar(), g.scalar(), g.scalar(), obj(), g.scalar(), g.scalar(), g.scalar(), g.scalar(),
		g.pick("1580777685229", "12", "0.5", "-3"), obj(), obj())
}

// strictCase is a case rendered by handlebars.js with strict: true; Err is
// its first failure, "" when it rendered.
type strictCase struct {
	T   string          `json:"t"`
	C   json.RawMessage `json:"c"`
	Err string          `json:"err"`
}

var hbsLocation = regexp.MustCompile(` - (\d+):(\d+)$`)

// checkStrictCase requires Lint to report handlebars.js' strict failure
// (same message, same position) or, when handlebars.js rendered, no error.
func checkStrictCase(t *testing.T, i int, c strictCase) {
	t.Helper()
	ctx, err := jsonv.Decode(c.C)
	if err != nil {
		t.Fatalf("case %d: context: %v", i, err)
	}
	tpl, err := Parse("case.hbs", c.T)
	if err != nil {
		if c.Err == "" {
			t.Errorf("case %d: %q: handlebars.js strict renders, Parse fails: %v", i, c.T, err)
		}
		return
	}
	issues := tpl.Lint(ctx)
	var errs []string
	for _, is := range issues {
		if is.Severity == "error" {
			errs = append(errs, fmt.Sprintf("%d:%d %s", is.Line, is.Col, is.Msg))
		}
	}
	if c.Err == "" {
		if len(errs) > 0 {
			t.Errorf("case %d: %q\ncontext %s\nhandlebars.js strict renders, Lint reports %q", i, c.T, c.C, errs)
		}
		return
	}
	want := c.Err
	if m := hbsLocation.FindStringSubmatch(want); m != nil {
		line, _ := strconv.Atoi(m[1])
		col, _ := strconv.Atoi(m[2])
		want = fmt.Sprintf("%d:%d %s", line, runeColumn(c.T, line, col), strings.TrimSuffix(want, m[0]))
		if !slices.Contains(errs, want) {
			t.Errorf("case %d: %q\ncontext %s\nhandlebars.js strict fails with %q, Lint reports %q", i, c.T, c.C, want, errs)
		}
		return
	}
	found := false
	for _, e := range errs {
		found = found || strings.HasSuffix(e, " "+want) ||
			// A call of something that is no helper: handlebars.js fails
			// calling the value, Lint names the unknown helper.
			strings.Contains(e, "unknown helper") && (strings.Contains(want, "is not a function") ||
				strings.HasSuffix(want, "(reading 'call')") || strings.HasPrefix(want, "Missing helper"))
	}
	if !found {
		t.Errorf("case %d: %q\ncontext %s\nhandlebars.js strict fails with %q, Lint reports %q", i, c.T, c.C, want, errs)
	}
}

func TestDifferentialStrictCorpus(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "differential-strict.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cases []strictCase
	if err := json.Unmarshal(data, &cases); err != nil {
		t.Fatal(err)
	}
	if len(cases) < 500 {
		t.Fatalf("corpus has only %d cases", len(cases))
	}
	for i, c := range cases {
		checkStrictCase(t, i, c)
	}
}

func TestDifferentialStrictNode(t *testing.T) {
	modules := os.Getenv("HBS_NODE_MODULES")
	if modules == "" {
		t.Skip("set HBS_NODE_MODULES to a node_modules with handlebars@4.7.7 and dateformat@4.5.1 to compare with handlebars.js")
	}
	g := &caseGen{rng: rand.New(rand.NewPCG(uint64(os.Getpid()), 9))}
	n := 2000
	if *updateDifferential {
		g.rng = rand.New(rand.NewPCG(3, 4))
		n = 500
	}
	cases := make([]diffCase, n)
	for i := range cases {
		cases[i] = diffCase{T: g.template(), C: json.RawMessage(g.context()), Strict: true}
	}
	results := runOracle(t, modules, cases)
	out := make([]strictCase, n)
	for i := range cases {
		out[i] = strictCase{T: cases[i].T, C: cases[i].C, Err: results[i].Err}
		checkStrictCase(t, i, out[i])
	}
	if *updateDifferential && !t.Failed() {
		data, err := json.MarshalIndent(out, "", " ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join("testdata", "differential-strict.json"), append(data, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// runeColumn converts handlebars.js' 0-based column in UTF-16 units on a
// line of src into the 1-based column in characters that Lint reports.
func runeColumn(src string, line, col int) int {
	lines := strings.Split(src, "\n")
	if line < 1 || line > len(lines) {
		return col + 1
	}
	units, n := 0, 1
	for _, r := range lines[line-1] {
		if units >= col {
			break
		}
		units += utf16.RuneLen(r)
		n++
	}
	return n
}
