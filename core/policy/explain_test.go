package policy

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata")

func accesses(pairs ...string) []Access {
	out := make([]Access, 0, len(pairs)/2)
	for i := 0; i+1 < len(pairs); i += 2 {
		out = append(out, NewAccess(pairs[i], pairs[i+1]))
	}
	return out
}

func mustParse(t *testing.T, js string) *Policy {
	t.Helper()
	p, err := Parse([]byte(js))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestSummary(t *testing.T) {
	tests := []struct {
		policy   string
		accesses []Access
		want     string
	}{
		{prodFlags, accesses("updateOn", "proj/default:env/production:flag/demo"),
			"sent: stmt#0 allow proj/*:env/production:flag/* matched updateOn proj/default:env/production:flag/demo"},
		{prodFlags, accesses("updateOn", "proj/default:env/test:flag/demo", "updateOn", "proj/default:env/test:flag/other"),
			`not sent: no statement allows any of 2 accesses (stmt#0: env key "production" ≠ "test")`},
		{prodFlags, accesses("updateOn", "proj/default:env/test:flag/demo"),
			`not sent: no statement allows the access (stmt#0: env key "production" ≠ "test")`},
		{pagerduty, accesses("deleteSegment", "proj/p:env/production:segment/s", "updateOn", "proj/p:env/test:flag/f"),
			`not sent: no statement allows any of 2 accesses (stmt#0: env key "production" ≠ "test"; ` +
				`stmt#1: action "deleteSegment" not in [updateIncluded updateExcluded updateRules])`},
		{allButProd, accesses("updateOn", "proj/p:env/production:flag/f", "updateOn", "proj/p:env/production:segment/s"),
			"not sent: stmt#1 deny proj/*:env/production:flag/* matched updateOn proj/p:env/production:flag/f; the other access is not allowed"},
		{`[{"effect":"allow","notResources":["proj/*:env/production:flag/*"],"actions":["*"]}]`, accesses("updateOn", "proj/p:env/test:flag/f"),
			"sent: stmt#0 allow notResources (none matched) matched updateOn proj/p:env/test:flag/f"},
		{prodFlags, nil, "not sent: the entry has no accesses"},
		{prodFlags, accesses("updateOn", "proj/p:env"),
			`not sent: no access could be evaluated (access #0: "proj/p:env": position 10: expected "/" after resource type "env")`},
		{`[]`, accesses("updateOn", "proj/p:env/e:flag/f"), "sent: the policy has no statements, so every entry is sent"},
	}
	for _, tt := range tests {
		e := mustParse(t, tt.policy).Explain(tt.accesses)
		if e.Summary != tt.want {
			t.Errorf("summary\n got: %s\nwant: %s", e.Summary, tt.want)
		}
	}
}

// TestExplainGolden pins the full multi-line form and the JSON form.
// Run with -update to rewrite testdata/explain.golden.
func TestExplainGolden(t *testing.T) {
	cases := []struct {
		title, policy string
		accesses      []Access
	}{
		{"deny overrides allow", allButProd,
			accesses("updateOn", "proj/default:env/production:flag/demo", "updateOn", "proj/default:env/staging:segment/beta")},
		{"actions and kinds", pagerduty,
			accesses("deleteSegment", "proj/p:env/production:segment/s", "updateOn", "proj/p:env/test:flag/f")},
		{"tags and exclusions", `[
			{"effect":"allow","actions":["*"],"resources":["proj/*;mobile:env/*;qa_*:flag/*"]},
			{"effect":"allow","notResources":["proj/*:env/production:flag/*"],"notActions":["delete*"]}]`,
			accesses("deleteFlag", "proj/app;mobile:env/staging;dev:flag/f", "updateOn", "proj/app:env/production:flag/f", "updateOn", "proj/app:env")},
		{"no policy", `[]`, accesses("updateRole", "member/abc")},
	}
	var text bytes.Buffer
	for _, c := range cases {
		e := mustParse(t, c.policy).Explain(c.accesses)
		text.WriteString("== " + c.title + "\n")
		text.WriteString(e.Text())
		js, err := json.MarshalIndent(e, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		text.WriteString("-- json\n")
		text.Write(js)
		text.WriteString("\n\n")

		var back Explanation
		if err := json.Unmarshal(js, &back); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(back, e) {
			t.Errorf("%s: the explanation does not survive a JSON round trip", c.title)
		}
	}
	golden := filepath.Join("testdata", "explain.golden")
	if *update {
		if err := os.WriteFile(golden, text.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got := text.String(); got != string(want) {
		t.Errorf("explanations differ from %s (run go test -update and review the diff):\n%s", golden, firstDiff(got, string(want)))
	}
}

func firstDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := 0; i < len(g) || i < len(w); i++ {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			return "line " + itoa(i+1) + ":\n got: " + gl + "\nwant: " + wl
		}
	}
	return ""
}

func itoa(i int) string {
	b, _ := json.Marshal(i)
	return string(b)
}

// TestDecideAgreesWithExplain checks the cheap and the detailed evaluation
// against each other over a grid of policies and accesses.
func TestDecideAgreesWithExplain(t *testing.T) {
	policies := []string{prodFlags, kosli, pagerduty, qaTeam, tagAnd, tagOr, allButProd, denyFirst, critical, `[]`}
	resources := []string{
		"proj/default:env/production:flag/demo", "proj/default:env/test:flag/demo", "proj/default:env/*:flag/demo",
		"proj/p:env/production:segment/s", "proj/p:env/staging;qa_x:flag/f;tag1,tag2", "proj/p:env/prod;{critical:true}:flag/f;tag2",
		"proj/p:env/staging;qa_x", "member/abc", "acct", "proj/p:env",
	}
	actions := []string{"updateOn", "createFlag", "deleteFlag", "updateIncluded", "updateName"}
	for _, js := range policies {
		p := mustParse(t, js)
		for _, r1 := range resources {
			for _, r2 := range resources {
				for _, a := range actions {
					acc := accesses(a, r1, "updateOn", r2)
					d, e := p.Decide(acc), p.Explain(acc)
					if d.Send != e.Sent || d.NoPolicy != e.NoPolicy {
						t.Fatalf("%s %s %s: Decide %+v, Explain sent %v", js, r1, r2, d, e.Sent)
					}
					if d.Send && !d.NoPolicy && e.Accesses[d.Access].Outcome != OutcomeAllowed {
						t.Fatalf("Decide names access %d, Explain says %s", d.Access, e.Accesses[d.Access].Outcome)
					}
				}
			}
		}
	}
}
