package manifest

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/auditrelay/auditrelay/core/jsonv"
)

const valuesManifest = `{
  "name": "Values test",
  "version": "1.0.0",
  "overview": "Form values test.",
  "description": "An integration whose form variables cover every kind of operator value check.",
  "author": "auditrelay tests",
  "supportEmail": "tests@example.com",
  "links": {"site": "https://example.com", "privacyPolicy": "https://example.com/privacy"},
  "categories": ["monitoring"],
  "icons": {"square": "a.svg", "horizontal": "b.svg"},
  "formVariables": [
    {"key": "apiKey", "name": "API key", "type": "string", "description": "Key.", "isSecret": true, "placeholder": "dd-123"},
    {"key": "url", "name": "Endpoint", "type": "uri", "description": "Where."},
    {"key": "site", "name": "Site", "type": "enum", "description": "Region.", "allowedValues": ["us", "eu"], "isOptional": true, "defaultValue": "us"},
    {"key": "verbose", "name": "Verbose", "type": "boolean", "description": "More."},
    {"key": "quiet", "name": "Quiet", "type": "boolean", "description": "Less.", "isOptional": true, "defaultValue": true},
    {"key": "envs", "name": "Environments", "type": "multiselect", "description": "Which.", "isOptional": true, "multiselectOptions": [{"label": "Prod", "value": "production"}, {"label": "Test", "value": "test"}]}
  ],
  "capabilities": {"auditLogEventsHook": {"endpoint": {"url": "{{url}}", "method": "POST"}, "templates": {}}}
}`

func valuesTestManifest(t *testing.T) *Manifest {
	t.Helper()
	in, probs := LoadFS(fstest.MapFS{"manifest.json": {Data: []byte(valuesManifest)}}, ".", "v", "v")
	if in == nil {
		t.Fatal(probs)
	}
	return in.Manifest
}

