package policy

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/auditrelay/auditrelay/core/reftest"
)

func TestParseErrors(t *testing.T) {
	type wantErr struct {
		stmt      int
		field     string
		line, col int
		msg       string
	}
	tests := []struct {
		name string
		json string
		want []wantErr
	}{
		{"syntax error: trailing comma", "[\n  {\"effect\": \"allow\",}\n]",
			[]wantErr{{-1, "", 2, 22, "invalid JSON"}}},
		{"syntax error: unexpected end", "[\n  {\"effect\": \"allow\"",
			[]wantErr{{-1, "", 2, 21, "unexpected end of JSON input"}}},
		{"syntax error: garbage after the array", "[] x",
			[]wantErr{{-1, "", 1, 4, "after top-level value"}}},
		{"empty input", "", []wantErr{{-1, "", 1, 1, "unexpected end"}}},
		{"neither array nor object", `"allow"`,
			[]wantErr{{-1, "", 1, 1, "expected a JSON array of policy statements or a manifest object"}}},
		{"statement is not an object", `[["allow"]]`,
			[]wantErr{{0, "", 1, 2, "expected a statement object, got an array"}}},
		{"bad effect value", "[\n {\"effect\":\"Allow\",\"resources\":[\"*\"],\"actions\":[\"*\"]}]",
			[]wantErr{{0, "effect", 2, 12, `must be "allow" or "deny", not "Allow"`}}},
		{"effect of the wrong type", `[{"effect":true,"resources":["*"],"actions":["*"]}]`,
			[]wantErr{{0, "effect", 1, 12, "got a boolean"}}},
		{"unknown field with a hint", `[{"effect":"allow","resource":["*"],"actions":["*"]}]`,
			[]wantErr{{0, "resources", 1, 2, "needs a non-empty resources or notResources list"},
				{0, "", 1, 20, `unknown field "resource" (did you mean "resources"?)`}}},
		{"unknown field", `[{"effect":"allow","resources":["*"],"actions":["*"],"condition":{}}]`,
			[]wantErr{{0, "", 1, 54, `unknown field "condition"`}}},
		{"duplicate field", "[{\"effect\":\"allow\",\n\"effect\":\"deny\",\"resources\":[\"*\"],\"actions\":[\"*\"]}]",
			[]wantErr{{0, "effect", 2, 1, "duplicate field (first at 1:3)"}}},
		{"resources is a string", `[{"effect":"allow","resources":"proj/*","actions":["*"]}]`,
			[]wantErr{{0, "resources", 1, 32, "expected an array of strings, got a string"}}},
		{"a resource is a number", `[{"effect":"allow","resources":["proj/*", 7],"actions":["*"]}]`,
			[]wantErr{{0, "resources[1]", 1, 43, "expected a string, got a number"}}},
		{"both resources and notResources", `[{"effect":"allow","resources":["*"],"notResources":["proj/*"],"actions":["*"]}]`,
			[]wantErr{{0, "notResources", 1, 53, "either resources or notResources, not both"}}},
		{"neither actions nor notActions", `[{"effect":"allow","resources":["*"]}]`,
			[]wantErr{{0, "actions", 1, 2, "needs a non-empty actions or notActions list"}}},
		{"empty actions list", `[{"effect":"allow","resources":["*"],"actions":[]}]`,
			[]wantErr{{0, "actions", 1, 48, "needs a non-empty actions or notActions list"}}},
		{"both actions and notActions", `[{"effect":"allow","resources":["*"],"actions":["*"],"notActions":["deleteFlag"]}]`,
			[]wantErr{{0, "notActions", 1, 67, "either actions or notActions, not both"}}},
		{"empty action", `[{"effect":"allow","resources":["*"],"actions":[""]}]`,
			[]wantErr{{0, "actions[0]", 1, 49, "empty action"}}},
		{"malformed specifier with its position", "[\n{\"effect\":\"allow\",\"resources\":[\"*\"],\"actions\":[\"*\"]},\n{\"effect\":\"allow\",\"resources\":[\"proj/*:env\"],\"actions\":[\"*\"]}]",
			[]wantErr{{1, "resources[0]", 3, 32, `statement 1: resources[0] "proj/*:env": position 10: expected "/" after resource type "env"`}}},
		{"every error is reported", `[
  {"effect":"permit","resources":["proj/*:env"],"actions":["*"]},
  {"effect":"allow","notResources":["flag/a b"],"notActions":[" "]},
  {"effect":"deny"}
]`, []wantErr{
			{0, "effect", 2, 13, `not "permit"`},
			{0, "resources[0]", 2, 35, `position 10`},
			{1, "notResources[0]", 3, 37, `position 6: invalid character ' ' in resource key`},
			{1, "notActions[0]", 3, 63, `invalid character ' ' in action`},
			{2, "resources", 4, 3, "needs a non-empty resources"},
			{2, "actions", 4, 3, "needs a non-empty actions"},
		}},
		{"byte order mark", "\xef\xbb\xbf[{\"effect\":\"nope\",\"resources\":[\"*\"],\"actions\":[\"*\"]}]",
			[]wantErr{{0, "effect", 1, 12, `not "nope"`}}},
		{"columns count characters", "[{\"effect\":\"allow\",\"resources\":[\"proj/é\",\"proj/\"],\"actions\":[\"*\"]}]",
			[]wantErr{{0, "resources[1]", 1, 42, "expected a resource key"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Parse([]byte(tt.json))
			if err == nil {
				t.Fatalf("Parse accepted it: %d statements", p.Len())
			}
			var list ErrorList
			if !errors.As(err, &list) {
				t.Fatalf("error %T %v is not an ErrorList", err, err)
			}
			if len(list) != len(tt.want) {
				t.Fatalf("got %d errors, want %d:\n%v", len(list), len(tt.want), err)
			}
			for i, w := range tt.want {
				e := list[i]
				if e.Statement != w.stmt || e.Field != w.field || e.Line != w.line || e.Col != w.col || !strings.Contains(e.Error(), w.msg) {
					t.Errorf("error %d = stmt %d field %q at %d:%d %q\nwant stmt %d field %q at %d:%d containing %q",
						i, e.Statement, e.Field, e.Line, e.Col, e.Error(), w.stmt, w.field, w.line, w.col, w.msg)
				}
			}
		})
	}
}

func TestErrorsAreInspectable(t *testing.T) {
	_, err := Parse([]byte(`[{"effect":"allow","resources":["proj/*:env"],"actions":["*"]}]`))
	var se *SyntaxError
	if !errors.As(err, &se) {
		t.Fatalf("errors.As(*SyntaxError) failed on %v", err)
	}
	if se.Spec != "proj/*:env" || se.Pos != 10 {
		t.Errorf("SyntaxError = %+v", se)
	}
	var pe *Error
	if !errors.As(err, &pe) || pe.Statement != 0 || pe.Field != "resources[0]" {
		t.Errorf("*Error = %+v", pe)
	}
	want := `1:33: statement 0: resources[0] "proj/*:env": position 10: expected "/" after resource type "env"`
	if err.Error() != want {
		t.Errorf("Error() = %s\nwant      %s", err, want)
	}
}

func TestParseArrayAndNull(t *testing.T) {
	p, err := Parse([]byte(`[{"effect":"allow","resources":["proj/*:env/production:flag/*"],"actions":["*"]}]`))
	if err != nil {
		t.Fatal(err)
	}
	if p.Source() != SourceArray || p.Len() != 1 || p.Empty() || p.Absent() {
		t.Errorf("Source %s Len %d Empty %v Absent %v", p.Source(), p.Len(), p.Empty(), p.Absent())
	}
	empty, err := Parse([]byte("null"))
	if err != nil || !empty.Empty() || !empty.Absent() || len(empty.Warnings()) != 1 {
		t.Errorf("Parse(null) = %v, %v", empty, err)
	}
	var none *Policy
	if none.Source() != "" || !none.Absent() {
		t.Errorf("nil policy: source %q absent %v", none.Source(), none.Absent())
	}
}

func TestWarnings(t *testing.T) {
	tests := []struct {
		policy string
		want   []string // substrings, one per warning, in order
	}{
		{`[]`, []string{"no policy statements: every entry is sent"}},
		{`[{"resources":["proj/*"],"actions":["*"]}]`, []string{`effect is missing; using the schema default "allow"`}},
		{`[{"effect":"allow","resources":["flag/*"],"actions":["*"]}]`,
			[]string{`"flag" is documented inside proj:env, but this specifier puts it at the top level`}},
		{`[{"effect":"allow","resources":["proj/*:flags/*"],"actions":["*"]}]`,
			[]string{`"flags" is not in LaunchDarkly's documented list; it is matched literally (did you mean "flag"?)`}},
		{`[{"effect":"allow","resources":["proj/*:ai-config/*"],"actions":["*"]}]`, []string{`(did you mean "aiconfig"?)`}},
		{`[{"effect":"allow","resources":["*/x"],"actions":["*"]}]`, []string{`type wildcards are not supported`}},
		{`[{"effect":"allow","resources":["proj/${roleAttribute/projects}"],"actions":["*"]}]`, []string{"role attribute"}},
		{`[{"effect":"allow","notResources":["*"],"actions":["*"]}]`, []string{"applies to no resource"}},
		{`[{"effect":"allow","resources":["*"],"notActions":["*"]}]`, []string{"applies to no action"}},
		{`[{"effect":"allow","resources":["*"],"actions":["proj/*"]}]`, []string{"looks like a resource specifier"}},
		{`[{"effect":"allow","resources":["proj/*:env/*:flag/*","member/*:token/*","acct","proj/*:metric-group/*"],"actions":["*"]}]`, nil},
	}
	for _, tt := range tests {
		p, err := Parse([]byte(tt.policy))
		if err != nil {
			t.Errorf("%s: %v", tt.policy, err)
			continue
		}
		ws := p.Warnings()
		if len(ws) != len(tt.want) {
			t.Errorf("%s: warnings %v, want %d", tt.policy, ws, len(tt.want))
			continue
		}
		for i, w := range tt.want {
			if !strings.Contains(ws[i].String(), w) {
				t.Errorf("%s: warning %q, want it to contain %q", tt.policy, ws[i], w)
			}
		}
	}
}

func TestParseManifest(t *testing.T) {
	manifest := `{
  "name": "Example",
  "capabilities": {
    "auditLogEventsHook": {
      "endpoint": {"url": "https://example.com", "method": "POST"},
      "defaultPolicy": [
        {"effect": "allow", "resources": ["proj/*:env/production:flag/*"], "actions": ["*"]},
        {"effect": "allow", "resources": ["proj/*:env"], "actions": ["*"]}
      ]
    }
  }
}`
	_, err := ParseManifest([]byte(manifest))
	var list ErrorList
	if !errors.As(err, &list) || len(list) != 1 {
		t.Fatalf("err = %v", err)
	}
	if e := list[0]; e.Statement != 1 || e.Line != 8 || e.Col != 43 {
		t.Errorf("error at stmt %d %d:%d, want stmt 1 8:43: %v", e.Statement, e.Line, e.Col, e)
	}
	fixed := strings.Replace(manifest, `"proj/*:env"`, `"proj/*:env/*"`, 1)
	for _, parse := range []func([]byte) (*Policy, error){ParseManifest, Parse} {
		p, err := parse([]byte(fixed))
		if err != nil {
			t.Fatal(err)
		}
		if p.Len() != 2 || p.Source() != SourceManifest {
			t.Errorf("Len %d Source %s", p.Len(), p.Source())
		}
	}

	noHook := `{"name":"x","capabilities":{"trigger":{}}}`
	p, err := ParseManifest([]byte(noHook))
	if err != nil || !p.Empty() || !p.Absent() || len(p.Warnings()) != 1 ||
		!strings.Contains(p.Warnings()[0].Msg, "no capabilities.auditLogEventsHook.defaultPolicy") {
		t.Errorf("manifest without a hook: %v %v", p, err)
	}
	emptyPolicy := `{"capabilities":{"auditLogEventsHook":{"defaultPolicy":[]}}}`
	p, err = ParseManifest([]byte(emptyPolicy))
	if err != nil || !p.Empty() || p.Absent() {
		t.Errorf("empty defaultPolicy: %v %v", p, err)
	}
	badType := `{"capabilities":{"auditLogEventsHook":{"defaultPolicy":{"effect":"allow"}}}}`
	if _, err := ParseManifest([]byte(badType)); err == nil || !strings.Contains(err.Error(), "1:56: capabilities.auditLogEventsHook.defaultPolicy: expected an array") {
		t.Errorf("defaultPolicy object: %v", err)
	}
	if _, err := ParseManifest([]byte(`[]`)); err == nil || !strings.Contains(err.Error(), "expected a manifest object, got an array") {
		t.Errorf("array as manifest: %v", err)
	}
	if _, err := Parse([]byte(`"x"`)); err == nil || !strings.Contains(err.Error(), "expected a JSON array of policy statements or a manifest object") {
		t.Errorf("string policy: %v", err)
	}
}

// TestReferenceIntegrations compiles the defaultPolicy of every reference
// integration and checks that a production flag toggle goes out and a test
// environment change does not, as each policy intends.
func TestReferenceIntegrations(t *testing.T) {
	dirs, err := filepath.Glob(filepath.Join(filepath.Dir(reftest.Dir(t)), "reference", "integrations", "*", "manifest.json"))
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no manifests: %v", err)
	}
	for _, path := range dirs {
		name := filepath.Base(filepath.Dir(path))
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		p, err := Parse(data)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if p.Source() != SourceManifest || p.Empty() {
			t.Errorf("%s: source %s, %d statements", name, p.Source(), p.Len())
		}
		for _, w := range p.Warnings() {
			t.Errorf("%s: unexpected warning %s", name, w)
		}
		prod := []Access{NewAccess("updateOn", "proj/default:env/production:flag/checkout")}
		if d := p.Decide(prod); !d.Send {
			t.Errorf("%s: production updateOn not sent: %s", name, p.Explain(prod).Summary)
		}
		member := []Access{NewAccess("updateRole", "member/5f0c0ffee")}
		if d := p.Decide(member); d.Send {
			t.Errorf("%s: a member change is sent", name)
		}
	}
}
