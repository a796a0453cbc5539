package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/auditrelay/auditrelay/core/auditlog"
	"github.com/auditrelay/auditrelay/core/mask"
	"github.com/auditrelay/auditrelay/core/reftest"

	"github.com/auditrelay/auditrelay/core/jsonv"
)

const slackURL = "https://hooks.slack.com/services/T0000/B0000/XXXXXXXXXXXXXXXXXXXXXXXX"

func TestRenderBuiltinGolden(t *testing.T) {
	tests := []struct {
		golden string
		args   []string
		stderr string
	}{
		{"render_slack_flag.golden", []string{"--integration", "slack", "--sample", "flag", "--set", "webhookUrl=" + slackURL},
			"auditrelay: secret values are masked; use --reveal to show them\n"},
		{"render_msteams_project.golden", []string{"--integration", "msteams-card", "--sample", "project", "--set", "webhookUrl=https://prod.example.logic.azure.com/workflows/1?sig=abc", "--reveal"}, ""},
		{"render_slack_validation.golden", []string{"--integration", "slack", "--sample", "member", "--template", "validation", "--set", "webhookUrl=" + slackURL, "--reveal"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			code, out, errOut := runMain(t, "", append([]string{"render"}, tt.args...)...)
			if code != 0 || errOut != tt.stderr {
				t.Fatalf("exit %d, stderr %q", code, errOut)
			}
			golden(t, tt.golden, out)
			if _, err := jsonv.DecodeString(out); err != nil {
				t.Errorf("output is not JSON: %v", err)
			}
		})
	}
}

func TestRenderMasksSecrets(t *testing.T) {
	code, out, _ := runMain(t, "", "render", "--integration", "slack", "--sample", "flag", "--set", "webhookUrl="+slackURL)
	if code != 0 || strings.Contains(out, slackURL) || !strings.Contains(out, `"url": "`+mask.Masked+`"`) {
		t.Errorf("masked: exit %d\n%s", code, out)
	}
	code, out, _ = runMain(t, "", "render", "--integration", "slack", "--sample", "flag", "--set", "webhookUrl="+slackURL, "--reveal")
	if code != 0 || !strings.Contains(out, `"url": "`+slackURL+`"`) {
		t.Errorf("revealed: exit %d\n%s", code, out)
	}
}

// readPair returns a golden pair of the reference index.
func readPair(t *testing.T, ref, integration, context string) jsonv.Value {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(ref, "golden", "index.json"))
	if err != nil {
		t.Fatal(err)
	}
	index, err := jsonv.Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range index.Get("pairs").Elems() {
		if p.Get("integration").Text() == integration && p.Get("context").Text() == context {
			return p
		}
	}
	t.Fatalf("no golden pair %s/%s", integration, context)
	return jsonv.Value{}
}