func TestResolveValues(t *testing.T) {
	m := valuesTestManifest(t)
	tests := []struct {
		name string
		in   string // JSON object
		want string // resolved values as JSON (keys sorted), or the error text
	}{
		{
			name: "defaults applied",
			in:   `{"apiKey": "k", "url": "https://hooks.example.com/x"}`,
			want: `apiKey="k" quiet=true site="us" url="https://hooks.example.com/x" verbose=false`,
		},
		{
			name: "everything set",
			in:   `{"apiKey": "k", "url": "http://127.0.0.1:8080/", "site": "eu", "verbose": true, "quiet": false, "envs": ["test"]}`,
			want: `apiKey="k" envs=["test"] quiet=false site="eu" url="http://127.0.0.1:8080/" verbose=true`,
		},
		{
			name: "null counts as unset",
			in:   `{"apiKey": "k", "url": "https://x.example.com", "site": null}`,
			want: `apiKey="k" quiet=true site="us" url="https://x.example.com" verbose=false`,
		},
		{
			name: "every problem at once",
			in:   `{"apikey": "k", "url": "example.com/hook", "site": "ap", "verbose": "yes", "envs": ["prod"]}`,
			want: strings.Join([]string{
				`unknown form variable "apikey" (declared: apiKey, url, site, verbose, quiet, envs); did you mean "apiKey"?`,
				`form variable "apiKey" (API key) is required (for example "dd-123")`,
				`form variable "url" (Endpoint) must be an absolute URL with scheme and host (such as https://hooks.example.com/path), found "example.com/hook"`,
				`form variable "site" (Site) must be one of "us", "eu", found "ap"`,
				`form variable "verbose" (Verbose) must be true or false, found "yes"`,
				`form variable "envs" (Environments) lists "prod", which is not one of "production", "test"`,
			}, "\n"),
		},
		{
			name: "wrong JSON types",
			in:   `{"apiKey": 42, "url": true, "quiet": 1}`,
			want: strings.Join([]string{
				`form variable "apiKey" (API key) must be a string, found a number`,
				`form variable "url" (Endpoint) must be a URL string, found a boolean`,
				`form variable "quiet" (Quiet) must be true or false, found a number`,
			}, "\n"),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := jsonv.DecodeString(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			in := map[string]jsonv.Value{}
			for _, mem := range v.Members() {
				in[mem.Key] = mem.Value
			}
			out, err := m.ResolveValues(in)
			got := ""
			if err != nil {
				got = err.Error()
				var ves ValueErrors
				if ve, ok := err.(ValueErrors); ok {
					ves = ve
				}
				if len(ves) == 0 {
					t.Errorf("error is %T, want ValueErrors", err)
				}
			} else {
				got = formatValues(out)
			}
			if got != tt.want {
				t.Errorf("got:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
}

func formatValues(vals map[string]jsonv.Value) string {
	keys := make([]string, 0, len(vals))
	for k := range vals {
		keys = append(keys, k)
	}
	sortStrings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + string(jsonv.Marshal(vals[k]))
	}
	return strings.Join(parts, " ")
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

func TestParseValue(t *testing.T) {
	m := valuesTestManifest(t)
	tests := []struct{ key, text, want, err string }{
		{"verbose", "true", "true", ""},
		{"verbose", "FALSE", "false", ""},
		{"verbose", "yes", "", `form variable "verbose" (Verbose) must be true or false, found "yes"`},
		{"envs", "production, test", `["production","test"]`, ""},
		{"apiKey", "a=b", `"a=b"`, ""},
		{"nope", "x", "", `unknown form variable "nope" (declared: apiKey, url, site, verbose, quiet, envs)`},
	}
	for _, tt := range tests {
		v, err := m.ParseValue(tt.key, tt.text)
		switch {
		case tt.err != "":
			if err == nil || err.Error() != tt.err {
				t.Errorf("ParseValue(%q, %q) error = %v, want %s", tt.key, tt.text, err, tt.err)
			}
		case err != nil:
			t.Errorf("ParseValue(%q, %q): %v", tt.key, tt.text, err)
		case string(jsonv.Marshal(v)) != tt.want:
			t.Errorf("ParseValue(%q, %q) = %s, want %s", tt.key, tt.text, jsonv.Marshal(v), tt.want)
		}
	}
}

func TestSecretValues(t *testing.T) {
	m := valuesTestManifest(t)
	got := m.SecretValues(map[string]jsonv.Value{"apiKey": jsonv.Str("s3cr3t"), "url": jsonv.Str("https://x")})
	if len(got) != 1 || got[0] != "s3cr3t" {
		t.Errorf("SecretValues = %q", got)
	}
}

// What auditrelay's own rules warn about still loads and works: an enum
// without allowedValues takes any string, and of a key declared twice the
// first declaration counts.
func TestResolveValuesOfWarnedManifests(t *testing.T) {
	src := strings.Replace(valuesManifest, `"allowedValues": ["us", "eu"], "isOptional": true, "defaultValue": "us"}`,
		`"isOptional": true, "defaultValue": "us"},
    {"key": "apiKey", "name": "Again", "type": "boolean", "description": "Twice."}`, 1)
	in, probs := LoadFS(fstest.MapFS{"manifest.json": {Data: []byte(src)}}, ".", "v", "v")
	if in == nil {
		t.Fatal(probs)
	}
	ours := 0
	for _, p := range probs {
		if p.Ours {
			ours++
		}
	}
	if ours != 2 || probs.HasErrors() || len(probs.Strict().Errors()) != 2 {
		t.Fatalf("problems: %v", probs)
	}
	out, err := in.Manifest.ResolveValues(map[string]jsonv.Value{
		"apiKey": jsonv.Str("k"), "url": jsonv.Str("https://x.example.com"), "site": jsonv.Str("ap-south"), "verbose": jsonv.Boolean(true),
	})
	if err != nil {
		t.Fatal(err)
	}
	if out["site"].Text() != "ap-south" || out["apiKey"].Text() != "k" {
		t.Errorf("values = %v", out)
	}
}
