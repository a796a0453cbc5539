package policy

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestGlob(t *testing.T) {
	tests := []struct {
		pat, s string
		want   bool
		fold   bool
	}{
		{"*", "", true, false},
		{"*", "anything", true, false},
		{"production", "production", true, false},
		{"production", "Production", false, false},
		{"production", "Production", true, true},
		{"ops_*", "ops_kill", true, false},
		{"ops_*", "ops_", true, false},
		{"ops_*", "op_kill", false, false},
		{"*-beta", "ui-beta", true, false},
		{"*-beta", "ui-beta-2", false, false},
		{"prod-*", "prod", false, false},
		{"a*b*c", "abc", true, false},
		{"a*b*c", "a-b-c", true, false},
		{"a*b*c", "acb", false, false},
		{"a*b*c", "abcbc", true, false},
		{"*x*", "x", true, false},
		{"*x*", "y", false, false},
		{"a**b", "ab", true, false},
		{"QA_*", "qa_test", true, true},
		{"QA_*", "qa_test", false, false},
		{"*_TEST", "qa_test", true, true},
		{"q*A*z", "QxaYZ", true, true},
		{"a?c", "abc", false, false}, // "?" is literal (guide §7 A9)
		{"a?c", "a?c", true, false},
		{"[ab]", "a", false, false},
	}
	for _, tt := range tests {
		g := compileGlob(tt.pat)
		got := g.match(tt.s)
		if tt.fold {
			got = g.matchFold(tt.s)
		}
		if got != tt.want {
			t.Errorf("glob %q (fold %v) on %q = %v, want %v", tt.pat, tt.fold, tt.s, got, tt.want)
		}
	}
}

func TestParseSpecifierStructure(t *testing.T) {
	type seg struct {
		typ, name string
		tags      []string
		props     []string
	}
	tests := []struct {
		spec string
		any  bool
		segs []seg
	}{
		{spec: "*", any: true},
		{spec: "acct", segs: []seg{{typ: "acct", name: "*"}}},
		{spec: "proj/*", segs: []seg{{typ: "proj", name: "*"}}},
		{spec: "proj/default", segs: []seg{{typ: "proj", name: "default"}}},
		{spec: "proj/*;mobile", segs: []seg{{typ: "proj", name: "*", tags: []string{"mobile"}}}},
		{spec: "proj/*:env/*:flag/*", segs: []seg{{typ: "proj", name: "*"}, {typ: "env", name: "*"}, {typ: "flag", name: "*"}}},
		{spec: "proj/*;mobile:env/*;qa,dev:flag/*", segs: []seg{
			{typ: "proj", name: "*", tags: []string{"mobile"}},
			{typ: "env", name: "*", tags: []string{"qa", "dev"}},
			{typ: "flag", name: "*"}}},
		{spec: "proj/*:env/*;qa_*:flag/ops_*", segs: []seg{
			{typ: "proj", name: "*"}, {typ: "env", name: "*", tags: []string{"qa_*"}}, {typ: "flag", name: "ops_*"}}},
		{spec: "proj/*:env/*;{critical:true}:flag/*", segs: []seg{
			{typ: "proj", name: "*"}, {typ: "env", name: "*", props: []string{"{critical:true}"}}, {typ: "flag", name: "*"}}},
		{spec: "proj/*:env/*;prod,{critical:true}:flag/*", segs: []seg{
			{typ: "proj", name: "*"}, {typ: "env", name: "*", tags: []string{"prod"}, props: []string{"{critical:true}"}}, {typ: "flag", name: "*"}}},
		{spec: "proj/*:env/*:flag/*;view:checkout", segs: []seg{
			{typ: "proj", name: "*"}, {typ: "env", name: "*"}, {typ: "flag", name: "*", props: []string{"view:checkout"}}}},
		{spec: "proj/*:view/${roleAttribute/viewKeys}", segs: []seg{
			{typ: "proj", name: "*"}, {typ: "view", name: "${roleAttribute/viewKeys}"}}},
		{spec: "proj/*:env/*:flag/*;view:${roleAttribute/viewKeys}", segs: []seg{
			{typ: "proj", name: "*"}, {typ: "env", name: "*"}, {typ: "flag", name: "*", props: []string{"view:${roleAttribute/viewKeys}"}}}},
		{spec: "member/*:token/*", segs: []seg{{typ: "member", name: "*"}, {typ: "token", name: "*"}}},
		{spec: "code-reference-repository/*", segs: []seg{{typ: "code-reference-repository", name: "*"}}},
		{spec: "integration/slack/abc", segs: []seg{{typ: "integration", name: "slack/abc"}}},
		{spec: "*/x", segs: []seg{{typ: "*", name: "x"}}}, // literal type (guide §7 A10)
		{spec: "proj/a?c", segs: []seg{{typ: "proj", name: "a?c"}}},
	}
	for _, tt := range tests {
		sp, err := ParseSpecifier(tt.spec)
		if err != nil {
			t.Errorf("ParseSpecifier(%q): %v", tt.spec, err)
			continue
		}
		if sp.String() != tt.spec || sp.Any() != tt.any {
			t.Errorf("ParseSpecifier(%q): String %q Any %v", tt.spec, sp.String(), sp.Any())
		}
		var got []seg
		for _, s := range sp.segs {
			g := seg{typ: s.typ, name: s.name.pat}
			for _, tg := range s.tags {
				g.tags = append(g.tags, tg.pat)
			}
			for _, p := range s.props {
				g.props = append(g.props, p.String())
			}
			got = append(got, g)
		}
		if !slices.EqualFunc(got, tt.segs, func(a, b seg) bool {
			return a.typ == b.typ && a.name == b.name && slices.Equal(a.tags, b.tags) && slices.Equal(a.props, b.props)
		}) {
			t.Errorf("ParseSpecifier(%q) segments = %+v, want %+v", tt.spec, got, tt.segs)
		}
	}
}

