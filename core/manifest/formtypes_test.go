package manifest_test

import (
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/auditrelay/auditrelay/core/jsonv"
	"github.com/auditrelay/auditrelay/core/manifest"
	"github.com/auditrelay/auditrelay/core/reftest"
)

// selectorManifest declares the two form-variable types no reference
// integration uses, so their rules are tested on a manifest of our own.
const selectorManifest = `{
  "name": "Selectors", "version": "1.0.0", "overview": "Selectors.",
  "description": "Form variables that LaunchDarkly fills from pickers in its own UI.",
  "author": "auditrelay tests", "supportEmail": "tests@example.com",
  "links": {"site": "https://example.com", "privacyPolicy": "https://example.com/privacy"},
  "categories": ["monitoring"], "icons": {"square": "a.svg", "horizontal": "b.svg"},
  "formVariables": [
    {"key": "envs", "name": "Environments", "type": "environmentSelector", "description": "Which environments."},
    {"key": "kinds", "name": "Kinds", "type": "multiselect", "description": "Which kinds.", "multiselectOptions": [{"label": "Flags", "value": "flag"}, {"label": "Segments", "value": "segment"}]}
  ],
  "capabilities": {"auditLogEventsHook": {"endpoint": {"url": "https://example.com/hook", "method": "POST"}, "templates": {}}}
}`

// TestCheckValueByType checks each form-variable type's rule on the
// reference integrations' manifests: what an operator may type into the
// console's form for that variable, and the message when not.
func TestCheckValueByType(t *testing.T) {
	ref := reftest.Dir(t)
	load := func(name string) *manifest.Manifest {
		in, probs := manifest.LoadDir(filepath.Join(ref, "integrations", name))
		if in == nil {
			t.Fatalf("%s: %v", name, probs)
		}
		return in.Manifest
	}
	sel, probs := manifest.LoadFS(fstest.MapFS{"manifest.json": {Data: []byte(selectorManifest)}}, ".", "selectors", "selectors")
	if sel == nil {
		t.Fatal(probs)
	}
	manifests := map[string]*manifest.Manifest{"selectors": sel.Manifest}
	str, arr := jsonv.Str, func(ss ...string) jsonv.Value {
		var vs []jsonv.Value
		for _, s := range ss {
			vs = append(vs, jsonv.Str(s))
		}
		return jsonv.Arr(vs...)
	}
	tests := []struct {
		integration, key, typ string
		value                 jsonv.Value
		want                  string // "" = accepted, else a part of the message
	}{
		// uri: absolute, with scheme and host.
		{"zapier", "url", "uri", str("https://hooks.zapier.com/hooks/catch/1/abc"), ""},
		{"zapier", "url", "uri", str("q"), "must be an absolute URL with scheme and host"},
		{"zapier", "url", "uri", str("hooks.zapier.com/x"), "must be an absolute URL"},
		{"zapier", "url", "uri", str("https:///path-only"), "must be an absolute URL"},
		{"zapier", "url", "uri", str(""), "is required and cannot be empty"},
		{"msteams", "url", "uri", jsonv.Boolean(true), "must be a URL string"},
		{"sample-integration", "URL", "uri", str(""), ""}, // optional: empty falls back to the default
		// enum: one of allowedValues.
		{"datadog", "hostURL", "enum", str("https://api.datadoghq.eu"), ""},
		{"datadog", "hostURL", "enum", str("https://api.datadoghq.de"), `must be one of "https://api.datadoghq.com"`},
		{"new-relic-apm", "domain", "enum", str("api.eu.newrelic.com"), ""},
		{"new-relic-apm", "domain", "enum", str("API.EU.NEWRELIC.COM"), "must be one of"},
		// boolean: true or false, never text.
		{"datadog", "hideMemberDetails", "boolean", jsonv.Boolean(true), ""},
		{"splunk", "skip-ca-verification", "boolean", jsonv.Boolean(false), ""},
		{"splunk", "skip-ca-verification", "boolean", str("yes"), "must be true or false"},
		// string: required ones cannot be empty or blank; secrets alike.
		{"pagerduty", "integrationKey", "string", str("R0123456789ABCDEF"), ""},
		{"pagerduty", "integrationKey", "string", str(""), "is required and cannot be empty"},
		{"honeycomb", "apiKey", "string (secret)", str("   "), "is required and cannot be empty"},
		{"kosli", "secret", "string (secret)", str("s3cret"), ""},
		{"sample-integration", "optional", "string", str(""), ""},
		// dynamicEnum: one choice from the service's list, which the relay
		// cannot fetch: one non-empty line.
		{"sample-integration", "color", "dynamicEnum", str("blue"), ""},
		{"sample-integration", "color", "dynamicEnum", str(""), "is required and cannot be empty"},
		{"sample-integration", "color", "dynamicEnum", str("blue\nred"), "one choice on one line"},
		{"sample-integration", "color", "dynamicEnum", arr("blue"), "must be one choice"},
		// environmentSelector: environment keys.
		{"selectors", "envs", "environmentSelector", arr("production", "test-1"), ""},
		{"selectors", "envs", "environmentSelector", str("production"), ""},
		{"selectors", "envs", "environmentSelector", arr("prod env"), "not an environment key"},
		{"selectors", "envs", "environmentSelector", arr(), "is required and cannot be empty"},
		// multiselect: values among multiselectOptions.
		{"selectors", "kinds", "multiselect", arr("flag", "segment"), ""},
		{"selectors", "kinds", "multiselect", arr("metric"), `lists "metric", which is not one of "flag", "segment"`},
		{"selectors", "kinds", "multiselect", str("flag"), "must be a list of strings"},
		// unknown keys are named.
		{"zapier", "URL", "-", str("https://x.example.com"), `unknown form variable "URL"`},
	}
	for _, tt := range tests {
		name := tt.integration + "/" + tt.key + "=" + string(jsonv.Marshal(tt.value))
		t.Run(name, func(t *testing.T) {
			m := manifests[tt.integration]
			if m == nil {
				m = load(tt.integration)
				manifests[tt.integration] = m
			}
			if fv := m.FormVariable(tt.key); fv != nil && !strings.HasPrefix(tt.typ, string(fv.Type)) {
				t.Fatalf("%s is a %s, the case says %s", tt.key, fv.Type, tt.typ)
			}
			got := m.CheckValue(tt.key, tt.value)
			switch {
			case tt.want == "" && got != "":
				t.Errorf("refused: %s", got)
			case tt.want != "" && !strings.Contains(got, tt.want):
				t.Errorf("got %q, want it to say %q", got, tt.want)
			case tt.want != "" && !strings.Contains(got, tt.key):
				t.Errorf("message %q does not name %s", got, tt.key)
			}
		})
	}
}
