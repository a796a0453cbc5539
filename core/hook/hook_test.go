package hook

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/auditrelay/auditrelay/core/jsonv"
	"github.com/auditrelay/auditrelay/core/manifest"
	"github.com/auditrelay/auditrelay/core/reftest"
	"github.com/auditrelay/auditrelay/core/render"
	"github.com/auditrelay/auditrelay/templates"
)

// testManifest builds a manifest around the given form variables and hook.
func testManifest(formVars, hook string) string {
	return `{
  "name": "Hook test",
  "version": "1.0.0",
  "overview": "Integration for hook tests.",
  "description": "An integration that exercises the request builder of the hook package.",
  "author": "auditrelay tests",
  "supportEmail": "tests@example.com",
  "links": {"site": "https://example.com", "privacyPolicy": "https://example.com/privacy"},
  "categories": ["monitoring"],
  "icons": {"square": "a.svg", "horizontal": "b.svg"},
  "formVariables": [` + formVars + `],
  "capabilities": {"auditLogEventsHook": ` + hook + `}
}`
}

func compile(t *testing.T, files map[string]string) *Integration {
	t.Helper()
	fsys := fstest.MapFS{}
	for name, data := range files {
		fsys[name] = &fstest.MapFile{Data: []byte(data)}
	}
	src, probs := manifest.LoadFS(fsys, ".", "test", "test")
	if src == nil {
		t.Fatalf("load:\n%v", probs)
	}
	in, err := New(src)
	if err != nil {
		t.Fatal(err)
	}
	return in
}

func builtin(t *testing.T, name string) *Integration {
	t.Helper()
	src, probs := manifest.LoadBuiltin(templates.FS(), name)
	if src == nil {
		t.Fatalf("load %s:\n%v", name, probs)
	}
	in, err := New(src)
	if err != nil {
		t.Fatal(err)
	}
	return in
}

func mustDecode(t testing.TB, s string) jsonv.Value {
	t.Helper()
	v, err := jsonv.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func strVars(kv ...string) Vars {
	v := Vars{Values: map[string]jsonv.Value{}}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Values[kv[i]] = jsonv.Str(kv[i+1])
	}
	return v
}

const (
	apiKeyVar = `{"key": "apiKey", "name": "API key", "type": "string", "description": "Key.", "isSecret": true},
    {"key": "host", "name": "Host", "type": "string", "description": "Host."}`
	kindHook = `{
    "endpoint": {
      "url": "https://{{host}}/events/{{context.kind}}?q={{queryEncode context.name}}",
      "method": "PUT",
      "headers": [
        {"name": "Content-Type", "value": "application/json"},
        {"name": "Authorization", "value": "Bearer {{apiKey}}"}
      ]
    },
    "templates": {
      "flag": "templates/flag.json.hbs",
      "default": "templates/default.txt.hbs",
      "validation": "templates/validation.txt.hbs"
    }
  }`
)

func kindIntegration(t *testing.T) *Integration {
	return compile(t, map[string]string{
		"manifest.json":                testManifest(apiKeyVar, kindHook),
		"templates/flag.json.hbs":      `{"name": "{{{name}}}", "key": "{{formVariables.apiKey}}"}`,
		"templates/default.txt.hbs":    `{{{name}}} ({{kind}})`,
		"templates/validation.txt.hbs": "  \n\t",
	})
}

func TestRenderSelectsTemplateByKind(t *testing.T) {
	in := kindIntegration(t)
	vars := strVars("apiKey", `k"1`, "host", "api.example.com")
	tests := []struct {
		kind, name string
		template   string
		body       string
		url        string
	}{
		// JSON template: the context is JSON-escaped, form values are not.
		{"flag", `Say "hi"`, "templates/flag.json.hbs", `{"name": "Say \"hi\"", "key": "k&quot;1"}`, "https://api.example.com/events/flag?q=Say%20%22hi%22"},
		// Text template: no JSON escaping; {{kind}} is HTML-escaped only.
		{"segment", `Say "hi"`, "templates/default.txt.hbs", `Say "hi" (segment)`, "https://api.example.com/events/segment?q=Say%20%22hi%22"},
		{"project", "P&Q", "templates/default.txt.hbs", `P&Q (project)`, "https://api.example.com/events/project?q=P%26Q"},
	}
	for _, tt := range tests {
		t.Run(tt.kind, func(t *testing.T) {
			ev := NewEvent(mustDecode(t, `{"kind": "`+tt.kind+`", "name": `+string(jsonv.Marshal(jsonv.Str(tt.name)))+`}`), nil)
			req, err := in.Render(ev, vars)
			if err != nil {
				t.Fatal(err)
			}
			if req.Template != tt.template || string(req.Body) != tt.body || req.URL != tt.url || req.Method != "PUT" || req.Skipped != "" {
				t.Errorf("got template %q body %q url %q method %q skipped %q", req.Template, req.Body, req.URL, req.Method, req.Skipped)
			}
			want := []Header{{"Content-Type", "application/json", false}, {"Authorization", `Bearer k&quot;1`, true}}
			if len(req.Headers) != 2 || req.Headers[0] != want[0] || req.Headers[1] != want[1] {
				t.Errorf("headers = %+v, want %+v", req.Headers, want)
			}
		})
	}
}