func TestParseSpecifierErrors(t *testing.T) {
	tests := []struct {
		spec string
		pos  int
		msg  string
	}{
		{"", 0, "empty resource specifier"},
		{"proj/*:env", 10, `expected "/" after resource type "env"`},
		{"proj", 4, `expected "/" after resource type "proj"`},
		{"proj/", 5, `expected a resource key or "*" after "proj/"`},
		{"proj/*:", 7, `expected a resource type after ":"`},
		{":env/x", 0, `expected a resource type before ":"`},
		{"/x", 0, `expected a resource type before "/"`},
		{"proj/*::env/x", 7, `expected a resource type before ":"`},
		{"proj/a,b", 6, `unexpected "," in resource key`},
		{"proj/a b", 6, `invalid character ' ' in resource key`},
		{" proj/*", 0, `invalid character ' ' in resource type`},
		{"proj/*\n", 6, `invalid character '\n' in resource key`},
		{"proj/*;", 7, `expected a tag or {property:value} after ";"`},
		{"proj/*;a,,b", 9, `expected a tag or {property:value} after ","`},
		{"proj/*;a,", 9, `expected a tag or {property:value} after ","`},
		{"proj/*;a;b", 8, `unexpected ";"`},
		{"proj/*;a b", 8, `invalid character ' ' in tag`},
		{"env/x;tag!", 9, `invalid character '!' in tag`},
		{"env/x;ünï", 6, `invalid character 'ü' in tag`},
		{"proj/*;:env/*", 7, `expected a tag or {property:value} after ";"`},
		{"proj/*;{critical", 16, `expected ":" after property name "critical"`},
		{"proj/*;{critical:true", 21, `expected "}" to close the property selector opened at position 7`},
		{"proj/*;{:true}", 8, `expected a property name after "{"`},
		{"proj/*;{critical:}", 17, `expected a property value after ":"`},
		{"proj/*;{crit ical:true}", 12, `invalid character ' ' in property name`},
		{"proj/*;{critical:tr ue}", 19, `invalid character ' ' in property value`},
		{"proj/*;{a:b}x", 12, `invalid character 'x' after selector`},
		{"proj/${roleAttribute/x", 5, `unterminated "${"`},
		{"flag/x;view:", 12, `expected a resource type after ":"`},
		{"flag/x;view:a b", 13, `invalid character ' ' in selector value`},
	}
	for _, tt := range tests {
		_, err := ParseSpecifier(tt.spec)
		var se *SyntaxError
		if !errors.As(err, &se) {
			t.Errorf("ParseSpecifier(%q) error = %v, want *SyntaxError", tt.spec, err)
			continue
		}
		if se.Pos != tt.pos || !strings.Contains(se.Msg, tt.msg) || se.Spec != tt.spec {
			t.Errorf("ParseSpecifier(%q) = pos %d %q, want pos %d containing %q", tt.spec, se.Pos, se.Msg, tt.pos, tt.msg)
		}
	}
}

