package policy

import (
	"testing"
	"time"
)

// benchPolicy has ten statements, in the shape integrations use: several
// flag and segment scopes, tags, globs, notActions and two denies.
const benchPolicy = `[
  {"effect":"allow","resources":["proj/*:env/production:flag/*"],"actions":["updateOn","updateRules","updateTargets","updateFallthrough"]},
  {"effect":"allow","resources":["proj/*:env/production:segment/*"],"actions":["updateIncluded","updateExcluded","updateRules"]},
  {"effect":"allow","resources":["proj/mobile-*:env/*;qa_*:flag/*"],"actions":["*"]},
  {"effect":"allow","resources":["proj/*:env/*:flag/ops_*"],"actions":["update*"]},
  {"effect":"allow","resources":["proj/*;web,checkout:env/*:flag/*"],"actions":["createFlag","deleteFlag"]},
  {"effect":"allow","resources":["proj/*:metric/*"],"notActions":["deleteMetric"]},
  {"effect":"deny","resources":["proj/*:env/*:flag/*;internal"],"actions":["*"]},
  {"effect":"allow","resources":["member/*","role/*"],"actions":["*"]},
  {"effect":"deny","resources":["proj/sandbox:env/*:flag/*"],"actions":["*"]},
  {"effect":"allow","resources":["proj/*:env/staging:flag/*"],"actions":["updateOn"]}
]`

// benchEntry has three accesses; only the last is allowed, by the last
// statement, so every statement is evaluated for every access.
var benchEntry = [][2]string{
	{"updateOn", "proj/default:env/test:flag/new-checkout;beta"},
	{"updateOn", "proj/default:env/test:segment/beta-users"},
	{"updateOn", "proj/default:env/staging:flag/new-checkout;beta"},
}

func benchSetup(b *testing.B) (*Policy, []Access) {
	p, err := Parse([]byte(benchPolicy))
	if err != nil {
		b.Fatal(err)
	}
	acc := make([]Access, len(benchEntry))
	for i, a := range benchEntry {
		acc[i] = NewAccess(a[0], a[1])
	}
	if d := p.Decide(acc); !d.Send || d.Access != 2 || d.Statement != 9 {
		b.Fatalf("benchmark entry decided %+v, want access 2 by statement 9", d)
	}
	return p, acc
}

// BenchmarkEvaluate measures Decide: a ten-statement policy against a
// three-access entry. The matching path must not allocate.
func BenchmarkEvaluate(b *testing.B) {
	p, acc := benchSetup(b)
	if n := testing.AllocsPerRun(100, func() { p.Decide(acc) }); n != 0 {
		b.Fatalf("Decide allocates %.0f times per entry, want 0", n)
	}
	b.ReportAllocs()
	start, ok := processCPU()
	for b.Loop() {
		p.Decide(acc)
	}
	reportCPU(b, start, ok)
}

// reportCPU adds "cpu-ns/op": CPU time per operation, which stays honest
// when other processes compete for the machine and inflate ns/op.
func reportCPU(b *testing.B, start time.Duration, ok bool) {
	end, ok2 := processCPU()
	if ok && ok2 && b.N > 0 {
		b.ReportMetric(float64(end-start)/float64(b.N), "cpu-ns/op")
	}
}

// BenchmarkParseAndEvaluate adds parsing the entry's three access
// resources, done once per entry and shared by every integration.
func BenchmarkParseAndEvaluate(b *testing.B) {
	p, _ := benchSetup(b)
	var acc [3]Access
	b.ReportAllocs()
	start, ok := processCPU()
	for b.Loop() {
		for i, a := range benchEntry {
			acc[i] = NewAccess(a[0], a[1])
		}
		p.Decide(acc[:])
	}
	reportCPU(b, start, ok)
}

// BenchmarkExplain measures the detailed form, built only on request.
func BenchmarkExplain(b *testing.B) {
	p, acc := benchSetup(b)
	b.ReportAllocs()
	for b.Loop() {
		p.Explain(acc)
	}
}

func BenchmarkParseSpecifier(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseSpecifier("proj/*;mobile:env/*;qa_*,{critical:true}:flag/ops_*"); err != nil {
			b.Fatal(err)
		}
	}
}