func TestRenderTemplateHash(t *testing.T) {
	in := kindIntegration(t)
	req, err := in.Render(NewEvent(mustDecode(t, `{"kind": "flag", "name": "x"}`), nil), strVars("apiKey", "k", "host", "h"))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(`{"name": "{{{name}}}", "key": "{{formVariables.apiKey}}"}`))
	if req.TemplateHash != hex.EncodeToString(sum[:]) || req.TemplateKey != "flag" {
		t.Errorf("hash %s key %s", req.TemplateHash, req.TemplateKey)
	}
}

func TestRenderSkips(t *testing.T) {
	in := kindIntegration(t)
	vars := strVars("apiKey", "k", "host", "h")
	ev := NewEvent(mustDecode(t, `{"kind": "flag", "name": "x"}`), nil)

	req, err := in.RenderValidation(ev, vars)
	if err != nil {
		t.Fatal(err)
	}
	if req.Skipped != SkipEmptyBody || req.Body != nil || req.Template != "templates/validation.txt.hbs" {
		t.Errorf("validation: skipped %q body %q template %q", req.Skipped, req.Body, req.Template)
	}
	if req.URL != "https://h/events/flag?q=x" {
		t.Errorf("skipped requests still carry the URL; got %q", req.URL)
	}

	req, err = in.RenderTemplate(ev, vars, "member")
	if err != nil {
		t.Fatal(err)
	}
	if req.Skipped != SkipNoTemplate || req.Template != "" {
		t.Errorf("forced member: skipped %q template %q", req.Skipped, req.Template)
	}
	req, err = in.RenderTemplate(ev, vars, "default")
	if err != nil || string(req.Body) != "x (flag)" {
		t.Errorf("forced default: %v %q", err, req.Body)
	}
	if _, err := in.RenderTemplate(ev, vars, "nope"); err == nil || !strings.Contains(err.Error(), `unknown template key "nope"`) {
		t.Errorf("unknown key error = %v", err)
	}

	flagOnly := compile(t, map[string]string{
		"manifest.json":           testManifest(apiKeyVar, `{"endpoint": {"url": "https://x", "method": "POST"}, "templates": {"flag": "templates/flag.json.hbs"}}`),
		"templates/flag.json.hbs": `{}`,
	})
	req, err = flagOnly.Render(NewEvent(mustDecode(t, `{"kind": "metric"}`), nil), vars)
	if err != nil {
		t.Fatal(err)
	}
	if req.Skipped != SkipNoTemplate || req.Body != nil {
		t.Errorf("metric without default: skipped %q", req.Skipped)
	}
}

func TestRenderStandardPayloadSigned(t *testing.T) {
	in := builtin(t, "webhook")
	// A published HMAC-SHA256 test vector: key "key", this message.
	raw := []byte("The quick brown fox jumps over the lazy dog")
	ev := NewEvent(mustDecode(t, `{"kind": "flag"}`), raw)
	vars := Vars{Values: map[string]jsonv.Value{"url": jsonv.Str("https://hooks.example.com/ld?a=1&b=2"), "secret": jsonv.Str("key")}}
	req, err := in.Render(ev, vars)
	if err != nil {
		t.Fatal(err)
	}
	if &req.Body[0] != &raw[0] || string(req.Body) != string(raw) {
		t.Error("standard payload must send the raw entry bytes as they are")
	}
	if req.Template != "" || req.URL != "https://hooks.example.com/ld?a=1&b=2" || req.Method != "POST" {
		t.Errorf("template %q url %q method %q", req.Template, req.URL, req.Method)
	}
	last := req.Headers[len(req.Headers)-1]
	if last.Name != "X-LD-Signature" || last.Value != "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8" || last.Secret {
		t.Errorf("signature header = %+v", last)
	}

	// No secret: no signature header at all.
	vars.Values["secret"] = jsonv.Str("")
	req, _ = in.Render(ev, vars)
	for _, h := range req.Headers {
		if h.Name == "X-LD-Signature" {
			t.Errorf("empty secret must not sign; got %+v", h)
		}
	}

	// Only a context: nothing to send, and nothing signed.
	vars.Values["secret"] = jsonv.Str("key")
	req, _ = in.Render(NewEvent(mustDecode(t, `{"kind": "flag"}`), nil), vars)
	if req.Skipped != SkipNoRawEntry || req.Body != nil || len(req.Headers) != 2 {
		t.Errorf("no raw entry: skipped %q headers %+v", req.Skipped, req.Headers)
	}
}

