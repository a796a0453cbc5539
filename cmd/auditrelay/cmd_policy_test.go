package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const policyProdFlags = `[{"effect":"allow","resources":["proj/*:env/production:flag/*"],"actions":["*"]}]`

// policyEntry is an audit-log entry in the REST/webhook shape, trimmed.
const policyEntry = `{
  "_id": "6543210fedcba",
  "_accountId": "acct1",
  "date": 1700000000000,
  "kind": "flag",
  "name": "Checkout",
  "accesses": [
    {"action": "updateOn", "resource": "proj/default:env/test:flag/checkout"},
    {"action": "updateOn", "resource": "proj/default:env/production:flag/checkout"}
  ],
  "titleVerb": "turned on",
  "target": {"name": "Checkout", "resources": ["proj/default:env/production:flag/checkout"]}
}`

func writePolicyFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func runPolicy(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, strings.NewReader(stdin), &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestPolicyCheck(t *testing.T) {
	t.Parallel()
	pol := writePolicyFile(t, "policy.json", policyProdFlags)
	entry := writePolicyFile(t, "entry.json", policyEntry)
	manifest := writePolicyFile(t, "manifest.json", `{"name":"x","capabilities":{"auditLogEventsHook":{
		"endpoint":{"url":"https://example.com","method":"POST"},
		"defaultPolicy":[{"effect":"allow","resources":["proj/*:env/*:flag/*"],"actions":["createFlag"]}]}}}`)
	noHook := writePolicyFile(t, "nohook.json", `{"name":"x","capabilities":{}}`)
	badPolicy := writePolicyFile(t, "bad.json", "[\n{\"effect\":\"allow\",\"resources\":[\"proj/*:env\"],\"actions\":[\"*\"]},\n{\"effect\":\"perhaps\",\"resources\":[\"*\"],\"actions\":[\"*\"]}]")
	badJSON := writePolicyFile(t, "badjson.json", "[\n  {\"effect\": \"allow\",}\n]")
	badEntry := writePolicyFile(t, "badentry.json", "{\"_id\": \"e1\", \"date\": 1, \"kind\": \"flag\",\n  \"accesses\": [\n    {\"action\": 1}\n  ]\n}")
	notEntry := writePolicyFile(t, "notentry.json", `{"kind":"flag"}`)
	notJSON := writePolicyFile(t, "notjson.json", "{\"_id\": \"e1\",\n \"date\": 1,,}")
	oddField := writePolicyFile(t, "odd.json", `{"_id":"e1","date":1,"kind":"flag","name":7,"accesses":[{"action":"updateOn","resource":"proj/x:env/production:flag/f"}]}`)
	brokenAccess := writePolicyFile(t, "broken.json", `{"_id":"e1","date":1,"kind":"flag","accesses":[{"action":"updateOn","resource":"proj/x:env"},{"action":"updateOn","resource":"proj/x:env/production:flag/f"}]}`)

	tests := []struct {
		name      string
		stdin     string
		args      []string
		code      int
		stdout    []string // substrings
		stderr    []string
		notStdout string
	}{
		{name: "entry sent", args: []string{"--entry", entry},
			code:   0,
			stdout: []string{"sent: stmt#0 allow proj/*:env/production:flag/* matched updateOn proj/default:env/production:flag/checkout", "access #0", `env key "production" ≠ "test"`}},
		{name: "single access not sent", args: []string{"--resource", "proj/default:env/test:flag/checkout", "--action", "updateOn"},
			code:   1,
			stdout: []string{`not sent: no statement allows the access (stmt#0: env key "production" ≠ "test")`}},
		{name: "single access sent", args: []string{"--resource", "proj/default:env/production:flag/checkout", "--action", "updateOn"},
			code: 0, stdout: []string{"sent: stmt#0"}},
		{name: "manifest defaultPolicy", args: []string{"--policy", manifest, "--resource", "proj/p:env/*:flag/f", "--action", "createFlag"},
			code: 0, stdout: []string{"sent: stmt#0 allow proj/*:env/*:flag/* matched createFlag proj/p:env/*:flag/f"}},
		{name: "manifest without a policy sends everything, with a warning", args: []string{"--policy", noHook, "--resource", "member/abc", "--action", "updateRole"},
			code: 0, stdout: []string{"every entry is sent"}, stderr: []string{"warning:", "no capabilities.auditLogEventsHook.defaultPolicy"}},
		{name: "entry from stdin", stdin: policyEntry, args: []string{"--entry", "-"},
			code: 0, stdout: []string{"sent:"}},
		{name: "policy from stdin", stdin: policyProdFlags, args: []string{"--policy", "-", "--resource", "proj/p:env/test:flag/f", "--action", "updateOn"},
			code: 1, stdout: []string{"not sent"}},
		{name: "a broken access is reported and skipped", args: []string{"--entry", brokenAccess},
			code: 0, stdout: []string{"access #0: updateOn proj/x:env: invalid"}, stderr: []string{"access 0 cannot be evaluated", "position 10"}},

		{name: "invalid policy lists every error with file, line and column", args: []string{"--policy", badPolicy, "--entry", entry},
			code: 2, stderr: []string{"invalid policy (2 errors)",
				badPolicy + `:2:32: statement 0: resources[0] "proj/*:env": position 10: expected "/" after resource type "env"`,
				badPolicy + `:3:11: statement 1: effect: must be "allow" or "deny", not "perhaps"`}},
		{name: "policy JSON syntax error", args: []string{"--policy", badJSON, "--entry", entry},
			code: 2, stderr: []string{badJSON + ":2:22: invalid JSON"}},
		{name: "entry with a wrongly typed field", args: []string{"--entry", badEntry},
			code: 2, stderr: []string{"policy check: " + badEntry + `:3:16: "accesses[0].action": expected a string (the action name), found number`}},
		{name: "file that is not an entry", args: []string{"--entry", notEntry},
			code: 2, stderr: []string{"policy check: " + notEntry + `:1:1: "_id": required field is missing (the entry id)`}},
		{name: "entry that is not JSON", args: []string{"--entry", notJSON},
			code: 2, stderr: []string{"policy check: " + notJSON + `:2:12: expected a member name in double quotes, found ","`}},
		{name: "entry from stdin refused, named as stdin", stdin: `{"_id":""}`, args: []string{"--entry", "-"},
			code: 2, stderr: []string{`policy check: <stdin>:1:8: "_id": expected a non-empty string (the entry id), found an empty string`}},
		{name: "an optional field of the wrong type is a warning", args: []string{"--entry", oddField},
			code: 0, stdout: []string{"sent:"}, stderr: []string{oddField + `:1:43: warning: "name": expected a string, found number; ignored`}},
		{name: "missing entry file", args: []string{"--entry", filepath.Join(t.TempDir(), "nope.json")},
			code: 2, stderr: []string{"nope.json", "no such file"}},
		{name: "bad --resource", args: []string{"--resource", "proj/x:env", "--action", "updateOn"},
			code: 2, stderr: []string{`--resource: "proj/x:env": position 10`}},
		{name: "--resource without --action", args: []string{"--resource", "proj/x"},
			code: 2, stderr: []string{"--resource and --action go together"}},
		{name: "--entry with --resource", args: []string{"--entry", entry, "--resource", "proj/x", "--action", "a"},
			code: 2, stderr: []string{"not both"}},
		{name: "no access given", args: []string{},
			code: 2, stderr: []string{"give --entry FILE"}},
		{name: "unknown flag", args: []string{"--entri", entry},
			code: 2, stderr: []string{"unknown flag"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			args := append([]string{"policy", "check"}, tt.args...)
			if !containsArg(tt.args, "--policy") {
				args = append(args, "--policy", pol)
			}
			code, stdout, stderr := runPolicy(t, tt.stdin, args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.code, stdout, stderr)
			}
			for _, s := range tt.stdout {
				if !strings.Contains(stdout, s) {
					t.Errorf("stdout lacks %q:\n%s", s, stdout)
				}
			}
			for _, s := range tt.stderr {
				if !strings.Contains(stderr, s) {
					t.Errorf("stderr lacks %q:\n%s", s, stderr)
				}
			}
		})
	}
}

