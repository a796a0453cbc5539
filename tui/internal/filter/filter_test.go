package filter

import (
	"strings"
	"testing"

	"github.com/auditrelay/auditrelay/core/engine/api"
)

func entries() map[string]*api.EntryView {
	return map[string]*api.EntryView{
		"flagProd": {
			ID: "e1", Kind: "flag", Title: "Turned on new-Checkout in Production", Member: "alice@example.com",
			Project: "web", Environment: "production",
			Decisions: []api.Decision{
				{Subscription: "slack-prod", Sent: true, State: api.Failed},
				{Subscription: "datadog", Sent: false, State: api.Filtered},
			},
		},
		"flagTest": {
			ID: "e2", Kind: "flag", Title: "Updated rollout", Member: "bob@example.com",
			Project: "web", Environment: "test",
			Decisions: []api.Decision{{Subscription: "slack-prod", Sent: true, State: api.Delivered}},
		},
		"segment": {
			ID: "e3", Kind: "segment", Title: "Created segment beta", Member: "alice@example.com",
			Project: "mobile", Environment: "production",
			Decisions: []api.Decision{{Subscription: "datadog", Sent: true, State: api.Pending}},
		},
		"member": {ID: "e4", Kind: "member", Title: "Invited carol", Member: "ops@example.com"},
	}
}

func TestMatch(t *testing.T) {
	tests := []struct {
		filter string
		want   []string
	}{
		{"", []string{"flagProd", "flagTest", "segment", "member"}},
		{"kind:flag", []string{"flagProd", "flagTest"}},
		{"KIND:Flag", []string{"flagProd", "flagTest"}},
		{"kind:flag kind:segment", []string{"flagProd", "flagTest", "segment"}},
		{"kind:flag env:production", []string{"flagProd"}},
		{"environment:production project:mobile", []string{"segment"}},
		{"env:prod*", []string{"flagProd", "segment"}},
		{"env:*duct*", []string{"flagProd", "segment"}},
		{"member:*@example.com", []string{"flagProd", "flagTest", "segment", "member"}},
		{"env:[prod]", nil}, // brackets are literal
		{"-env:production", []string{"flagTest", "member"}},
		{"status:failed", []string{"flagProd"}},
		{"status:retrying", []string{"segment"}},
		{"status:delivered", []string{"flagTest"}},
		{"status:filtered", []string{"flagProd"}},
		{"status:sent", []string{"flagProd", "flagTest", "segment"}},
		{"sub:slack-prod", []string{"flagProd", "flagTest"}},
		{"sub:datadog", []string{"segment"}}, // flagProd was filtered by datadog's policy
		{"checkout", []string{"flagProd"}},
		{"CHECKOUT production", []string{"flagProd"}},
		{"alice", []string{"flagProd", "segment"}},
		{`"new-checkout in"`, []string{"flagProd"}},
		{"member:ops@example.com", []string{"member"}},
		{"e3", []string{"segment"}},
		{"-kind:flag -kind:segment", []string{"member"}},
		{"kind:flag status:failed proj:web sub:slack-prod", []string{"flagProd"}},
	}
	all := entries()
	for _, tt := range tests {
		t.Run(tt.filter, func(t *testing.T) {
			q, err := Parse(tt.filter)
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]bool{}
			for _, w := range tt.want {
				want[w] = true
			}
			for name, e := range all {
				if got := q.Match(e); got != want[name] {
					t.Errorf("%q on %s = %v, want %v", tt.filter, name, got, want[name])
				}
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct{ in, wantErr string }{
		{"colour:red", `unknown key "colour" (use kind, env, proj, member, sub, status, code, since, until)`},
		{"status:burning", `unknown status "burning"`},
		{"kind:", `missing value after "kind:"`},
		{`"open quote`, "missing closing quote"},
	}
	for _, tt := range tests {
		_, err := Parse(tt.in)
		if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("Parse(%q) error = %v, want it to contain %q", tt.in, err, tt.wantErr)
		}
	}
}

func TestUsesStatusAndString(t *testing.T) {
	q, _ := Parse("  kind:flag status:failed ")
	if !q.UsesStatus() || q.String() != "kind:flag status:failed" {
		t.Errorf("UsesStatus=%v String=%q", q.UsesStatus(), q.String())
	}
	q, _ = Parse("kind:flag")
	if q.UsesStatus() {
		t.Error("kind:flag does not use status")
	}
	var nilQ *Query
	if !nilQ.Empty() || !nilQ.Match(&api.EntryView{}) || nilQ.UsesStatus() {
		t.Error("nil query must match everything")
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"kind:flag", `"a b" -env:x*`, "status:failed sub:a", "-", `""`, "::", "env:[a-", "since:2h until:2026-12-01T10:00", "code:5xx code:429", "since:99999999999w"} {
		f.Add(s)
	}
	e := entries()["flagProd"]
	f.Fuzz(func(t *testing.T, s string) {
		q, err := Parse(s)
		if err != nil {
			if q != nil {
				t.Fatal("query returned with error")
			}
			return
		}
		q.Match(e) // must not panic
		// Parsing is stable: the canonical text parses to the same matcher.
		q2, err := Parse(q.String())
		if err != nil {
			t.Fatalf("reparse of %q: %v", q.String(), err)
		}
		if q.Match(e) != q2.Match(e) {
			t.Fatalf("reparse of %q matches differently", q.String())
		}
	})
}

func BenchmarkMatch(b *testing.B) {
	q, _ := Parse("checkout env:prod* status:failed")
	e := entries()["flagProd"]
	b.ReportAllocs()
	for b.Loop() {
		q.Match(e)
	}
}

// TestSyntaxExamplesParse keeps the documented examples valid.
func TestSyntaxExamplesParse(t *testing.T) {
	for _, line := range strings.Split(Syntax, "\n")[2:] {
		if line == "" {
			continue
		}
		ex := strings.Trim(strings.Split(line, "|")[1], " `")
		if _, err := Parse(ex); err != nil {
			t.Errorf("documented example %q: %v", ex, err)
		}
	}
}