func TestRenderSignsTemplatedBody(t *testing.T) {
	in := compile(t, map[string]string{
		"manifest.json": testManifest(`{"key": "secret", "name": "Secret", "type": "string", "description": "S.", "isSecret": true}`,
			`{"endpoint": {"url": "https://x", "method": "POST", "headers": [], "hmacSignature": {"headerName": "X-Sig", "hmacSecretFormVariableKey": "secret"}},
			  "templates": {"default": "templates/d.txt.hbs"}}`),
		"templates/d.txt.hbs": `The quick brown fox jumps over the {{name}}`,
	})
	req, err := in.Render(NewEvent(mustDecode(t, `{"kind": "flag", "name": "lazy dog"}`), nil), strVars("secret", "key"))
	if err != nil {
		t.Fatal(err)
	}
	if len(req.Headers) != 1 || req.Headers[0] != (Header{"X-Sig", "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8", false}) {
		t.Errorf("headers = %+v", req.Headers)
	}
}

func TestRenderCustomDelivery(t *testing.T) {
	in := compile(t, map[string]string{
		"manifest.json":        testManifest(`{"key": "externalId", "name": "External ID", "type": "generated", "description": "Id."}`, `{"deliveryMethod": "custom", "templates": {"default": "templates/d.json.hbs"}}`),
		"templates/d.json.hbs": `{"id": "{{formVariables.externalId}}", "title": "{{{title}}}"}`,
	})
	req, err := in.Render(NewEvent(mustDecode(t, `{"kind": "flag", "title": "a\"b"}`), nil), strVars("externalId", "ext-1"))
	if err != nil {
		t.Fatal(err)
	}
	if !req.Custom || req.Skipped != SkipCustomDelivery || string(req.Body) != `{"id": "ext-1", "title": "a\"b"}` || req.URL != "" || req.Method != "" {
		t.Errorf("custom: %+v body %s", req, req.Body)
	}
}

func TestRenderOAuthScope(t *testing.T) {
	hookJSON := `{"endpoint": {"url": "{{#if oauth}}{{oauth.baseURI}}{{else}}none{{/if}}", "method": "POST",
	  "headers": [{"name": "Authorization", "value": "Bearer {{oauth.accessToken}}"}]},
	  "templates": {"default": "templates/d.txt.hbs"}}`
	files := map[string]string{
		"manifest.json":       testManifest(``, hookJSON),
		"templates/d.txt.hbs": `{{#if formVariables.oauth}}{{formVariables.oauth.baseURI}}{{else}}null{{/if}}`,
	}
	oauth := &OAuth{BaseURI: "https://controller.example.com", AccessToken: "tok"}
	ev := NewEvent(mustDecode(t, `{"kind": "flag"}`), nil)

	plain := compile(t, files)
	req, err := plain.Render(ev, Vars{OAuth: oauth})
	if err != nil {
		t.Fatal(err)
	}
	if req.URL != "none" || string(req.Body) != "null" {
		t.Errorf("without requiresOAuth oauth must be null: url %q body %q", req.URL, req.Body)
	}

	files["manifest.json"] = strings.Replace(testManifest(``, hookJSON), `"formVariables"`, `"requiresOAuth": true, "formVariables"`, 1)
	withOAuth := compile(t, files)
	req, err = withOAuth.Render(ev, Vars{OAuth: oauth})
	if err != nil {
		t.Fatal(err)
	}
	if req.URL != "https://controller.example.com" || string(req.Body) != "https://controller.example.com" || req.Headers[0].Value != "Bearer tok" {
		t.Errorf("url %q body %q headers %+v", req.URL, req.Body, req.Headers)
	}
}