func containsArg(args []string, flag string) bool {
	for _, a := range args {
		if a == flag {
			return true
		}
	}
	return false
}

func TestPolicyCheckJSON(t *testing.T) {
	t.Parallel()
	pol := writePolicyFile(t, "policy.json", `[
		{"effect":"allow","resources":["proj/*:env/*:flag/*"],"actions":["*"]},
		{"effect":"deny","resources":["proj/*:env/production:flag/*"],"actions":["*"]}]`)
	entry := writePolicyFile(t, "entry.json", policyEntry)
	code, stdout, stderr := runPolicy(t, "", "policy", "check", "--policy", pol, "--entry", entry, "--json")
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	var e struct {
		Sent     bool   `json:"sent"`
		Summary  string `json:"summary"`
		Accesses []struct {
			Outcome  string `json:"outcome"`
			DeniedBy []int  `json:"deniedBy"`
		} `json:"accesses"`
	}
	if err := json.Unmarshal([]byte(stdout), &e); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, stdout)
	}
	if !e.Sent || len(e.Accesses) != 2 || e.Accesses[0].Outcome != "allowed" ||
		e.Accesses[1].Outcome != "denied" || len(e.Accesses[1].DeniedBy) != 1 || e.Accesses[1].DeniedBy[0] != 1 {
		t.Errorf("explanation = %+v", e)
	}
	if !strings.HasPrefix(e.Summary, "sent: stmt#0 allow") {
		t.Errorf("summary = %q", e.Summary)
	}
}

