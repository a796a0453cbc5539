package manifest

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/auditrelay/auditrelay/core/reftest"
	"github.com/auditrelay/auditrelay/templates"
)

// The seed guide's example manifest, as published: four missing commas in
// the defaultPolicy action lists and a trailing comma after the last
// statement. A JSON parser stops at the first; the loader repairs each in
// a scratch copy to report all five at their place in the original. The
// manifest is read from the guide in ../shared, not kept here.
func TestSeedManifestSyntaxErrors(t *testing.T) {
	manifest, flag := reftest.SeedManifest(t)
	dir := writeSeed(t, manifest, flag)
	_, probs := Load(dir)
	file := filepath.Join(dir, "manifest.json")
	want := []string{
		file + `:62:23: invalid JSON: missing ',' after array element (the next value starts at 63:1)`,
		file + `:64:14: invalid JSON: missing ',' after array element (the next value starts at 65:1)`,
		file + `:76:16: invalid JSON: missing ',' after array element (the next value starts at 77:1)`,
		file + `:78:17: invalid JSON: missing ',' after array element (the next value starts at 79:1)`,
		file + `:81:2: invalid JSON: trailing comma before ']' (JSON allows no comma after the last array element)`,
	}
	var got []string
	for _, p := range probs {
		got = append(got, p.String())
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// With the commas fixed the guide's manifest is valid.
	ins, probs := Load(filepath.Join(writeSeed(t, fixSeed(manifest), flag), "manifest.json"))
	if len(ins) != 1 || len(probs) != 0 {
		t.Errorf("fixed seed manifest: %d integrations, problems:\n%v", len(ins), probs)
	}
}

// writeSeed lays the guide's integration out as a directory.
func writeSeed(t *testing.T, manifest, flag string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "seed")
	if err := os.MkdirAll(filepath.Join(dir, "templates"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "manifest.json"), []byte(manifest), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "templates", "flag.json"), []byte(flag), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// fixSeed adds the missing commas (a line ending in a string followed by a
// line starting with one, as the guide's action lists are laid out) and
// drops the trailing one.
func fixSeed(manifest string) string {
	fixed := regexp.MustCompile(`"\n"`).ReplaceAllString(manifest, "\",\n\"")
	return strings.Replace(fixed, "},\n]", "}\n]", 1)
}

func TestSyntaxErrors(t *testing.T) {
	tests := []struct{ src, want string }{
		{`{"a": 1 "b": 2}`, `m:1:8: invalid JSON: missing ',' after object member "a" (the next value starts at 1:9)`},
		{`{"a": [1, 2,], "b": {"c": 1,}}`, "m:1:12: invalid JSON: trailing comma before ']' (JSON allows no comma after the last array element)\n" +
			"m:1:28: invalid JSON: trailing comma before '}' (JSON allows no comma after the last object member)"},
		{"{\n  \"a\": tru\n}", `m:2:8: invalid JSON: invalid literal: expected "true"`},
		{`{"a": 1} x`, `m:1:10: invalid JSON: unexpected "x" after the JSON value`},
		{``, `m:1:1: invalid JSON: expected a JSON value, found end of input`},
		// After a repair the scan goes on until an error it cannot repair.
		{"[1 2, 3 ]]", "m:1:3: invalid JSON: missing ',' after array element (the next value starts at 1:4)\n" +
			`m:1:10: invalid JSON: unexpected "]" after the JSON value`},
	}
	for _, tt := range tests {
		_, probs := decodeJSON("m", tt.src)
		if got := probs.Error(); got != tt.want {
			t.Errorf("decodeJSON(%q):\n got: %s\nwant: %s", tt.src, got, tt.want)
		}
	}
}

func TestScanModes(t *testing.T) {
	ref := reftest.Dir(t)
	dir := filepath.Join(ref, "integrations")

	results, probs := Scan(dir)
	if len(results) != 10 || len(probs) != 0 {
		t.Fatalf("Scan(integrations): %d results, %v", len(results), probs)
	}
	if results[0].Name != "appdynamics" || results[0].Path != filepath.Join(dir, "appdynamics") {
		t.Errorf("first result = %s at %s", results[0].Name, results[0].Path)
	}
	for _, p := range []string{filepath.Join(dir, "kosli"), filepath.Join(dir, "kosli", "manifest.json")} {
		ins, probs := Load(p)
		if len(ins) != 1 || ins[0].Name != "kosli" || len(probs) != 0 {
			t.Errorf("Load(%s) = %d integrations, %v", p, len(ins), probs)
		}
	}
	_, probs = Load(filepath.Join(dir, "kosli", "nope"))
	if probs.Error() != filepath.Join(dir, "kosli", "nope")+": cannot read: file does not exist" {
		t.Errorf("missing path: %v", probs)
	}
	_, probs = Load(filepath.Join(ref, "golden", "index.json"))
	if !strings.HasSuffix(probs.Error(), "index.json: not an integration: expected a directory or a manifest.json file") {
		t.Errorf("non-manifest file: %v", probs)
	}
	_, probs = Load(filepath.Join(ref, "framework"))
	if !strings.HasSuffix(probs.Error(), "framework: no integration found: expected manifest.json in the directory or in its subdirectories") {
		t.Errorf("empty dir: %v", probs)
	}
}

func TestLoadReferenceDecodesEveryField(t *testing.T) {
	ref := reftest.Dir(t)
	in, probs := LoadDir(filepath.Join(ref, "integrations", "sample-integration"))
	if in == nil {
		t.Fatal(probs)
	}
	color := in.Manifest.FormVariable("color")
	if color == nil || color.Type != TypeDynamicEnum || color.DynamicOptions == nil ||
		color.DynamicOptions.Endpoint.URL != "https://reqres.in/api/unknown" || color.DynamicOptions.Parser.OptionsItems.Value != "/color" {
		t.Errorf("color = %+v", color)
	}
	if fv := in.Manifest.FormVariable("hasDefault"); fv.DefaultValue.Text() != "I'm the default value" || fv.Placeholder != "I'm a placeholder" {
		t.Errorf("hasDefault = %+v", fv)
	}
	h := in.Hook()
	if !h.IncludeErrorResponseBody || h.Templates.Environment != "templates/environment.html.hbs" || in.Template("environment").JSON {
		t.Errorf("hook = %+v", h)
	}
	k, _ := LoadDir(filepath.Join(ref, "integrations", "kosli"))
	if k == nil || !k.Hook().UseStandardWebhookPayload || k.Hook().Endpoint.HMACSignature.HeaderName != "X-LD-Signature" {
		t.Errorf("kosli = %+v", k)
	}
	d, _ := LoadDir(filepath.Join(ref, "integrations", "datadog"))
	if d == nil || len(d.Manifest.Capabilities.Other) != 2 || d.Manifest.Capabilities.Other[1].Name != "trigger" {
		t.Errorf("datadog other capabilities = %+v", d.Manifest.Capabilities.Other)
	}
}

func TestCatalog(t *testing.T) {
	ref := reftest.Dir(t)
	c := NewCatalog()
	if probs := c.AddBuiltins(templates.FS()); len(probs) != 0 {
		t.Fatal(probs)
	}
	if probs := c.AddDir(filepath.Join(ref, "integrations")); len(probs) != 0 {
		t.Fatal(probs)
	}
	if n := len(c.All()); n != 13 {
		t.Errorf("catalog holds %d integrations, want 13", n)
	}
	for ref, want := range map[string]string{
		"slack":   "<builtin>/slack",
		"datadog": filepath.Join(ref, "integrations", "datadog"),
		filepath.Join(ref, "integrations", "zapier", "manifest.json"): filepath.Join(ref, "integrations", "zapier"),
	} {
		in, err := c.Lookup(ref)
		if err != nil || in.Path != want {
			t.Errorf("Lookup(%q) = %v, %v; want path %s", ref, in, err, want)
		}
	}
	if _, err := c.Lookup("slak"); err == nil || !strings.Contains(err.Error(), `unknown integration "slak"`) || !strings.Contains(err.Error(), `did you mean "slack"?`) {
		t.Errorf("Lookup(slak) error = %v", err)
	}
	// A directory integration replaces the built-in of the same name.
	tmp := t.TempDir()
	data, err := os.ReadFile(filepath.Join(ref, "integrations", "kosli", "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(tmp, "webhook"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(tmp, "webhook", "manifest.json"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	c.AddDir(tmp)
	if in := c.Get("webhook"); in == nil || in.Builtin || in.Manifest.Name != "Kosli" {
		t.Errorf("webhook after override = %+v", in)
	}
}

func TestTemplateRefs(t *testing.T) {
	tests := []struct{ src, want string }{
		{`{{apiKey}}/{{context.kind}}`, "apiKey context.kind"},
		{`{{#if domain}}{{domain}}{{else}}x{{/if}}`, "domain domain"},
		{`{{{basicAuthHeaderValue user secret}}}`, "user secret"},
		{`{{queryEncode 'lit'}}{{queryEncode context.title.html}}`, "context.title.html"},
		{`{{#each tags}}{{this}}{{name}}{{../formVariables.a}}{{@root.formVariables.b}}{{/each}}{{formVariables.c}}`, "tags formVariables.a formVariables.b formVariables.c"},
		{`{{#with customProperties}}{{#each datadog.values}}{{this}}{{/each}}{{/with}}`, "customProperties"},
		{`{{#each xs}}{{else}}{{formVariables.empty}}{{/each}}`, "xs formVariables.empty"},
		{`{{#each xs as |x|}}{{x.name}}{{/each}}{{!-- {{ignored}} --}}{{! {{also}} }}`, "xs"},
		{`\{{escaped}} {{#equal kind 'flag'}}{{[base-url]}}{{base-url}}{{/equal}}`, "kind base-url base-url"},
		{`{{lookup formVariables "x"}} {{formatWithOffset (lookup timestamp 'milliseconds') 60 'simple'}}`, "formVariables timestamp"},
		{`{{> partial arg}} {{log level="warn" message}}`, "arg message"},
	}
	for _, tt := range tests {
		var got []string
		for _, r := range TemplateRefs(tt.src) {
			got = append(got, strings.Join(r.Segs, "."))
		}
		if strings.Join(got, " ") != tt.want {
			t.Errorf("TemplateRefs(%q) = %q, want %q", tt.src, strings.Join(got, " "), tt.want)
		}
	}
}

func TestStandardPayloadForbidsTemplatesDir(t *testing.T) {
	fsys := fstest.MapFS{
		"manifest.json":    {Data: []byte(strings.Replace(baseManifest, `"templates": {"flag": "templates/flag.json.hbs", "default": "templates/default.json.hbs"},`, `"templates": {}, "useStandardWebhookPayload": true,`, 1))},
		"templates/README": {Data: []byte("leftover")},
	}
	_, probs := LoadFS(fsys, ".", "x", "x")
	if probs.Error() != `x/manifest.json:22:24: useStandardWebhookPayload is true, so the integration must not have a templates/ directory (found x/templates)` {
		t.Errorf("got %v", probs)
	}
	delete(fsys, "templates/README")
	if in, probs := LoadFS(fsys, ".", "x", "x"); in == nil || len(probs) != 0 {
		t.Errorf("without templates/: %v", probs)
	}
}
