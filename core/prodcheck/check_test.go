package prodcheck

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/auditrelay/auditrelay/core/hook"
	"github.com/auditrelay/auditrelay/core/jsonv"
	"github.com/auditrelay/auditrelay/core/manifest"
	"github.com/auditrelay/auditrelay/core/reftest"
)

const testManifest = `{
  "name": "Production check",
  "version": "1.0.0",
  "overview": "A test integration.",
  "description": "An integration whose templates the production render check compares.",
  "author": "auditrelay tests",
  "supportEmail": "tests@example.com",
  "links": {"site": "https://example.com", "privacyPolicy": "https://example.com/privacy"},
  "categories": ["monitoring"],
  "icons": {"square": "a.svg", "horizontal": "b.svg"},
  "formVariables": [
    {"key": "apiKey", "name": "API key", "type": "string", "description": "The key.", "isSecret": true}
  ],
  "capabilities": {
    "auditLogEventsHook": {
      "endpoint": {"url": "https://example.com/{{pathEncode apiKey}}", "method": "POST", "headers": [{"name": "Authorization", "value": "{{{basicAuthHeaderValue apiKey 'x'}}}"}]},
      "templates": {"default": "templates/default.txt.hbs"}
    }
  }
}`

// load builds the integration with one default template.
func load(t *testing.T, tpl string) *hook.Integration {
	t.Helper()
	fsys := fstest.MapFS{
		"i/manifest.json":             {Data: []byte(testManifest)},
		"i/templates/default.txt.hbs": {Data: []byte(tpl)},
	}
	in, probs := manifest.LoadFS(fsys, "i", "i", "i")
	if in == nil {
		t.Fatalf("load: %v", probs)
	}
	h, err := hook.New(in)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func sample(t *testing.T, js string) []Sample {
	t.Helper()
	v, err := jsonv.DecodeString(js)
	if err != nil {
		t.Fatal(err)
	}
	return []Sample{{Name: "test", Kind: "flag", Context: v}}
}

// The example of handlebars-fidelity: a standalone {{/if}} followed by a
// standalone {{#if}} on the next line. handlebars.js (and auditrelay)
// drop both lines; raymond keeps the second one's indentation and newline.
func TestStandaloneLineAfterAnother(t *testing.T) {
	tpl := "[\n  {{#if a}}\n    A,\n  {{/if}}\n  {{#if b}}\n    B,\n  {{/if}}\n]"
	rep, err := Check(load(t, tpl), Options{Samples: sample(t, `{"a": true, "b": true}`)})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Diffs) != 1 {
		t.Fatalf("diffs = %+v, want one", rep.Diffs)
	}
	d := rep.Diffs[0]
	if d.Ours != "[\n    A,\n    B,\n]" || d.Theirs != "[\n    A,\n  \n    B,\n]" {
		t.Errorf("ours %q, theirs %q", d.Ours, d.Theirs)
	}
	want := Finding{Template: "templates/default.txt.hbs", Line: 5, Col: 3,
		Msg: "a standalone `{{#if b}}` line keeps its indentation and newline under Go Handlebars"}
	if len(rep.Findings) != 1 || rep.Findings[0].Template != want.Template || rep.Findings[0].Line != want.Line ||
		rep.Findings[0].Col != want.Col || rep.Findings[0].Msg != want.Msg {
		t.Errorf("findings = %+v\nwant %+v", rep.Findings, want)
	}
	u := d.Unified()
	if !strings.Contains(u, "+  \n") || !strings.Contains(u, "Go Handlebars") {
		t.Errorf("unified diff:\n%s", u)
	}
}

