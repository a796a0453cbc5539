package render

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/auditrelay/auditrelay/core/reftest"

	"github.com/auditrelay/auditrelay/core/jsonv"
)

type goldenIndex struct {
	Pairs []goldenPair `json:"pairs"`
}

type goldenPair struct {
	Integration   string          `json:"integration"`
	Context       string          `json:"context"`
	Golden        string          `json:"golden"`
	Template      *string         `json:"template"`
	IsJSON        bool            `json:"isJSON"`
	FormVariables json.RawMessage `json:"formVariables"`
	OAuth         json.RawMessage `json:"oauth"`
}

type goldenFile struct {
	Template *string `json:"template"`
	Method   string  `json:"method"`
	URL      string  `json:"url"`
	Headers  []struct {
		Name  string `json:"name"`
		Value string `json:"value"`
	} `json:"headers"`
	Body *string `json:"body"`
}

type manifest struct {
	Capabilities struct {
		Hook struct {
			Endpoint struct {
				URL     string `json:"url"`
				Headers []struct {
					Name  string `json:"name"`
					Value string `json:"value"`
				} `json:"headers"`
			} `json:"endpoint"`
		} `json:"auditLogEventsHook"`
	} `json:"capabilities"`
}

func readJSON(tb testing.TB, path string, v any) {
	tb.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		tb.Fatalf("%s: %v", path, err)
	}
}

func decodeFile(tb testing.TB, path string) jsonv.Value {
	tb.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	v, err := jsonv.Decode(data)
	if err != nil {
		tb.Fatalf("%s: %v", path, err)
	}
	return v
}

func decodeRaw(tb testing.TB, raw json.RawMessage) jsonv.Value {
	tb.Helper()
	if len(raw) == 0 {
		return jsonv.NullValue()
	}
	v, err := jsonv.Decode(raw)
	if err != nil {
		tb.Fatal(err)
	}
	return v
}

// bodyContext builds the framework's body context: the event (JSON-escaped
// for JSON templates) plus formVariables = form values + oauth.
func bodyContext(event, formVars, oauth jsonv.Value, isJSON bool) jsonv.Value {
	if isJSON {
		event = jsonv.EscapeStrings(event)
	}
	return event.With("formVariables", formVars.With("oauth", oauth))
}

// endpointContext builds the URL/header context: form values at the top,
// the raw event as context, and oauth.
func endpointContext(event, formVars, oauth jsonv.Value) jsonv.Value {
	return formVars.With("context", event).With("oauth", oauth)
}

func TestGoldenConformance(t *testing.T) {
	ref := reftest.Dir(t)
	var idx goldenIndex
	readJSON(t, filepath.Join(ref, "golden", "index.json"), &idx)
	if len(idx.Pairs) == 0 {
		t.Fatal("golden/index.json lists no pairs")
	}
	templates := map[string]*Template{}
	parse := func(name, src string) *Template {
		if tpl, ok := templates[name]; ok {
			return tpl
		}
		tpl, err := Parse(name, src)
		if err != nil {
			t.Fatalf("parse: %v", err)
		}
		templates[name] = tpl
		return tpl
	}
	bodies, endpoints := 0, 0
	for _, pair := range idx.Pairs {
		t.Run(pair.Golden, func(t *testing.T) {
			var g goldenFile
			readJSON(t, filepath.Join(ref, "golden", pair.Golden), &g)
			event := decodeFile(t, filepath.Join(ref, pair.Context))
			formVars := decodeRaw(t, pair.FormVariables)
			oauth := decodeRaw(t, pair.OAuth)
			integ := filepath.Join(ref, "integrations", pair.Integration)

			if g.Body != nil {
				if pair.Template == nil {
					t.Fatalf("golden has a body but the index names no template")
				}
				path := filepath.Join(integ, *pair.Template)
				src, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				if IsJSONTemplate(*pair.Template) != pair.IsJSON {
					t.Errorf("IsJSONTemplate(%q) = %v, index says isJSON %v", *pair.Template, !pair.IsJSON, pair.IsJSON)
				}
				tpl := parse(path, string(src))
				got, err := tpl.Execute(bodyContext(event, formVars, oauth, pair.IsJSON))
				if err != nil {
					t.Fatalf("body: %v", err)
				}
				if got != *g.Body {
					t.Errorf("body differs from golden\n--- got\n%s\n--- want\n%s", got, *g.Body)
				}
				bodies++
			} else if pair.Template != nil {
				t.Errorf("index names template %s but the golden body is null", *pair.Template)
			}

			var m manifest
			readJSON(t, filepath.Join(integ, "manifest.json"), &m)
			ep := m.Capabilities.Hook.Endpoint
			ectx := endpointContext(event, formVars, oauth)
			url := parse(pair.Integration+"/manifest.json#endpoint.url", ep.URL)
			gotURL, err := url.Execute(ectx)
			if err != nil {
				t.Fatalf("url: %v", err)
			}
			if gotURL != g.URL {
				t.Errorf("url = %q, golden %q", gotURL, g.URL)
			}
			if len(ep.Headers) != len(g.Headers) {
				t.Fatalf("%d headers in manifest, %d in golden", len(ep.Headers), len(g.Headers))
			}
			for i, h := range ep.Headers {
				tpl := parse(pair.Integration+"/manifest.json#endpoint.headers."+h.Name, h.Value)
				got, err := tpl.Execute(ectx)
				if err != nil {
					t.Fatalf("header %s: %v", h.Name, err)
				}
				if h.Name != g.Headers[i].Name || got != g.Headers[i].Value {
					t.Errorf("header %d = %s: %q, golden %s: %q", i, h.Name, got, g.Headers[i].Name, g.Headers[i].Value)
				}
			}
			endpoints++
		})
	}
	t.Logf("%d bodies and %d endpoints (url + headers) compared with %d golden pairs", bodies, endpoints, len(idx.Pairs))
}