func TestBuiltinsRenderValidJSON(t *testing.T) {
	for _, name := range []string{"slack", "msteams-card"} {
		in := builtin(t, name)
		for _, sample := range SampleNames() {
			ctx, err := Sample(sample)
			if err != nil {
				t.Fatal(err)
			}
			req, err := in.Render(NewEvent(ctx, nil), strVars("webhookUrl", "https://hooks.example.com/services/T0/B0/secret"))
			if err != nil {
				t.Fatalf("%s/%s: %v", name, sample, err)
			}
			body, err := jsonv.Decode(req.Body)
			if err != nil {
				t.Fatalf("%s/%s: body is not JSON: %v\n%s", name, sample, err, req.Body)
			}
			if !req.URLSecret || req.URL != "https://hooks.example.com/services/T0/B0/secret" {
				t.Errorf("%s: url %q secret %v", name, req.URL, req.URLSecret)
			}
			// The title must come through unescaped, exactly as in the entry.
			title := ctx.Path("title", "plainText").Text()
			if name == "slack" && body.Get("text").Text() != title {
				t.Errorf("slack text = %q, want %q", body.Get("text").Text(), title)
			}
			if name == "msteams-card" {
				card := body.Get("attachments").Index(0).Path("content")
				if card.Get("type").Text() != "AdaptiveCard" || card.Get("body").Index(0).Get("text").Text() != ctx.Path("title", "markdown").Text() {
					t.Errorf("teams card = %s", jsonv.Marshal(card))
				}
			}
			if c := ctx.Get("comment"); c.Kind() == jsonv.String && !strings.Contains(string(jsonv.Marshal(body)), string(jsonv.AppendEscapedString(nil, c.Text()))) {
				t.Errorf("%s/%s: comment missing from body", name, sample)
			}
		}
	}
}

func TestBuiltinsLintClean(t *testing.T) {
	for _, name := range []string{"webhook", "slack", "msteams-card"} {
		if probs := builtin(t, name).Lint(); len(probs) > 0 {
			t.Errorf("%s lint:\n%v", name, probs)
		}
	}
}

func TestLintFindsStrictModeProblems(t *testing.T) {
	in := compile(t, map[string]string{
		"manifest.json": testManifest(apiKeyVar, `{"endpoint": {"url": "https://{{host}}/{{context.nope}}", "method": "POST"},
		  "templates": {"flag": "templates/f.json.hbs", "validation": "templates/v.txt.hbs"}}`),
		"templates/f.json.hbs": "{\n  \"a\": \"{{{missing}}}\",\n  \"b\": {{{name}}}\n}",
		"templates/v.txt.hbs":  "{{#if nothing}}x{{/if}}",
	})
	var got []string
	for _, p := range in.Lint() {
		got = append(got, p.String())
	}
	joined := strings.Join(got, "\n")
	for _, want := range []string{
		`test/manifest.json:13:83: lint (endpoint scope): "nope" not defined`, // at context.nope inside the manifest string
		`test/templates/f.json.hbs:2:12: lint (templates.flag, sample flag context): "missing" not defined`,
		`test/templates/f.json.hbs:1:1: lint (templates.flag, sample flag context): rendered output is not valid JSON at output line 3, column 8`,
		`test/templates/v.txt.hbs: lint (templates.validation, sample environment context): renders an empty body`,
	} {
		if !strings.Contains(joined, want) {
			t.Errorf("lint output lacks %q:\n%s", want, joined)
		}
	}
}

func TestEventEscapedOnceConcurrently(t *testing.T) {
	in := builtin(t, "slack")
	ctx, err := Sample("flag")
	if err != nil {
		t.Fatal(err)
	}
	ev := NewEvent(ctx, nil)
	vars := strVars("webhookUrl", "https://hooks.example.com/x")
	want, err := in.Render(ev, vars)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				req, err := in.Render(ev, vars)
				if err != nil || string(req.Body) != string(want.Body) {
					t.Errorf("concurrent render differs: %v", err)
					return
				}
			}
		}()
	}
	wg.Wait()
	a, b := ev.Escaped(), ev.Escaped()
	if jsonv.StrictEqual(a, b) == false {
		t.Error("Escaped must return the same value every time")
	}
}

