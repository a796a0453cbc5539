package devkit_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/auditrelay/auditrelay/core/devkit"
	"github.com/auditrelay/auditrelay/core/jsonv"
	"github.com/auditrelay/auditrelay/core/mask"
)

// The commands' own tests (cmd/auditrelay) hold the golden outputs; these
// check the contract the commands rely on: what is bad input, what is a
// failure, and what goes to which stream.

func streams(stdin string) (devkit.Streams, *bytes.Buffer, *bytes.Buffer) {
	var out, errOut bytes.Buffer
	return devkit.Streams{In: strings.NewReader(stdin), Out: &out, Err: &errOut}, &out, &errOut
}

func TestRenderErrorsAreClassified(t *testing.T) {
	dir := t.TempDir()
	broken := filepath.Join(dir, "broken.hbs")
	for name, tc := range map[string]struct {
		o     devkit.RenderOptions
		input bool // bad usage or input: exit 2
		want  string
	}{
		"no integration":  {devkit.RenderOptions{Sample: "flag"}, true, "--integration NAME|DIR is required"},
		"two sources":     {devkit.RenderOptions{Integration: "slack", Sample: "flag", ContextFile: "x.json"}, true, "give exactly one of"},
		"unknown":         {devkit.RenderOptions{Integration: "nope", Sample: "flag"}, true, "nope"},
		"bad template":    {devkit.RenderOptions{Integration: "slack", Sample: "flag", Template: "body"}, true, `--template "body": expected one of`},
		"missing file":    {devkit.RenderOptions{Integration: "slack", ContextFile: filepath.Join(dir, "nope.json"), Sets: []string{"webhookUrl=https://hooks.slack.com/services/T/B/X"}}, true, "no such file"},
		"missing var":     {devkit.RenderOptions{Integration: "slack", Sample: "flag"}, true, "form variables"},
		"bad set":         {devkit.RenderOptions{Integration: "slack", Sample: "flag", Sets: []string{"novalue"}}, true, `--set "novalue": expected KEY=VALUE`},
		"stdin twice":     {devkit.RenderOptions{Integration: "slack", ContextFile: "-", VarsFile: "-"}, true, "only one input can be read from stdin"},
		"not a directory": {devkit.RenderOptions{Integration: broken, Sample: "flag"}, true, "broken.hbs"},
	} {
		t.Run(name, func(t *testing.T) {
			s, out, _ := streams("")
			err := devkit.Render(tc.o, s)
			var ie *devkit.InputError
			if err == nil || errors.As(err, &ie) != tc.input || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Render = %v (input error %v), want input error %v with %q", err, errors.As(err, &ie), tc.input, tc.want)
			}
			if out.Len() != 0 {
				t.Errorf("printed %q on error", out.String())
			}
		})
	}
}

// TestRenderMasksUnlessRevealed: the request is printed as JSON on stdout
// with the signature made from the secret masked, and the note that it is
// masked on stderr; --reveal shows it.
func TestRenderMasksUnlessRevealed(t *testing.T) {
	o := devkit.RenderOptions{Integration: "webhook", EntryFile: "-", Sets: []string{"url=https://hooks.example.com/ld", "secret=whsec-0123456789"}}
	s, out, errOut := streams(entry)
	if err := devkit.Render(o, s); err != nil {
		t.Fatal(err)
	}
	v, err := jsonv.DecodeString(out.String())
	if err != nil || v.Get("method").Text() != "POST" || v.Get("body").Text() != entry {
		t.Fatalf("stdout is not the request as JSON: %v\n%s", err, out)
	}
	sig := v.Get("headers").Index(2)
	if sig.Get("name").Text() != "X-LD-Signature" || sig.Get("value").Text() != mask.Masked || !strings.Contains(errOut.String(), "--reveal") {
		t.Errorf("masked render: signature %s, stderr %q", jsonv.Marshal(sig), errOut)
	}

	o.Reveal = true
	s, out, errOut = streams(entry)
	if err := devkit.Render(o, s); err != nil {
		t.Fatal(err)
	}
	v, err = jsonv.DecodeString(out.String())
	if err != nil {
		t.Fatal(err)
	}
	if got := v.Get("headers").Index(2).Get("value").Text(); len(got) != 64 || errOut.Len() != 0 {
		t.Errorf("revealed render: signature %q, stderr %q", got, errOut)
	}
}

