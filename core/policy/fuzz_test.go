package policy

import (
	"encoding/json"
	"errors"
	"testing"
	"unicode/utf8"
)

var specifierSeeds = []string{
	"*", "acct", "proj/*", "proj/default", "proj/*;mobile", "proj/*:env/*:flag/*",
	"proj/*;mobile:env/*;qa,dev:flag/*", "proj/*:env/*;qa_*:flag/ops_*",
	"proj/*:env/*;{critical:true}:flag/*", "proj/*:env/*:flag/*;view:checkout",
	"proj/*:env/*:flag/*;view:${roleAttribute/viewKeys}", "member/*:token/*",
	"proj/*:env", "proj/", "proj/*:", "proj/*;", "proj/*;a,,b", "proj/*;{critical",
	"proj/*;{critical:true", "proj/${roleAttribute/x", "env/x;tag!", "*/x", "proj/a?c",
	"proj/p:env/~:flag/f", "proj/p:env/*:flag/f;tag1,tag2", "a/1:b/2:c/3:d/4:e/5:f/6",
}

// FuzzParseSpecifier checks that the specifier parser never panics, that
// its errors carry a position inside the input, and that the specifier and
// access grammars agree: whatever parses as a specifier parses as a resource
// and the specifier names that resource.
func FuzzParseSpecifier(f *testing.F) {
	for _, s := range specifierSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sp, err := ParseSpecifier(s)
		r, rerr := parseResource(s)
		if (err == nil) != (rerr == nil) {
			t.Fatalf("%q: specifier error %v, resource error %v", s, err, rerr)
		}
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("%q: error %T is not a *SyntaxError", s, err)
			}
			if se.Spec != s || se.Pos < 0 || se.Pos > len(s) || se.Msg == "" {
				t.Fatalf("%q: bad error %+v", s, se)
			}
			if !utf8.ValidString(se.Error()) && utf8.ValidString(s) {
				t.Fatalf("%q: error message is not UTF-8", s)
			}
			return
		}
		if sp.String() != s || r.String() != s {
			t.Fatalf("%q: String() = %q / %q", s, sp.String(), r.String())
		}
		if !sp.Match(&r) {
			t.Fatalf("%q does not name itself: %+v", s, sp.match(&r))
		}
		a := []Access{NewAccess("updateOn", s)}
		if !utf8.ValidString(s) {
			return // a policy is JSON text, which cannot carry it
		}
		js, _ := json.Marshal([]Statement{{Effect: Allow, Resources: []string{s}, Actions: []string{"update*"}}})
		p, err := Parse(js)
		if err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		if d, e := p.Decide(a), p.Explain(a); !d.Send || !e.Sent {
			t.Fatalf("%q: not allowed by itself: %s", s, e.Summary)
		}
	})
}

var policySeeds = []string{
	prodFlags, kosli, pagerduty, qaTeam, tagAnd, tagOr, allButProd, critical, `[]`, `null`,
	`[{"effect":"allow","resources":["proj/*:env"],"actions":["*"]}]`,
	`[{"effect":"permit","resource":["*"],"actions":"*"}]`,
	`[{"effect":"allow","resources":["*"],"actions":["*"],"effect":"deny"}]`,
	`[{"effect":"allow","resources":["*", 1, null],"notResources":[],"actions":[""]}]`,
	`{"capabilities":{"auditLogEventsHook":{"defaultPolicy":[{"effect":"allow","resources":["proj/*"],"actions":["*"]}]}}}`,
	`{"capabilities":{"auditLogEventsHook":{"defaultPolicy":{}}}}`,
	"\xef\xbb\xbf[]", "[{\"effect\":\"allow\",}]", "[\n  {\n", `"x"`, `[1,"a",{}]`,
}

// FuzzParsePolicy checks that the policy readers never panic, that every
// error names a line and column, and that a policy that compiles evaluates
// the same way cheaply and in detail.
func FuzzParsePolicy(f *testing.F) {
	for _, s := range policySeeds {
		f.Add([]byte(s))
	}
	entry := accesses(
		"updateOn", "proj/default:env/production:flag/demo;beta",
		"createFlag", "proj/default:env/*:flag/demo",
		"updateRole", "member/abc",
	)
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, parse := range []func([]byte) (*Policy, error){Parse, ParseManifest} {
			p, err := parse(data)
			if err != nil {
				var list ErrorList
				if !errors.As(err, &list) || len(list) == 0 {
					t.Fatalf("error %T %v is not a non-empty ErrorList", err, err)
				}
				for _, e := range list {
					if e.Line < 1 || e.Col < 1 || e.Err == nil {
						t.Fatalf("error without a position: %+v", e)
					}
				}
				continue
			}
			d, e := p.Decide(entry), p.Explain(entry)
			if d.Send != e.Sent {
				t.Fatalf("Decide %+v, Explain %s", d, e.Summary)
			}
			_ = e.Text()
		}
	})
}