func TestSyntaxErrorMessage(t *testing.T) {
	_, err := ParseSpecifier("proj/*:env")
	want := `"proj/*:env": position 10: expected "/" after resource type "env"`
	if err == nil || err.Error() != want {
		t.Fatalf("error = %v, want %s", err, want)
	}
}

func TestAccessResource(t *testing.T) {
	tests := []struct {
		in     string
		types  []string
		allEnv bool
	}{
		{"proj/default:env/production:flag/demo", []string{"proj", "env", "flag"}, false},
		{"proj/default:env/*:flag/demo", []string{"proj", "env", "flag"}, true},
		{"proj/default:env/~:flag/demo", []string{"proj", "env", "flag"}, true},
		{"proj/*:env/test", []string{"proj", "env"}, false}, // "*" is special only as an env key
		{"acct", []string{"acct"}, false},
		{"member/5f0c:token/abc", []string{"member", "token"}, false},
		{"proj/p;mobile,web:env/e;{critical:true}:flag/f;beta", []string{"proj", "env", "flag"}, false},
		{"a/1:b/2:c/3:d/4:e/5:f/6", []string{"a", "b", "c", "d", "e", "f"}, false}, // beyond the inline segments
	}
	for _, tt := range tests {
		r, err := parseResource(tt.in)
		if err != nil {
			t.Errorf("parseResource(%q): %v", tt.in, err)
			continue
		}
		if !slices.Equal(r.Types(), tt.types) || r.AllEnvironments() != tt.allEnv || r.String() != tt.in {
			t.Errorf("parseResource(%q) = types %v allEnv %v, want %v %v", tt.in, r.Types(), r.AllEnvironments(), tt.types, tt.allEnv)
		}
	}
	if _, err := parseResource("proj/x:env"); err == nil {
		t.Error("ParseResource accepted a segment without a key")
	}
	a := NewAccess("updateOn", "proj/x:env")
	if a.Err() == nil {
		t.Error("NewAccess kept no error for a malformed resource")
	}
	if a := NewAccess("", "proj/x"); a.Err() == nil {
		t.Error("NewAccess accepted an empty action")
	}
}

func TestSpecifierMatchDeepResource(t *testing.T) {
	sp := mustParseSpecifier("a/*:b/*:c/*:d/*:e/5:f/*")
	r, err := parseResource("a/1:b/2:c/3:d/4:e/5:f/6")
	if err != nil {
		t.Fatal(err)
	}
	if !sp.Match(&r) {
		t.Error("six-segment specifier does not match six-segment resource")
	}
	other := mustParseSpecifier("a/*:b/*:c/*:d/*:e/9:f/*")
	if m := other.match(&r); m.code != missKey || m.seg != 4 {
		t.Errorf("miss = %+v, want key at segment 4", m)
	}
}

// parseResource reads s as NewAccess does.
func parseResource(s string) (Resource, error) {
	a := NewAccess("updateOn", s)
	return a.Resource, a.Err()
}

// mustParseSpecifier is ParseSpecifier for specifiers known to be valid.
func mustParseSpecifier(s string) Specifier {
	sp, err := ParseSpecifier(s)
	if err != nil {
		panic(err)
	}
	return sp
}
