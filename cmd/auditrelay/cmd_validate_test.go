package main

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/auditrelay/auditrelay/core/reftest"
)

// -update rewrites golden files in testdata/. The console's test kit
// (teatest, which mask_test.go uses) registers a flag of that name too;
// both then mean the same, so register ours only when it is missing.
func init() {
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite golden files in testdata/")
	}
}

func updating() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// runMain runs the CLI with args and returns the exit code and output.
func runMain(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if updating() {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s (run with -update to accept):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// writeIntegration creates an integration directory from files.
func writeIntegration(t *testing.T, dir string, files map[string]string) string {
	t.Helper()
	for name, data := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

const lintManifest = `{
  "name": "Lint fixture",
  "version": "1.0.0",
  "overview": "Integration for lint tests.",
  "description": "An integration whose template reads a field the sample contexts lack.",
  "author": "auditrelay tests",
  "supportEmail": "tests@example.com",
  "links": {"site": "https://example.com", "privacyPolicy": "https://example.com/privacy"},
  "categories": ["monitoring"],
  "icons": {"square": "a.svg", "horizontal": "b.svg"},
  "formVariables": [{"key": "url", "name": "URL", "type": "uri", "description": "Where."}],
  "capabilities": {"auditLogEventsHook": {
    "endpoint": {"url": "{{{url}}}", "method": "POST", "headers": [{"name": "Content-Type", "value": "application/json"}]},
    "templates": {"default": "templates/default.json.hbs"}
  }}
}
`

func TestValidateReferenceIntegrations(t *testing.T) {
	ref := reftest.Dir(t)
	code, out, errOut := runMain(t, "", "validate", filepath.Join(ref, "integrations"))
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	if !strings.HasSuffix(out, "10 of 10 integrations valid\n") || strings.Contains(out, "FAIL") {
		t.Errorf("output:\n%s", out)
	}
	for _, name := range []string{"appdynamics", "datadog", "honeycomb", "kosli", "msteams", "new-relic-apm", "pagerduty", "sample-integration", "splunk", "zapier"} {
		if !strings.Contains(out, "ok    "+name+"  ") {
			t.Errorf("no ok line for %s", name)
		}
	}
}

func TestValidateBuiltin(t *testing.T) {
	code, out, errOut := runMain(t, "", "validate", "--builtin", "--strict")
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	golden(t, "validate_builtin.golden", out)
}

func TestValidateSeedManifest(t *testing.T) {
	manifest, flag := reftest.SeedManifest(t)
	seed := writeIntegration(t, filepath.Join(t.TempDir(), "seed"), map[string]string{
		"manifest.json":       manifest,
		"templates/flag.json": flag,
	})
	code, out, _ := runMain(t, "", "validate", seed)
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	golden(t, "validate_seed.golden", strings.ReplaceAll(out, seed, "seed"))
}

func TestValidateStrictMakesLintErrors(t *testing.T) {
	dir := writeIntegration(t, filepath.Join(t.TempDir(), "lintme"), map[string]string{
		"manifest.json":              lintManifest,
		"templates/default.json.hbs": "{\n  \"text\": \"{{{title.plainText}}}\",\n  \"ticket\": \"{{{ticketId}}}\"\n}\n",
	})
	finding := filepath.Join(dir, "templates", "default.json.hbs") + `:3:17: `
	code, out, _ := runMain(t, "", "validate", dir)
	if code != 0 || !strings.Contains(out, finding+`warning: lint (templates.default, sample flag context): "ticketId" not defined`) {
		t.Errorf("default: exit %d\n%s", code, out)
	}
	if !strings.Contains(out, "ok    lintme  "+dir+": 1 template (default), 1 form variable, 1 warning\n") {
		t.Errorf("summary line missing:\n%s", out)
	}
	code, out, _ = runMain(t, "", "validate", "--strict", dir)
	if code != 1 || !strings.Contains(out, finding+`lint (templates.default, sample flag context): "ticketId" not defined`) || !strings.Contains(out, "FAIL  lintme  ") {
		t.Errorf("--strict: exit %d\n%s", code, out)
	}
	code, out, _ = runMain(t, "", "validate", "--strict", "--no-lint", dir)
	if code != 0 || strings.Contains(out, "ticketId") {
		t.Errorf("--no-lint: exit %d\n%s", code, out)
	}
}

func TestValidateMixedAndMissing(t *testing.T) {
	tmp := t.TempDir()
	writeIntegration(t, filepath.Join(tmp, "good"), map[string]string{
		"manifest.json":              lintManifest,
		"templates/default.json.hbs": `{"text": "{{{title.plainText}}}"}`,
	})
	writeIntegration(t, filepath.Join(tmp, "bad"), map[string]string{
		"manifest.json": strings.Replace(lintManifest, `"method": "POST"`, `"method": "SEND"`, 1),
	})
	code, out, _ := runMain(t, "", "validate", tmp, filepath.Join(tmp, "nothing-here"))
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	for _, want := range []string{
		filepath.Join(tmp, "nothing-here") + ": cannot read: file does not exist\n",
		filepath.Join(tmp, "bad", "manifest.json") + `:13:48: endpoint.method must be one of "POST", "PUT", "PATCH", "GET", "DELETE", found "SEND"` + "\n",
		filepath.Join(tmp, "bad", "manifest.json") + `:14:30: templates.default names "templates/default.json.hbs", which cannot be read: file does not exist` + "\n",
		"FAIL  bad  " + filepath.Join(tmp, "bad") + ": 2 errors\n",
		"ok    good  " + filepath.Join(tmp, "good") + ": 1 template (default), 1 form variable\n",
		"1 of 2 integrations valid\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestValidateChecksDefaultPolicy(t *testing.T) {
	dir := writeIntegration(t, filepath.Join(t.TempDir(), "pol"), map[string]string{
		"manifest.json": strings.Replace(lintManifest, `"templates": {"default": "templates/default.json.hbs"}`,
			`"templates": {"default": "templates/default.json.hbs"},`+"\n"+`    "defaultPolicy": [{"effect": "permit", "resources": ["proj/*"], "actions": ["*"]}]`, 1),
		"templates/default.json.hbs": `{"text": "{{{title.plainText}}}"}`,
	})
	code, out, _ := runMain(t, "", "validate", dir)
	want := filepath.Join(dir, "manifest.json") + `:15:34: defaultPolicy: statement 0: effect: must be "allow" or "deny", not "permit"` + "\n"
	if code != 1 || !strings.HasPrefix(out, want) {
		t.Errorf("exit %d\n%s\nwant first line %s", code, out, want)
	}
}