// TestValidateCountsErrors: Validate returns the number of errors it
// printed, warnings aside, so the command can exit 1 on any.
func TestValidateCountsErrors(t *testing.T) {
	var out bytes.Buffer
	if n := devkit.Validate(&out, devkit.ValidateOptions{Builtin: true, Lint: true}); n != 0 {
		t.Fatalf("the built-ins have %d errors:\n%s", n, out.String())
	}
	if !strings.Contains(out.String(), "integrations valid\n") {
		t.Errorf("no summary line:\n%s", out.String())
	}

	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "manifest.json"), []byte(`{"name": `), 0o600); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if n := devkit.Validate(&out, devkit.ValidateOptions{Paths: []string{dir}}); n == 0 || !strings.Contains(out.String(), filepath.Join(dir, "manifest.json")+":1:") || !strings.Contains(out.String(), "FAIL") {
		t.Errorf("a broken manifest: %d errors:\n%s", n, out.String())
	}
}

const entry = `{"_id":"e1","date":1737540002113,"kind":"flag","name":"Checkout","title":"turned on the flag","accesses":[{"action":"updateOn","resource":"proj/p:env/production:flag/checkout"}],"member":{"_id":"m1","email":"ops@example.com"}}`

// TestContextReadsStdin: an entry on standard input prints its context on
// stdout; a malformed one is bad input, located in <stdin>.
func TestContextReadsStdin(t *testing.T) {
	s, out, _ := streams(entry)
	if err := devkit.Context("-", "https://app.launchdarkly.com", s); err != nil {
		t.Fatal(err)
	}
	v, err := jsonv.DecodeString(out.String())
	if err != nil || v.Get("kind").Text() != "flag" || v.Get("name").Text() != "Checkout" {
		t.Fatalf("context = %v\n%s", err, out.String())
	}

	s, out, _ = streams("{\n  \"_id\": \"a\",\n}")
	err = devkit.Context("-", "https://app.launchdarkly.com", s)
	var ie *devkit.InputError
	if !errors.As(err, &ie) || !strings.HasPrefix(err.Error(), "<stdin>:3:1: ") || out.Len() != 0 {
		t.Errorf("malformed entry on stdin: %v (stdout %q)", err, out.String())
	}
}

// secretDefaultManifest is an integration with a secret form variable
// that has a default.
const secretDefaultManifest = `{
  "name": "Secret default",
  "version": "1.0.0",
  "overview": "Integration for listing tests.",
  "description": "Its token has a default, which a listing must not show.",
  "author": "auditrelay tests",
  "supportEmail": "tests@example.com",
  "links": {"site": "https://example.com", "privacyPolicy": "https://example.com/privacy"},
  "categories": ["monitoring"],
  "icons": {"square": "a.svg", "horizontal": "b.svg"},
  "formVariables": [
    {"key": "url", "name": "URL", "type": "uri", "description": "Where."},
    {"key": "token", "name": "Token", "type": "string", "description": "Token.", "isSecret": true, "isOptional": true, "defaultValue": "tok-default-0123"}
  ],
  "capabilities": {"auditLogEventsHook": {
    "endpoint": {"url": "{{{url}}}", "method": "POST", "headers": [{"name": "Authorization", "value": "Bearer {{token}}"}]},
    "templates": {"default": "templates/default.json.hbs"}
  }}
}
`

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// TestListIntegrations: the table lists the built-ins and the directory's
// integrations; secret defaults are masked in both forms; an integration
// that fails to load is named on stderr only.
func TestListIntegrations(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"broken/manifest.json":                 `{"name": `,
		"secretdef/manifest.json":              secretDefaultManifest,
		"secretdef/templates/default.json.hbs": `{"text": "{{{title.plainText}}}"}`,
	})
	s, out, errOut := streams("")
	if err := devkit.ListIntegrations([]string{dir}, false, s); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"NAME", "slack", "webhook", "builtin", "secretdef", "token", mask.Masked} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "tok-default") || strings.Contains(out.String(), "broken") || !strings.Contains(errOut.String(), filepath.Join(dir, "broken", "manifest.json")+": 1 problem, integration skipped") {
		t.Errorf("broken integration: stdout\n%s\nstderr %q", out.String(), errOut.String())
	}

	s, out, _ = streams("")
	if err := devkit.ListIntegrations([]string{dir}, true, s); err != nil {
		t.Fatal(err)
	}
	v, err := jsonv.DecodeString(out.String())
	if err != nil || v.Len() != 4 {
		t.Fatalf("JSON listing (3 built-ins and 1 more): %v\n%s", err, out.String())
	}
	var token jsonv.Value
	for _, in := range v.Elems() {
		if in.Get("name").Text() == "secretdef" {
			token = in.Get("formVariables").Index(1)
		}
	}
	if token.Get("key").Text() != "token" || !token.Get("secret").Bool() || token.Get("default").Text() != mask.Masked {
		t.Errorf("secret form variable listed as %s", jsonv.Marshal(token))
	}
}
