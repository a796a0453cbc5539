package manifest

import (
	"strings"
	"testing"
	"testing/fstest"
)

// baseManifest is a valid manifest; each case edits it to break one rule.
const baseManifest = `{
  "name": "Test hook",
  "version": "1.0.0",
  "overview": "A test integration.",
  "description": "An integration the manifest package's table tests break in many ways.",
  "author": "auditrelay tests",
  "supportEmail": "tests@example.com",
  "links": {"site": "https://example.com", "privacyPolicy": "https://example.com/privacy"},
  "categories": ["monitoring"],
  "icons": {"square": "assets/square.svg", "horizontal": "assets/horizontal.svg"},
  "formVariables": [
    {"key": "apiKey", "name": "API key", "type": "string", "description": "The key.", "isSecret": true},
    {"key": "region", "name": "Region", "type": "enum", "description": "Where.", "allowedValues": ["https://us.example.com", "https://eu.example.com"], "isOptional": true, "defaultValue": "https://us.example.com"}
  ],
  "capabilities": {
    "auditLogEventsHook": {
      "endpoint": {
        "url": "{{region}}/events",
        "method": "POST",
        "headers": [{"name": "Authorization", "value": "Bearer {{apiKey}}"}]
      },
      "templates": {"flag": "templates/flag.json.hbs", "default": "templates/default.json.hbs"},
      "defaultPolicy": [{"effect": "allow", "resources": ["proj/*:env/*:flag/*"], "actions": ["*"]}]
    }
  }
}
`

const (
	baseFlagTemplate    = "{\n  \"title\": \"{{{title.plainText}}}\",\n  \"region\": \"{{formVariables.region}}\"\n}\n"
	baseDefaultTemplate = "{\"text\": \"{{{title.plainText}}}\"}\n"
)

type fixEdit struct{ file, old, new string }

func baseFS() fstest.MapFS {
	return fstest.MapFS{
		"t/manifest.json":              {Data: []byte(baseManifest)},
		"t/templates/flag.json.hbs":    {Data: []byte(baseFlagTemplate)},
		"t/templates/default.json.hbs": {Data: []byte(baseDefaultTemplate)},
	}
}

// loadEdited applies edits (an empty new with old "" deletes the file;
// with old "" and new set it creates the file) and loads the result.
func loadEdited(t *testing.T, edits []fixEdit) (*Integration, Problems) {
	t.Helper()
	fsys := baseFS()
	for _, e := range edits {
		name := "t/" + e.file
		switch {
		case e.old == "" && e.new == "":
			delete(fsys, name)
		case e.old == "":
			fsys[name] = &fstest.MapFile{Data: []byte(e.new)}
		default:
			f, ok := fsys[name]
			if !ok || !strings.Contains(string(f.Data), e.old) {
				t.Fatalf("fixEdit: %s does not contain %q", e.file, e.old)
			}
			fsys[name] = &fstest.MapFile{Data: []byte(strings.Replace(string(f.Data), e.old, e.new, 1))}
		}
	}
	return LoadFS(fsys, "t", "t", "t")
}

func TestLoadBaseIsValid(t *testing.T) {
	in, probs := loadEdited(t, nil)
	if len(probs) > 0 || in == nil {
		t.Fatalf("base manifest has problems:\n%v", probs)
	}
	m := in.Manifest
	if m.Name != "Test hook" || len(m.FormVariables) != 2 || m.FormVariables[1].DefaultValue.Text() != "https://us.example.com" {
		t.Errorf("decoded manifest = %+v", m)
	}
	h := in.Hook()
	if h.Endpoint.URL != "{{region}}/events" || h.Endpoint.Method != "POST" || h.Endpoint.Headers[0] != (HeaderTemplate{"Authorization", "Bearer {{apiKey}}"}) {
		t.Errorf("endpoint = %+v", h.Endpoint)
	}
	if h.DefaultPolicy == nil || string(h.DefaultPolicy.JSON) != `[{"effect": "allow", "resources": ["proj/*:env/*:flag/*"], "actions": ["*"]}]` || h.DefaultPolicy.Line != 23 || h.DefaultPolicy.Col != 24 ||
		!strings.HasPrefix(baseManifest[h.DefaultPolicy.Offset:], string(h.DefaultPolicy.JSON)) {
		t.Errorf("defaultPolicy = %+v", h.DefaultPolicy)
	}
	if in.Template("flag") == nil || !in.Template("flag").JSON || in.Template("flag").Source != baseFlagTemplate {
		t.Errorf("flag template = %+v", in.Template("flag"))
	}
	if key, p := h.Templates.ForKind("segment"); key != "default" || p != "templates/default.json.hbs" {
		t.Errorf("ForKind(segment) = %q, %q", key, p)
	}
}