// The body printed by render must round-trip exactly: decoding the output
// gives the reference golden body byte for byte.
func TestRenderReferenceRoundTrip(t *testing.T) {
	ref := reftest.Dir(t)
	const ctx = "sample-context/flag/update-all-environments.json"
	pair := readPair(t, ref, "datadog", ctx)
	vars := filepath.Join(t.TempDir(), "vars.json")
	if err := os.WriteFile(vars, jsonv.Marshal(pair.Get("formVariables")), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runMain(t, "", "--integrations-dir", filepath.Join(ref, "integrations"), "render",
		"--integration", "datadog", "--context", filepath.Join(ref, ctx), "--vars", vars, "--reveal")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	got, err := jsonv.DecodeString(out)
	if err != nil {
		t.Fatal(err)
	}
	gdata, err := os.ReadFile(filepath.Join(ref, "golden", pair.Get("golden").Text()))
	if err != nil {
		t.Fatal(err)
	}
	want, _ := jsonv.Decode(gdata)
	for _, k := range []string{"template", "method", "url", "headers", "body"} {
		if string(jsonv.Marshal(got.Get(k))) != string(jsonv.Marshal(want.Get(k))) {
			t.Errorf("%s:\n got %s\nwant %s", k, jsonv.Marshal(got.Get(k)), jsonv.Marshal(want.Get(k)))
		}
	}
	// Without --reveal the API key header is masked, nothing else changes.
	code, out, _ = runMain(t, "", "--integrations-dir", filepath.Join(ref, "integrations"), "render",
		"--integration", "datadog", "--context", filepath.Join(ref, ctx), "--vars", vars)
	masked, _ := jsonv.DecodeString(out)
	if code != 0 || masked.Get("headers").Index(1).Get("value").Text() != mask.Masked || masked.Get("body").Text() != want.Get("body").Text() {
		t.Errorf("masked output:\n%s", out)
	}
}

func TestRenderSkipped(t *testing.T) {
	ref := reftest.Dir(t)
	code, out, errOut := runMain(t, "", "render", "--integration", filepath.Join(ref, "integrations", "honeycomb"),
		"--context", filepath.Join(ref, "sample-context", "project", "update.json"), "--set", "datasetName=prod", "--set", "apiKey=k")
	if code != 0 || out != "{\n  \"template\": null,\n  \"skipped\": \"no-template\"\n}\n" {
		t.Errorf("exit %d stderr %q\n%s", code, errOut, out)
	}
}

// A standard-payload hook sends the entry it was given, byte for byte,
// signed with the secret.
func TestRenderEntryStandardPayload(t *testing.T) {
	entry := filepath.Join("..", "..", "core", "auditlog", "testdata", "entries", "flag-toggle.json")
	raw, err := os.ReadFile(entry)
	if err != nil {
		t.Skipf("core/auditlog fixture missing: %v", err)
	}
	code, out, errOut := runMain(t, "", "render", "--integration", "webhook", "--entry", entry,
		"--set", "url=https://hooks.example.com/ld", "--set", "secret=whsec-0123456789", "--reveal")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	v, err := jsonv.DecodeString(out)
	if err != nil {
		t.Fatal(err)
	}
	if v.Get("body").Text() != string(raw) || v.Get("template").Kind() != jsonv.Null {
		t.Errorf("body is not the raw entry:\n%s", out)
	}
	// What the receiver would check it with.
	sig := v.Get("headers").Index(2)
	signature := sig.Get("value").Text()
	if sig.Get("name").Text() != auditlog.SignatureHeader || auditlog.Verify([]byte("whsec-0123456789"), raw, signature) != nil {
		t.Errorf("signature header = %s", jsonv.Marshal(sig))
	}
	// Without --reveal the signature is masked, as everywhere else.
	_, out, _ = runMain(t, "", "render", "--integration", "webhook", "--entry", entry,
		"--set", "url=https://hooks.example.com/ld", "--set", "secret=whsec-0123456789")
	if !strings.Contains(out, `"value": "`+mask.Masked+`"`) || strings.Contains(out, signature) {
		t.Errorf("masked signature:\n%s", out)
	}
	// With only a context there is no entry to send.
	code, out, _ = runMain(t, "", "render", "--integration", "webhook", "--sample", "flag", "--set", "url=https://hooks.example.com/ld")
	if code != 0 || !strings.Contains(out, `"skipped": "no-raw-entry"`) {
		t.Errorf("exit %d\n%s", code, out)
	}
}

func TestRenderStdinContext(t *testing.T) {
	ctx := `{"kind": "segment", "name": "Beta \"users\"", "title": {"plainText": "x"}, "member": {"email": "a@b.c", "displayName": "A"}, "project": {"name": "", "environment": {"name": ""}}, "details": {"plainText": ""}, "timestamp": {"seconds": 1, "simple": "s"}, "verbKind": "v", "titleVerb": "t"}`
	code, out, errOut := runMain(t, ctx, "render", "--integration", "slack", "--context", "-", "--set", "webhookUrl=https://h.example.com/x")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	v, _ := jsonv.DecodeString(out)
	body, err := jsonv.DecodeString(v.Get("body").Text())
	if err != nil {
		t.Fatalf("body is not JSON: %v\n%s", err, v.Get("body").Text())
	}
	if got := body.Get("blocks").Index(0).Path("text", "text").Text(); !strings.Contains(got, `*Beta "users"*`) {
		t.Errorf("first block = %q", got)
	}
}

func TestRenderErrors(t *testing.T) {
	tmp := t.TempDir()
	write := func(name, data string) string {
		p := filepath.Join(tmp, name)
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	badJSON := write("bad.json", "{\n  \"kind\": \"flag\",\n}\n")
	arrayVars := write("vars.json", `["x"]`)
	goodVars := write("good.json", `{"webhookUrl": "https://h.example.com/x", "channel": "#ops"}`)
	tests := []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"no integration", []string{"--sample", "flag"}, 2, "auditrelay: render: --integration NAME|DIR is required\n"},
		{"no source", []string{"--integration", "slack"}, 2, "auditrelay: render: give exactly one of --context FILE, --entry FILE or --sample KIND\n"},
		{"two sources", []string{"--integration", "slack", "--sample", "flag", "--context", badJSON}, 2, "auditrelay: render: give exactly one of --context FILE, --entry FILE or --sample KIND\n"},
		{"unknown integration", []string{"--integration", "slak", "--sample", "flag"}, 2, "auditrelay: render: unknown integration \"slak\" (known: msteams-card, slack, webhook); did you mean \"slack\"?\n"},
		{"unknown template key", []string{"--integration", "slack", "--sample", "flag", "--template", "flags"}, 2, "auditrelay: render: --template \"flags\": expected one of flag, project, environment, member, default, validation\n"},
		{"unknown sample", []string{"--integration", "slack", "--sample", "metric", "--set", "webhookUrl=x"}, 2, "auditrelay: render: --sample: no sample context \"metric\" (available: environment, flag, member, project, segment)\n"},
		{"malformed context", []string{"--integration", "slack", "--context", badJSON, "--set", "webhookUrl=x"}, 2, "auditrelay: render: " + badJSON + ":3:1: trailing comma before '}': expected another member name\n"},
		{"missing context file", []string{"--integration", "slack", "--context", filepath.Join(tmp, "none.json"), "--set", "webhookUrl=x"}, 2, "auditrelay: render: --context: open " + filepath.Join(tmp, "none.json") + ": no such file or directory\n"},
		{"vars not an object", []string{"--integration", "slack", "--sample", "flag", "--vars", arrayVars}, 2, "auditrelay: render: " + arrayVars + ": expected a JSON object of form-variable values, found array\n"},
		{"unknown and missing vars", []string{"--integration", "slack", "--sample", "flag", "--vars", goodVars}, 2, "auditrelay: render: form variables:\n  unknown form variable \"channel\" (declared: webhookUrl)\n"},
		{"required var missing", []string{"--integration", "webhook", "--sample", "flag"}, 2, "auditrelay: render: form variables:\n  form variable \"url\" (Endpoint URL) is required (for example \"https://hooks.example.com/launchdarkly\")\n"},
		{"bad uri", []string{"--integration", "webhook", "--sample", "flag", "--set", "url=hooks.example.com"}, 2, "auditrelay: render: form variables:\n  form variable \"url\" (Endpoint URL) must be an absolute URL with scheme and host (such as https://hooks.example.com/path), found \"hooks.example.com\"\n"},
		{"bad set", []string{"--integration", "slack", "--sample", "flag", "--set", "webhookUrl"}, 2, "auditrelay: render: --set \"webhookUrl\": expected KEY=VALUE\n"},
		{"set unknown", []string{"--integration", "slack", "--sample", "flag", "--set", "hook=x"}, 2, "auditrelay: render: --set: unknown form variable \"hook\" (declared: webhookUrl)\n"},
		{"standard payload has no templates", []string{"--integration", "webhook", "--sample", "flag", "--set", "url=https://x.example.com", "--template", "flag"}, 2, "auditrelay: render: --template: webhook sends the standard webhook payload; it has no templates\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runMain(t, "", append([]string{"render"}, tt.args...)...)
			if code != tt.code || errOut != tt.stderr || out != "" {
				t.Errorf("exit %d, stderr:\n%s\nwant exit %d, stderr:\n%s\nstdout: %s", code, errOut, tt.code, tt.stderr, out)
			}
		})
	}
}
