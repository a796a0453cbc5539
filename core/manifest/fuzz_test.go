package manifest

import (
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/auditrelay/auditrelay/core/reftest"
	"github.com/auditrelay/auditrelay/templates"
)

// FuzzLoadManifest loads arbitrary manifest bytes next to a fixed set of
// template files: it must never panic, and every problem about
// manifest.json must carry a line and column.
func FuzzLoadManifest(f *testing.F) {
	f.Add([]byte(baseManifest))
	f.Add([]byte(`{"capabilities": {"auditLogEventsHook": {"templates": {"flag": "templates/flag.json.hbs"}, "endpoint": {"url": "{{#if a}}", "method": "GET"}}}}`))
	f.Add([]byte(`{"formVariables": [{"key": "a b", "type": "enum", "isOptional": true}], "x": [1, 2,]}`))
	if seed, _, err := reftest.Seed(); err == nil {
		f.Add([]byte(seed))
	}
	_ = fs.WalkDir(templates.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, "manifest.json") {
			if data, err := fs.ReadFile(templates.FS(), p); err == nil {
				f.Add(data)
			}
		}
		return nil
	})
	f.Fuzz(func(t *testing.T, data []byte) {
		fsys := fstest.MapFS{
			"i/manifest.json":              {Data: data},
			"i/templates/flag.json.hbs":    {Data: []byte(baseFlagTemplate)},
			"i/templates/default.json.hbs": {Data: []byte("{{#each tags}}{{formVariables.x}}{{/each}")},
		}
		in, probs := LoadFS(fsys, "i", "i", "i")
		if in != nil && probs.HasErrors() {
			t.Fatalf("integration returned despite errors:\n%v", probs)
		}
		if in == nil && !probs.HasErrors() {
			t.Fatal("no integration and no error")
		}
		for _, p := range probs {
			if p.File == "" || p.Msg == "" {
				t.Fatalf("problem without file or message: %+v", p)
			}
			if p.File == "i/manifest.json" && p.Line < 1 {
				t.Fatalf("manifest problem without position: %s", p)
			}
		}
		if in != nil {
			// A valid manifest's values logic must hold up too.
			_, _ = in.Manifest.ResolveValues(nil)
		}
	})
}

// FuzzTemplateRefs scans arbitrary template text: no panic, and every
// reference lies inside the text and has a non-empty first segment.
func FuzzTemplateRefs(f *testing.F) {
	f.Add(baseFlagTemplate)
	f.Add(`{{#each a as |x|}}{{x}}{{else}}{{../b}}{{/each}}{{{{raw}}}}{{y}}{{{{/raw}}}}`)
	f.Add(`{{!-- {{a}} --}}{{'x' "y}}" (z w=v)}}\{{q}}{{[a b].c}}`)
	f.Fuzz(func(t *testing.T, src string) {
		for _, r := range TemplateRefs(src) {
			if r.Off < 0 || r.Off >= len(src) || len(r.Segs) == 0 || r.Segs[0] == "" {
				t.Fatalf("bad ref %+v in %q", r, src)
			}
		}
	})
}