// Arrays print comma-joined in handlebars.js and joined without commas in
// raymond; an object as [object Object] against map[…].
func TestArrayAndObjectPrinting(t *testing.T) {
	tests := []struct {
		tpl, ctx, want string
	}{
		{"tags: {{tags}}\n", `{"tags": ["ops", "security"]}`,
			"`{{tags}}` writes \"ops,security\" here; Go Handlebars writes \"opssecurity\" (Go Handlebars prints an array without commas)"},
		{"x\ntarget: {{{target}}}\n", `{"target": {"key": "k"}}`,
			"`{{{target}}}` writes \"[object Object]\" here; Go Handlebars writes \"map[key:k]\" (Go Handlebars prints an object as map[…], handlebars.js as [object Object])"},
		{"{{#if o}}yes{{/if}}\n", `{"o": {}}`,
			"`{{#if o}}` writes \"yes\" here; Go Handlebars writes \"\" (Go Handlebars takes {} as false, and finds a name missing here in the parent contexts)"},
	}
	for _, tt := range tests {
		rep, err := Check(load(t, tt.tpl), Options{Samples: sample(t, tt.ctx)})
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Findings) != 1 || rep.Findings[0].Msg != tt.want || rep.Findings[0].Samples[0] != "test" {
			t.Errorf("%q: findings = %+v\nwant %s", tt.tpl, rep.Findings, tt.want)
		}
	}
}

// The framework's helpers are registered with raymond, and raymond's own
// equal is what production uses, so templates using them agree.
func TestHelpersAgree(t *testing.T) {
	tpl := "{{pathEncode title}}|{{queryEncode title}}|{{{basicAuthHeaderValue user pass}}}|{{formatWithOffset date 3600 'rfc3339'}}|" +
		"{{#equal kind 'flag'}}F{{/equal}}|{{#equalWithElse kind 'project'}}P{{else}}not P{{/equalWithElse}}\n"
	rep, err := Check(load(t, tpl), Options{Samples: sample(t, `{"title": "a b/ç?", "user": "u", "pass": "p:w", "date": 1580777319650, "kind": "flag"}`)})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Findings) > 0 || len(rep.Diffs) > 0 {
		t.Errorf("findings %+v, diffs %+v", rep.Findings, rep.Diffs)
	}
}

// Every difference in the reference integrations, rendered for the
// framework's 17 sample contexts, is explained by a finding with a line.
func TestReferenceIntegrations(t *testing.T) {
	ref := reftest.Dir(t)
	var samples []Sample
	err := filepath.WalkDir(filepath.Join(ref, "sample-context"), func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".json") {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		v, err := jsonv.Decode(data)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(filepath.Join(ref, "sample-context"), p)
		samples = append(samples, Sample{Name: filepath.ToSlash(rel), Kind: v.Get("kind").Text(), Context: v})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	results, probs := manifest.Scan(filepath.Join(ref, "integrations"))
	if probs.HasErrors() {
		t.Fatal(probs)
	}
	pairs, differing := 0, 0
	for _, r := range results {
		if r.Integration == nil || r.Integration.Hook() == nil {
			t.Fatalf("%s: %v", r.Name, r.Problems)
		}
		h, err := hook.New(r.Integration)
		if err != nil {
			t.Fatal(err)
		}
		rep, err := Check(h, Options{Samples: samples})
		if err != nil {
			t.Fatal(err)
		}
		explained := map[string]bool{}
		for _, f := range rep.Findings {
			if f.Line < 1 || f.Msg == "" {
				t.Errorf("%s: finding without a line: %+v", r.Name, f)
			}
			explained[f.Template] = true
		}
		for _, d := range rep.Diffs {
			differing++
			if !explained[d.Template] {
				t.Errorf("%s: %s differs for %s without a finding:\n%s", r.Name, d.Template, d.Sample, d.Unified())
			}
		}
		for _, p := range Problems(r.Integration, rep) {
			if p.Line < 1 || !strings.Contains(p.Msg, "Go Handlebars") {
				t.Errorf("%s: problem %s", r.Name, p)
			}
		}
		pairs += len(samples)
	}
	t.Logf("%d integrations × %d samples: %d template renders differ under Go Handlebars", len(results), len(samples), differing)
}