func BenchmarkHookRender(b *testing.B) {
	ref := reftest.Dir(b)
	src, probs := manifest.LoadDir(ref + "/integrations/datadog")
	if src == nil {
		b.Fatal(probs)
	}
	in, err := New(src)
	if err != nil {
		b.Fatal(err)
	}
	ctx := decodeFile(b, ref+"/sample-context/flag/update-all-environments.json")
	vars := strVars("apiKey", "0123456789abcdef", "hostURL", "https://api.datadoghq.com")
	vars.Values["hideMemberDetails"] = jsonv.Boolean(false)
	ev := NewEvent(ctx, nil)
	ev.Escaped() // computed once per entry, not per subscription
	b.Run("Render", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := in.Render(ev, vars); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Bound", func(b *testing.B) {
		bound := in.Bind(vars)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := bound.Render(ev); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestRenderBudget: Vars.Budget bounds the URL, every header and the body;
// the error names the part and wraps render.ErrBudget.
func TestRenderBudget(t *testing.T) {
	in := compile(t, map[string]string{
		"manifest.json": testManifest(apiKeyVar, `{"endpoint": {"url": "https://{{host}}/{{#each context.target.resources}}{{this}}{{/each}}", "method": "POST",
		  "headers": [{"name": "X-Tags", "value": "{{#each context.target.resources}}{{this}},{{/each}}"}]},
		  "templates": {"default": "templates/d.json.hbs"}}`),
		"templates/d.json.hbs": "{\"r\": \"{{#each target.resources}}{{#each ../target.resources}}{{this}}{{/each}}{{/each}}\"}",
	})
	var res strings.Builder
	res.WriteString(`{"kind":"flag","name":"f","target":{"resources":[`)
	for i := range 2000 {
		if i > 0 {
			res.WriteByte(',')
		}
		res.WriteString(`"proj/p:env/e:flag/f` + strings.Repeat("x", i%7) + `"`)
	}
	res.WriteString(`]}}`)
	ev := NewEvent(mustDecode(t, res.String()), nil)
	vars := strVars("apiKey", "k", "host", "example.com")

	// The default budget lets URL and header through and stops the body.
	_, err := in.Render(ev, vars)
	if !errors.Is(err, render.ErrBudget) || !strings.HasPrefix(err.Error(), "rendering templates/d.json.hbs: templates/d.json.hbs:1:") ||
		!strings.HasSuffix(err.Error(), "produced more than 1 MiB of output (render budget)") {
		t.Fatalf("body over budget: %v", err)
	}
	// A smaller budget stops the URL first.
	vars.Budget = render.Budget{MaxOutput: 16 << 10}
	_, err = in.Render(ev, vars)
	if !errors.Is(err, render.ErrBudget) || !strings.HasPrefix(err.Error(), "rendering endpoint.url: ") ||
		!strings.HasSuffix(err.Error(), "produced more than 16 KiB of output (render budget)") {
		t.Fatalf("URL over budget: %v", err)
	}
	// Within budget, everything renders.
	small := NewEvent(mustDecode(t, `{"kind":"flag","name":"f","target":{"resources":["a","b"]}}`), nil)
	req, err := in.Render(small, vars)
	if err != nil || string(req.Body) != `{"r": "abab"}` || req.URL != "https://example.com/ab" {
		t.Fatalf("within budget: %+v, %v", req, err)
	}
}

// TestLintWarnsNestedIteration: validate and the template editor see the
// nested-iteration warning through Lint, at the template's line and column.
func TestLintWarnsNestedIteration(t *testing.T) {
	in := compile(t, map[string]string{
		"manifest.json":        testManifest(apiKeyVar, `{"endpoint": {"url": "https://{{host}}/", "method": "POST"}, "templates": {"default": "templates/d.json.hbs"}}`),
		"templates/d.json.hbs": "{\n  \"t\": \"{{#each tags}}{{#each ../tags}}{{this}};{{/each}}{{/each}}\"\n}",
	})
	var found []string
	for _, p := range in.Lint() {
		if strings.Contains(p.Msg, "nested iteration over the same array") {
			found = append(found, p.String())
		}
	}
	want := "test/templates/d.json.hbs:2:31: warning: lint (templates.default, sample flag context): nested iteration over the same array: tags is already iterated by the loop at 2:17"
	if len(found) != 1 || !strings.HasPrefix(found[0], want) {
		t.Fatalf("lint found %q, want one starting %q", found, want)
	}
}