func TestLoadErrors(t *testing.T) {
	const m = "manifest.json"
	tests := []struct {
		name  string
		edits []fixEdit
		want  []string
	}{
		{
			name:  "unknown top-level field",
			edits: []fixEdit{{m, `"author"`, `"authr": "x",` + "\n  " + `"author"`}},
			want:  []string{`t/manifest.json:6:3: unknown field "authr" at the top level (allowed: name, version, overview, description, details, author, supportEmail, links, categories, icons, formVariables, capabilities, legacy, otherCapabilities, requiresOAuth, hideOnIntegrationsPage, oauthIntegrationKey, allowIntegrationConfigurations); did you mean "author"?`},
		},
		{
			name:  "unknown hook field",
			edits: []fixEdit{{m, `"templates": {"flag"`, `"timeout": 5, "templates": {"flag"`}},
			want:  []string{`t/manifest.json:22:7: unknown field "timeout" in capabilities.auditLogEventsHook (allowed: endpoint, templates, defaultPolicy, includeErrorResponseBody, deliveryMethod, useStandardWebhookPayload)`},
		},
		{
			name:  "unknown form variable field",
			edits: []fixEdit{{m, `"isSecret": true}`, `"secret": true}`}},
			want:  []string{`t/manifest.json:12:87: unknown field "secret" in formVariables[0] (allowed: key, name, type, description, placeholder, isSecret, isHidden, isOptional, defaultValue, allowedValues, dynamicOptions, dependsOn, multiselectOptions, multiselectDefaultOptions, disableAfterSaving, hideEmpty); did you mean "isSecret"?`},
		},
		{
			name:  "unknown capability",
			edits: []fixEdit{{m, `"capabilities": {`, `"capabilities": {"pager": {},`}},
			want:  []string{`t/manifest.json:15:20: unknown field "pager" in capabilities (allowed: auditLogEventsHook, buttonAction, reservedCustomProperties, trigger, approval, featureStore, flagLink, hideConfiguration, externalConfigurationURL, externalConfigurationPages, syncedSegment, bigSegmentStore, flagImport, eventsHook, flagCleanup, internalConfigurationURL)`},
		},
		{
			name:  "missing required field",
			edits: []fixEdit{{m, `, "description": "The key."`, ``}},
			want:  []string{`t/manifest.json:12:5: formVariables[0] is missing required field "description"`},
		},
		{
			name:  "wrong type",
			edits: []fixEdit{{m, `"isSecret": true`, `"isSecret": "yes"`}},
			want:  []string{`t/manifest.json:12:99: formVariables[0].isSecret must be a boolean (true or false), found a string`},
		},
		{
			name:  "method not allowed",
			edits: []fixEdit{{m, `"method": "POST"`, `"method": "post"`}},
			want:  []string{`t/manifest.json:19:19: endpoint.method must be one of "POST", "PUT", "PATCH", "GET", "DELETE", found "post"; did you mean "POST"?`},
		},
		{
			name:  "header name with whitespace",
			edits: []fixEdit{{m, `"name": "Authorization"`, `"name": "Auth header"`}},
			want:  []string{`t/manifest.json:20:30: endpoint.headers[0].name must not contain whitespace`},
		},
		{
			name:  "header name too long",
			edits: []fixEdit{{m, `"name": "Authorization"`, `"name": "X-` + strings.Repeat("a", 49) + `"`}},
			want:  []string{`t/manifest.json:20:30: endpoint.headers[0].name must be at most 50 characters long, found 51`},
		},
		{
			name:  "form variable key too long and with whitespace",
			edits: []fixEdit{{m, `"key": "apiKey"`, `"key": "the api key of the account"`}, {m, `Bearer {{apiKey}}`, `Bearer`}},
			want: []string{
				`t/manifest.json:12:13: formVariables[0].key must be at most 20 characters long, found 26`,
				`t/manifest.json:12:13: formVariables[0].key must not contain whitespace`,
			},
		},
		{
			name:  "missing template file",
			edits: []fixEdit{{"templates/flag.json.hbs", "", ""}},
			want:  []string{`t/manifest.json:22:29: templates.flag names "templates/flag.json.hbs", which cannot be read: file does not exist`},
		},
		{
			name:  "template path outside the directory",
			edits: []fixEdit{{m, `"templates/flag.json.hbs"`, `"../flag.json.hbs"`}},
			want:  []string{`t/manifest.json:22:29: templates.flag: "../flag.json.hbs" must be a relative path inside the integration directory`},
		},
		{
			name:  "template syntax error",
			edits: []fixEdit{{"templates/flag.json.hbs", `"{{{title.plainText}}}"`, `"{{#each tags}}{{this}}{{/with}}"`}},
			want:  []string{`t/templates/flag.json.hbs:2:35: template syntax error: {{/with}} does not match {{#each}} opened at 2:13`},
		},
		{
			name:  "url syntax error located in the manifest",
			edits: []fixEdit{{m, `"{{region}}/events"`, `"{{region}}/events?a=\u00e9{{#if region}}x"`}},
			want:  []string{`t/manifest.json:18:58: endpoint.url: expected {{/if}} to close the block opened at 1:22, found end of template`},
		},
		{
			name:  "undeclared form variable in url",
			edits: []fixEdit{{m, `"{{region}}/events"`, `"{{region}}/events?key={{apiToken}}"`}},
			want:  []string{`t/manifest.json:18:41: endpoint.url references form variable "apiToken", which is not declared`},
		},
		{
			name:  "undeclared form variable in header",
			edits: []fixEdit{{m, `Bearer {{apiKey}}`, `Bearer {{ token }}`}},
			want:  []string{`t/manifest.json:20:67: endpoint.headers[0].value references form variable "token", which is not declared`},
		},
		{
			name:  "undeclared form variable in body template",
			edits: []fixEdit{{"templates/flag.json.hbs", `{{formVariables.region}}`, `{{formVariables.zone}}`}},
			want:  []string{`t/templates/flag.json.hbs:3:16: formVariables.zone references form variable "zone", which is not declared`},
		},
		{
			name:  "standard payload with templates",
			edits: []fixEdit{{m, `"defaultPolicy"`, `"useStandardWebhookPayload": true, "defaultPolicy"`}},
			want: []string{
				`t/manifest.json:22:21: templates.flag must not be set: useStandardWebhookPayload sends the audit-log entry itself, so the templates object must be empty`,
				`t/manifest.json:22:56: templates.default must not be set: useStandardWebhookPayload sends the audit-log entry itself, so the templates object must be empty`,
				`t/manifest.json:23:7: useStandardWebhookPayload is true, so the integration must not have a templates/ directory (found t/templates)`,
			},
		},
		{
			name: "include error response body with a free host",
			edits: []fixEdit{
				{m, `"defaultPolicy"`, `"includeErrorResponseBody": true, "defaultPolicy"`},
				{m, `"{{region}}/events"`, `"https://{{apiKey}}.example.com/events"`},
			},
			want: []string{`t/manifest.json:18:25: includeErrorResponseBody is true, so the endpoint host must be static: endpoint.url's host uses {{apiKey}}, which is a form variable of type "string", not "enum"`},
		},
		{
			name: "include error response body with a leading form variable",
			edits: []fixEdit{
				{m, `"defaultPolicy"`, `"includeErrorResponseBody": true, "defaultPolicy"`},
				{m, `"{{region}}/events"`, `"{{apiKey}}/events"`},
			},
			want: []string{`t/manifest.json:18:17: includeErrorResponseBody is true, so the endpoint host must be static: endpoint.url's host uses {{apiKey}}, which is a form variable of type "string", not "enum"`},
		},
		{
			// LaunchDarkly's test takes " apiKey " for the name and finds
			// no such variable, so it passes; LaunchDarkly publishes last9
			// with {{ endpointUrl }} of type uri.
			name: "include error response body with a spaced leading form variable",
			edits: []fixEdit{
				{m, `"defaultPolicy"`, `"includeErrorResponseBody": true, "defaultPolicy"`},
				{m, `"{{region}}/events"`, `"{{ apiKey }}/events"`},
			},
			want: []string{`t/manifest.json:18:17: warning: includeErrorResponseBody is true, so the endpoint host should be static: endpoint.url's host uses {{ apiKey }}, which is a form variable of type "string", not "enum", so whoever configures the integration chooses the host that receives its requests and error log (auditrelay's rule, not LaunchDarkly's; an error with --strict)`},
		},
		{
			name: "include error response body with an undeclared host",
			edits: []fixEdit{
				{m, `"defaultPolicy"`, `"includeErrorResponseBody": true, "defaultPolicy"`},
				{m, `"{{region}}/events"`, `"https://{{{apiKey}}}.{{zone}}.example.com/events"`},
			},
			want: []string{
				`t/manifest.json:18:25: includeErrorResponseBody is true, so the endpoint host must be static: endpoint.url's host uses {{{apiKey}}}, which is a form variable of type "string", not "enum"`,
				`t/manifest.json:18:38: warning: includeErrorResponseBody is true, so the endpoint host should be static: endpoint.url's host uses {{zone}}, which is not a declared form variable, so whoever configures the integration chooses the host that receives its requests and error log (auditrelay's rule, not LaunchDarkly's; an error with --strict)`,
				`t/manifest.json:18:40: endpoint.url references form variable "zone", which is not declared`,
			},
		},
		{
			name:  "undeclared form variable passed to a helper",
			edits: []fixEdit{{m, `"{{region}}/events"`, `"{{region}}/events?k={{queryEncode apiToken}}"`}, {"templates/flag.json.hbs", `{{formVariables.region}}`, `{{#if formVariables.zone}}z{{/if}}`}},
			want: []string{
				`t/manifest.json:18:51: warning: endpoint.url passes form variable "apiToken", which is not declared, to a helper; it is undefined there (auditrelay's rule, not LaunchDarkly's; an error with --strict)`,
				`t/templates/flag.json.hbs:3:20: warning: formVariables.zone passes form variable "zone", which is not declared, to a helper; it is undefined there (auditrelay's rule, not LaunchDarkly's; an error with --strict)`,
			},
		},
		{
			name:  "undeclared parent of a helper argument",
			edits: []fixEdit{{"templates/flag.json.hbs", `{{formVariables.region}}`, `{{#if formVariables.zone.name}}z{{/if}}`}},
			want:  []string{`t/templates/flag.json.hbs:3:20: formVariables.zone.name references form variable "zone", which is not declared`},
		},
		{
			name:  "empty template path",
			edits: []fixEdit{{m, `"flag": "templates/flag.json.hbs"`, `"flag": ""`}},
			want:  []string{`t/manifest.json:22:29: warning: templates.flag is an empty string, so it names no template; leave it out instead (auditrelay's rule, not LaunchDarkly's; an error with --strict)`},
		},
		{
			name:  "hmac without header name",
			edits: []fixEdit{{m, `"method": "POST",`, `"method": "POST", "hmacSignature": {"hmacSecretFormVariableKey": "apiKey"},`}},
			want:  []string{`t/manifest.json:19:44: warning: endpoint.hmacSignature has no headerName; auditrelay sends the signature as "X-LD-Signature", the header LaunchDarkly's webhooks use (auditrelay's rule, not LaunchDarkly's; an error with --strict)`},
		},
		{
			name:  "hmac header name not a token",
			edits: []fixEdit{{m, `"method": "POST",`, `"method": "POST", "hmacSignature": {"headerName": "X-Sig(1)", "hmacSecretFormVariableKey": "apiKey"},`}},
			want:  []string{`t/manifest.json:19:59: endpoint.hmacSignature.headerName must be a valid HTTP header name (letters, digits and !#$%&'*+-.^_` + "`" + `|~)`},
		},
		{
			name:  "depends on an undeclared variable",
			edits: []fixEdit{{m, `"isSecret": true}`, `"isSecret": true, "dependsOn": [{"variableKey": "mode", "variableLocation": "formVariables", "action": "showField", "conditions": [{"operator": "equalTo", "value": "x"}]}]}`}},
			want:  []string{`t/manifest.json:12:135: warning: formVariables[0].dependsOn[0] refers to form variable "mode", which is not declared (auditrelay's rule, not LaunchDarkly's; an error with --strict)`},
		},
		{
			name:  "include error response body with an enum host",
			edits: []fixEdit{{m, `"defaultPolicy"`, `"includeErrorResponseBody": true, "defaultPolicy"`}},
		},
		{
			name:  "hmac secret not declared",
			edits: []fixEdit{{m, `"method": "POST",`, `"method": "POST", "hmacSignature": {"headerName": "X-LD-Signature", "hmacSecretFormVariableKey": "secret"},`}},
			want:  []string{`t/manifest.json:19:106: endpoint.hmacSignature.hmacSecretFormVariableKey refers to form variable "secret", which is not declared`},
		},
		{
			name: "hmac secret not secret",
			edits: []fixEdit{
				{m, `"method": "POST",`, `"method": "POST", "hmacSignature": {"headerName": "X-LD-Signature", "hmacSecretFormVariableKey": "apiKey"},`},
				{m, `, "isSecret": true}`, `}`},
			},
			want: []string{`t/manifest.json:19:106: endpoint.hmacSignature.hmacSecretFormVariableKey refers to form variable "apiKey", which must be marked "isSecret": true`},
		},
		{
			name:  "hmac secret not a string",
			edits: []fixEdit{{m, `"method": "POST",`, `"method": "POST", "hmacSignature": {"headerName": "X-LD-Signature", "hmacSecretFormVariableKey": "region"},`}},
			want:  []string{`t/manifest.json:19:106: endpoint.hmacSignature.hmacSecretFormVariableKey refers to form variable "region" of type "enum"; the HMAC secret must be of type "string"`},
		},
		{
			name:  "isSecret on a non-string",
			edits: []fixEdit{{m, `"isOptional": true, "defaultValue"`, `"isSecret": true, "isOptional": true, "defaultValue"`}},
			want:  []string{`t/manifest.json:13:153: form variable "region": isSecret is only allowed on variables of type "string", not "enum"`},
		},
		{
			name:  "optional without default",
			edits: []fixEdit{{m, `, "defaultValue": "https://us.example.com"`, ``}},
			want:  []string{`t/manifest.json:13:153: form variable "region" is optional, so it must have a defaultValue`},
		},
		{
			name:  "default without optional",
			edits: []fixEdit{{m, `"isOptional": true, `, ``}},
			want:  []string{`t/manifest.json:13:153: form variable "region" has a defaultValue, which is only allowed together with "isOptional": true`},
		},
		{
			name:  "boolean default of the wrong type",
			edits: []fixEdit{{m, `"isSecret": true}`, `"isSecret": true},` + "\n    " + `{"key": "verbose", "name": "Verbose", "type": "boolean", "description": "More.", "isOptional": true, "defaultValue": "yes"}`}},
			want:  []string{`t/manifest.json:13:122: form variable "verbose" has type "boolean", so its defaultValue must be true or false, found a string`},
		},
		{
			name:  "enum default not allowed",
			edits: []fixEdit{{m, `"defaultValue": "https://us.example.com"`, `"defaultValue": "https://ap.example.com"`}},
			want:  []string{`t/manifest.json:13:189: warning: form variable "region": defaultValue "https://ap.example.com" is not one of its allowedValues ("https://us.example.com", "https://eu.example.com") (auditrelay's rule, not LaunchDarkly's; an error with --strict)`},
		},
		{
			name:  "enum without allowed values",
			edits: []fixEdit{{m, `"allowedValues": ["https://us.example.com", "https://eu.example.com"], `, ``}},
			want:  []string{`t/manifest.json:13:5: warning: form variable "region" has type "enum" but no allowedValues, so there is nothing to choose from; auditrelay accepts any string for it (auditrelay's rule, not LaunchDarkly's; an error with --strict)`},
		},
		{
			name:  "dynamicEnum without dynamicOptions",
			edits: []fixEdit{{m, `"type": "string", "description": "The key."`, `"type": "dynamicEnum", "description": "The key."`}, {m, `, "isSecret": true}`, `}`}},
			want:  []string{`t/manifest.json:12:5: form variable "apiKey" has type "dynamicEnum", so it needs dynamicOptions`},
		},
		{
			name:  "multiselect without options",
			edits: []fixEdit{{m, `"isSecret": true}`, `"isSecret": true},` + "\n    " + `{"key": "envs", "name": "Environments", "type": "multiselect", "description": "Which."}`}},
			want:  []string{`t/manifest.json:13:5: form variable "envs" has type "multiselect", so it needs multiselectOptions`},
		},
		{
			name:  "duplicate form variable key",
			edits: []fixEdit{{m, `"key": "region"`, `"key": "apiKey"`}, {m, `{{region}}`, `https://x`}},
			want: []string{
				`t/manifest.json:13:13: warning: form variable key "apiKey" is declared twice (first as formVariables[0]); auditrelay uses the first declaration (auditrelay's rule, not LaunchDarkly's; an error with --strict)`,
				`t/templates/flag.json.hbs:3:16: formVariables.region references form variable "region", which is not declared`,
			},
		},
		{
			name:  "no endpoint",
			edits: []fixEdit{{m, `"endpoint": {`, `"endpoint_": {`}},
			want: []string{
				`t/manifest.json:16:27: warning: capabilities.auditLogEventsHook has no endpoint and deliveryMethod is not "custom": nothing can be sent, so every delivery is skipped (auditrelay's rule, not LaunchDarkly's; an error with --strict)`,
				`t/manifest.json:17:7: unknown field "endpoint_" in capabilities.auditLogEventsHook (allowed: endpoint, templates, defaultPolicy, includeErrorResponseBody, deliveryMethod, useStandardWebhookPayload); did you mean "endpoint"?`,
			},
		},
		{
			name:  "empty default policy",
			edits: []fixEdit{{m, `[{"effect": "allow", "resources": ["proj/*:env/*:flag/*"], "actions": ["*"]}]`, `[]`}},
			want:  []string{`t/manifest.json:23:24: defaultPolicy must hold at least one policy statement`},
		},
		{
			name:  "default policy statement not an object",
			edits: []fixEdit{{m, `[{"effect": "allow", "resources": ["proj/*:env/*:flag/*"], "actions": ["*"]}]`, `["allow"]`}},
			want:  []string{`t/manifest.json:23:25: defaultPolicy[0] must be a policy statement object, found a string`},
		},
		{
			name:  "version and description",
			edits: []fixEdit{{m, `"1.0.0"`, `"1.0"`}, {m, `"An integration the manifest package's table tests break in many ways."`, `"Too short."`}},
			want: []string{
				`t/manifest.json:3:14: version must be at least 5 characters long, found 3`,
				`t/manifest.json:3:14: version must be a semantic version such as 1.0.0`,
				`t/manifest.json:5:18: description must be at least 50 characters long, found 10`,
			},
		},
		{
			name:  "bad category and link",
			edits: []fixEdit{{m, `["monitoring"]`, `["monitor"]`}, {m, `"site": "https://example.com"`, `"site": "example.com"`}},
			want: []string{
				`t/manifest.json:8:21: links.site must start with http:// or https://`,
				`t/manifest.json:9:18: categories[0] must be one of "ai", "analytics", "approval", "authentication", "automation", "big-segment-store", "code-references", "customer-support", "data", "developer-tools", "import", "infrastructure", "issue-tracking", "log-management", "messaging", "migration", "monitoring", "synced-segments", "notifications", found "monitor"; did you mean "monitoring"?`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in, probs := loadEdited(t, tt.edits)
			var got []string
			for _, p := range probs {
				got = append(got, p.String())
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
			wantErr := false
			for _, w := range tt.want {
				wantErr = wantErr || !strings.Contains(w, ": warning: ")
			}
			if (in == nil) != wantErr {
				t.Errorf("integration loaded = %v, want %v", in != nil, !wantErr)
			}
		})
	}
}