func TestPolicyLint(t *testing.T) {
	t.Parallel()
	valid := writePolicyFile(t, "valid.json", policyProdFlags)
	warn := writePolicyFile(t, "warn.json", `[{"resources":["flag/*"],"actions":["*"]}]`)
	invalid := writePolicyFile(t, "invalid.json", "[\n{\"effect\":\"allow\",\"resource\":[\"*\"],\"actions\":[\"*\"]},\n{\"effect\":\"deny\",\"resources\":[\"proj/a b\"],\"notActions\":[\"*\"],\"actions\":[\"*\"]}]")
	emptyManifest := writePolicyFile(t, "manifest.json", `{"capabilities":{"auditLogEventsHook":{"defaultPolicy":[]}}}`)
	emptyArray := writePolicyFile(t, "empty.json", `[]`)

	tests := []struct {
		name   string
		file   string
		code   int
		stdout []string
	}{
		{"valid", valid, 0, []string{valid + ": ok: 1 statement, 0 warnings"}},
		{"warnings only", warn, 0, []string{
			warn + `:1:2: warning: statement 0: effect: effect is missing; using the schema default "allow"`,
			warn + `:1:16: warning: statement 0: resources[0]: resource type "flag" is documented inside proj:env`,
			": ok: 1 statement, 2 warnings"}},
		{"every error", invalid, 1, []string{
			invalid + `:2:1: error: statement 0: resources: a statement needs a non-empty resources or notResources list`,
			invalid + `:2:19: error: statement 0: unknown field "resource" (did you mean "resources"?)`,
			invalid + `:3:31: error: statement 1: resources[0] "proj/a b": position 6: invalid character ' ' in resource key`,
			invalid + `:3:56: error: statement 1: notActions: a statement has either actions or notActions, not both`,
			invalid + ": invalid: 4 errors"}},
		{"empty manifest policy breaks the schema", emptyManifest, 1, []string{"minItems", "invalid: 1 error"}},
		{"empty array is legal but sends everything", emptyArray, 0, []string{"warning: no policy statements", "ok: 0 statements, 1 warning"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, stdout, stderr := runPolicy(t, "", "policy", "lint", "--policy", tt.file)
			if code != tt.code {
				t.Errorf("exit %d, want %d\n%s%s", code, tt.code, stdout, stderr)
			}
			for _, s := range tt.stdout {
				if !strings.Contains(stdout, s) {
					t.Errorf("stdout lacks %q:\n%s", s, stdout)
				}
			}
		})
	}
	if code, _, stderr := runPolicy(t, "", "policy", "lint", "--policy", filepath.Join(t.TempDir(), "missing.json")); code != 2 || !strings.Contains(stderr, "missing.json") {
		t.Errorf("missing file: exit %d, stderr %q", code, stderr)
	}
	if code, _, stderr := runPolicy(t, "", "policy", "lint"); code != 2 || !strings.Contains(stderr, "--policy FILE is required") {
		t.Errorf("no --policy: exit %d, stderr %q", code, stderr)
	}
}

// TestPolicyLintReferenceManifests lints the defaultPolicy of every
// reference integration: all must be valid and free of warnings.
func TestPolicyLintReferenceManifests(t *testing.T) {
	t.Parallel()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	root := wd
	for {
		if _, err := os.Stat(filepath.Join(root, "go.mod")); err == nil {
			break
		}
		if filepath.Dir(root) == root {
			t.Skip("../shared/reference not found: no go.mod above the test")
		}
		root = filepath.Dir(root)
	}
	manifests, _ := filepath.Glob(filepath.Join(root, "..", "shared", "reference", "integrations", "*", "manifest.json"))
	if len(manifests) == 0 {
		t.Skip("../shared/reference not found: no integration manifests")
	}
	for _, m := range manifests {
		code, stdout, stderr := runPolicy(t, "", "policy", "lint", "--policy", m)
		if code != 0 || strings.Contains(stdout, ": warning:") {
			t.Errorf("%s: exit %d\n%s%s", m, code, stdout, stderr)
		}
	}
}
