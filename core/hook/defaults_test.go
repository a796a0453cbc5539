package hook

import "testing"

// hmacSignature without headerName (auditrelay warns; LaunchDarkly's
// tests allow it) signs in X-LD-Signature, the header LaunchDarkly's own
// webhooks use.
func TestRenderSignsWithDefaultHeader(t *testing.T) {
	in := compile(t, map[string]string{
		"manifest.json": testManifest(`{"key": "secret", "name": "Secret", "type": "string", "description": "S.", "isSecret": true}`,
			`{"endpoint": {"url": "https://x", "method": "POST", "headers": [], "hmacSignature": {"hmacSecretFormVariableKey": "secret"}},
			  "templates": {"default": "templates/d.txt.hbs"}}`),
		"templates/d.txt.hbs": `The quick brown fox jumps over the {{name}}`,
	})
	req, err := in.Render(NewEvent(mustDecode(t, `{"kind": "flag", "name": "lazy dog"}`), nil), strVars("secret", "key"))
	if err != nil {
		t.Fatal(err)
	}
	if len(req.Headers) != 1 || req.Headers[0] != (Header{"X-LD-Signature", "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8", false}) {
		t.Errorf("headers = %+v", req.Headers)
	}
}

// A hook without endpoint (and not custom) loads with a warning; its
// body renders, and the request says there is nowhere to send it.
func TestRenderWithoutEndpointIsSkipped(t *testing.T) {
	in := compile(t, map[string]string{
		"manifest.json":        testManifest(``, `{"templates": {"default": "templates/d.json.hbs"}}`),
		"templates/d.json.hbs": `{"title": "{{{title}}}"}`,
	})
	req, err := in.Render(NewEvent(mustDecode(t, `{"kind": "flag", "title": "t"}`), nil), Vars{})
	if err != nil {
		t.Fatal(err)
	}
	if req.Skipped != SkipNoEndpoint || string(req.Body) != `{"title": "t"}` || req.Method != "" {
		t.Errorf("request = %+v body %s", req, req.Body)
	}
}
