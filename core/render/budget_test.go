package render

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/auditrelay/auditrelay/core/jsonv"
)

// tagsContext is a context whose tags array has n short tags, like a flag
// entry from LaunchDarkly with n tags.
func tagsContext(t testing.TB, n int) jsonv.Value {
	t.Helper()
	var b strings.Builder
	b.WriteString(`{"name":"flag","tags":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `"tag-%05d"`, i)
	}
	b.WriteString(`],"long":"` + strings.Repeat("é", 300_000) + `"}`)
	return mustDecode(t, b.String())
}

const nestedTags = "{\"text\": \"\n{{#each tags}}{{#each ../tags}}{{this}};{{/each}}{{/each}}\"}"

// TestBudgetStopsExpansion: renders that would grow without bound stop
// with an error wrapping ErrBudget that names the template, the position
// where the limit was crossed, and the limit.
func TestBudgetStopsExpansion(t *testing.T) {
	big := tagsContext(t, 20_000)
	cases := []struct {
		name, tpl string
		budget    Budget
		want      string // the whole error
	}{
		{"nested loops over the same array", nestedTags, Budget{},
			"t.json.hbs:2:32: the template produced more than 1 MiB of output (render budget)"},
		{"a smaller output budget", nestedTags, Budget{MaxOutput: 64 << 10},
			"t.json.hbs:2:32: the template produced more than 64 KiB of output (render budget)"},
		{"nested loops that print nothing", "x\n  {{#each tags}}{{#each ../tags}}{{/each}}{{/each}}", Budget{},
			"t.json.hbs:2:17: the template took more than 1,000,000 evaluation steps (render budget); a loop nested over a large array?"},
		{"a smaller step budget", "{{#each tags}}{{/each}}", Budget{MaxSteps: 1000},
			"t.json.hbs:1:1: the template took more than 1,000 evaluation steps (render budget); a loop nested over a large array?"},
		{"comparisons of large values in a loop", "{{#each tags}}{{#equal ../tags ../long}}x{{/equal}}{{/each}}", Budget{},
			"t.json.hbs:1:15: the template took more than 1,000,000 evaluation steps (render budget); a loop nested over a large array?"},
		{"helpers that multiply their input", "{{pathEncode (pathEncode (pathEncode (pathEncode long)))}}", Budget{},
			"t.json.hbs:1:39: pathEncode produced more than 1 MiB (render budget)"},
		{"a helper argument over budget already", "{{queryEncode tags}}", Budget{MaxOutput: 1000},
			"t.json.hbs:1:3: queryEncode produced more than 1000 bytes (render budget)"},
		{"basicAuthHeaderValue of large values", "{{basicAuthHeaderValue long long}}", Budget{},
			"t.json.hbs:1:3: basicAuthHeaderValue produced more than 1 MiB (render budget)"},
		{"lookup with a huge key", "{{#each tags}}{{lookup ../this ../tags}}{{/each}}", Budget{MaxOutput: 1000},
			"t.json.hbs:1:17: the key of lookup produced more than 1000 bytes (render budget)"},
		{"one value larger than the output", "{{{tags}}}", Budget{MaxOutput: 1000},
			"t.json.hbs:1:1: the template produced more than 1000 bytes of output (render budget)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tpl, err := Parse("t.json.hbs", tc.tpl)
			if err != nil {
				t.Fatal(err)
			}
			out, err := tpl.ExecuteBudget(big, tc.budget)
			if err == nil {
				t.Fatalf("rendered %d bytes, want a budget error", len(out))
			}
			if !errors.Is(err, ErrBudget) {
				t.Fatalf("error %v does not wrap ErrBudget", err)
			}
			if err.Error() != tc.want {
				t.Fatalf("error\n  %v\nwant\n  %s", err, tc.want)
			}
			// AppendExecute fails the same way and leaves dst as it was.
			dst := []byte("kept")
			got, err2 := tpl.AppendExecuteBudget(dst, big, tc.budget)
			if err2 == nil || err2.Error() != tc.want || string(got) != "kept" {
				t.Fatalf("AppendExecuteBudget = %q, %v", got, err2)
			}
		})
	}
}

// TestBudgetBoundary: output of exactly MaxOutput bytes renders; one more
// byte fails. The budget counts what a render appends, not dst.
func TestBudgetBoundary(t *testing.T) {
	tpl, err := Parse("t.hbs", "{{#each tags}}{{this}}{{/each}}")
	if err != nil {
		t.Fatal(err)
	}
	ctx := mustDecode(t, `{"tags":["aaaa","bbbb","cccc"]}`)
	out, err := tpl.ExecuteBudget(ctx, Budget{MaxOutput: 12})
	if err != nil || out != "aaaabbbbcccc" {
		t.Fatalf("12 bytes within a 12-byte budget: %q, %v", out, err)
	}
	if _, err := tpl.ExecuteBudget(ctx, Budget{MaxOutput: 11}); !errors.Is(err, ErrBudget) ||
		err.Error() != "t.hbs:1:15: the template produced more than 11 bytes of output (render budget)" {
		t.Fatalf("12 bytes within an 11-byte budget: %v", err)
	}
	dst := []byte(strings.Repeat("x", 100))
	got, err := tpl.AppendExecuteBudget(dst, ctx, Budget{MaxOutput: 12})
	if err != nil || string(got) != string(dst)+"aaaabbbbcccc" {
		t.Fatalf("append after 100 bytes: %q, %v", got, err)
	}
	// 3 iterations of 1 statement, plus the #each statement: 7 steps.
	if _, err := tpl.ExecuteBudget(ctx, Budget{MaxSteps: 7}); err != nil {
		t.Fatalf("7 steps: %v", err)
	}
	if _, err := tpl.ExecuteBudget(ctx, Budget{MaxSteps: 6}); !errors.Is(err, ErrBudget) {
		t.Fatalf("6 steps: %v, want a budget error", err)
	}
	// Options.Budget applies to Execute and AppendExecute.
	small, err := ParseOptions("t.hbs", "{{#each tags}}{{this}}{{/each}}", Options{Budget: Budget{MaxOutput: 4}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := small.Execute(ctx); !errors.Is(err, ErrBudget) {
		t.Fatalf("Execute with Options.Budget: %v", err)
	}
	if _, err := small.AppendExecute(nil, ctx); !errors.Is(err, ErrBudget) {
		t.Fatalf("AppendExecute with Options.Budget: %v", err)
	}
	// Other render errors do not wrap ErrBudget.
	bad, err := Parse("t.hbs", "{{nope 1}}")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bad.Execute(ctx); err == nil || errors.Is(err, ErrBudget) {
		t.Fatalf("unknown helper: %v", err)
	}
}

// TestBudgetBoundsMemory: the render that took 5.9 GB allocates little
// more than its output budget before it fails.
func TestBudgetBoundsMemory(t *testing.T) {
	big := tagsContext(t, 20_000)
	tpl, err := Parse("t.json.hbs", nestedTags)
	if err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range 3 {
		if _, err := tpl.Execute(big); !errors.Is(err, ErrBudget) {
			t.Fatalf("want a budget error, got %v", err)
		}
	}
	runtime.ReadMemStats(&after)
	if per := (after.TotalAlloc - before.TotalAlloc) / 3; per > 8<<20 {
		t.Fatalf("a failing render allocated %d bytes, want under 8 MiB", per)
	}
}

// TestLintStopsAtBudget: Lint reports the budget error as an error at its
// position, after the static findings, and does not judge the partial
// output as JSON.
func TestLintStopsAtBudget(t *testing.T) {
	tpl, err := Parse("t.json.hbs", nestedTags)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, is := range tpl.Lint(tagsContext(t, 20_000)) {
		got = append(got, fmt.Sprintf("%d:%d %s", is.Line, is.Col, is.Severity))
	}
	want := []string{"2:23 warning", "2:32 error"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("lint issues %v, want %v", got, want)
	}
}

// TestLargeArraysCompareCheaply: pushing a context onto the ../ stack
// compares it with the one below (JavaScript ==), which for a string and
// an array means String(array). Iterating the array that is the current
// context must not print it once per element.
func TestLargeArraysCompareCheaply(t *testing.T) {
	tpl, err := Parse("t.hbs", "{{#with tags}}{{#each this}}{{#if @last}}{{this}}{{/if}}{{/each}}{{/with}}")
	if err != nil {
		t.Fatal(err)
	}
	big := tagsContext(t, 20_000)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	out, err := tpl.Execute(big)
	runtime.ReadMemStats(&after)
	if err != nil || out != "tag-19999" {
		t.Fatalf("render = %q, %v", out, err)
	}
	if n := after.TotalAlloc - before.TotalAlloc; n > 1<<20 {
		t.Fatalf("render allocated %d bytes: the array was printed for comparisons", n)
	}
}

// TestLooseEqualArray checks the shortcut comparison against String(b).
func TestLooseEqualArray(t *testing.T) {
	arrays := []string{`[]`, `[1]`, `["a"]`, `["a","b"]`, `[null]`, `[null,null]`, `[[1,2],3]`, `[{}]`, `[""]`, `[" 1 "]`, `[true]`}
	prims := []string{`""`, `"a"`, `"a,b"`, `"1,2,3"`, `","`, `"1"`, `1`, `0`, `" 1 "`, `"[object Object]"`, `true`, `false`, `"true"`, `"a,"`}
	for _, as := range arrays {
		b := mustDecode(t, as)
		for _, ps := range prims {
			a := mustDecode(t, ps)
			want := looseEqual(a, jsonv.Str(string(jsonv.AppendJSString(nil, b))))
			if a.Kind() == jsonv.Bool {
				want = looseEqual(jsonv.Num(boolNum(a)), jsonv.Str(string(jsonv.AppendJSString(nil, b))))
			}
			if got := looseEqual(a, b); got != want {
				t.Errorf("%s == %s: %v, want %v", ps, as, got, want)
			}
		}
	}
}

// BenchmarkRenderOverBudget measures the failing render of the nested
// template over 20,000 tags: the time and memory it takes to say no.
func BenchmarkRenderOverBudget(b *testing.B) {
	big := tagsContext(b, 20_000)
	tpl, err := Parse("t.json.hbs", nestedTags)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := tpl.Execute(big); !errors.Is(err, ErrBudget) {
			b.Fatal(err)
		}
	}
}
