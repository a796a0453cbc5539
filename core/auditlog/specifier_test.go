package auditlog

import (
	"reflect"
	"testing"
)

func TestParseSpecifier(t *testing.T) {
	tests := []struct {
		in   string
		want []segment
	}{
		{"", nil},
		{"proj/default", []segment{{typ: "proj", name: "default"}}},
		{"proj/default;tag1:env/production:flag/demo-flag;ops,security", []segment{
			{typ: "proj", name: "default", tags: []string{"tag1"}},
			{typ: "env", name: "production"},
			{typ: "flag", name: "demo-flag", tags: []string{"ops", "security"}},
		}},
		{"proj/p:env/*:flag/f", []segment{{typ: "proj", name: "p"}, {typ: "env", name: "*"}, {typ: "flag", name: "f"}}},
		{"member/5f9a:token/abc", []segment{{typ: "member", name: "5f9a"}, {typ: "token", name: "abc"}}},
		{"acct", []segment{{typ: "acct"}}},
		{"flag/x;", []segment{{typ: "flag", name: "x"}}},
		{"flag/x;a,,b", []segment{{typ: "flag", name: "x", tags: []string{"a", "b"}}}},
	}
	for _, tc := range tests {
		if got := parseSpecifier(tc.in); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("parseSpecifier(%q) = %+v, want %+v", tc.in, got, tc.want)
		}
	}
}

func TestPrimaryAccess(t *testing.T) {
	e := &Entry{Kind: "flag", Accesses: []Access{
		{"viewProject", "proj/p"},
		{"updateOn", "proj/p:env/prod:flag/f"},
	}}
	if a, ok := e.PrimaryAccess(); !ok || a.Action != "updateOn" {
		t.Errorf("primary = %v", a)
	}
	e.Kind = "segment"
	if a, _ := e.PrimaryAccess(); a.Action != "viewProject" {
		t.Errorf("without a match the first access is primary, got %v", a)
	}
	if _, ok := (&Entry{}).PrimaryAccess(); ok {
		t.Error("no accesses has no primary access")
	}
}
