package hook

import (
	"slices"
	"testing"
)

func TestStaticURL(t *testing.T) {
	// The URL reads the entry: known only per delivery.
	kind := kindIntegration(t)
	if u, ok, err := kind.Bind(strVars("host", "h.example.com", "apiKey", "k")).StaticURL(); ok || err != nil {
		t.Errorf("entry-dependent URL: %q, %v, %v; want not static", u, ok, err)
	}
	if got := kind.URLFormVariables(); !slices.Equal(got, []string{"host"}) {
		t.Errorf("URLFormVariables = %v, want [host]", got)
	}

	// The built-in webhook's URL is its url form variable.
	wh := builtin(t, "webhook")
	u, ok, err := wh.Bind(strVars("url", "http://169.254.169.254/latest/")).StaticURL()
	if !ok || err != nil || u != "http://169.254.169.254/latest/" {
		t.Errorf("webhook: %q, %v, %v", u, ok, err)
	}
	if got := wh.URLFormVariables(); !slices.Equal(got, []string{"url"}) {
		t.Errorf("webhook URLFormVariables = %v, want [url]", got)
	}

	// Two form variables, one fixed part; oauth in scope too.
	two := compile(t, map[string]string{
		"manifest.json": testManifest(`{"key": "scheme", "name": "Scheme", "type": "string", "description": "S."},
    {"key": "host", "name": "Host", "type": "string", "description": "H."}`,
			`{"endpoint": {"url": "{{scheme}}://{{host}}:8443/in/{{host}}", "method": "POST", "headers": []},
			  "templates": {"default": "templates/d.txt.hbs"}}`),
		"templates/d.txt.hbs": `x`,
	})
	u, ok, err = two.Bind(strVars("scheme", "https", "host", "10.0.0.1")).StaticURL()
	if !ok || err != nil || u != "https://10.0.0.1:8443/in/10.0.0.1" {
		t.Errorf("two vars: %q, %v, %v", u, ok, err)
	}
	if got := two.URLFormVariables(); !slices.Equal(got, []string{"scheme", "host"}) {
		t.Errorf("URLFormVariables = %v", got)
	}
}
