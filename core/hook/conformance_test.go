package hook

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/auditrelay/auditrelay/core/reftest"

	"github.com/auditrelay/auditrelay/core/jsonv"
	"github.com/auditrelay/auditrelay/core/manifest"
)

func decodeFile(t testing.TB, path string) jsonv.Value {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	v, err := jsonv.Decode(data)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return v
}

// pairVars converts a golden pair's formVariables and oauth into Vars.
func pairVars(pair jsonv.Value) Vars {
	vars := Vars{Values: map[string]jsonv.Value{}}
	for _, m := range pair.Get("formVariables").Members() {
		vars.Values[m.Key] = m.Value
	}
	if o := pair.Get("oauth"); o.Kind() == jsonv.Object {
		vars.OAuth = &OAuth{BaseURI: o.Get("baseURI").Text(), AccessToken: o.Get("accessToken").Text()}
	}
	return vars
}

// TestConformance renders every integration x context pair of the
// reference goldens (what LaunchDarkly's renderer produces) and requires
// byte-identical template choice, method, URL, headers and body.
func TestConformance(t *testing.T) {
	ref := reftest.Dir(t)
	index := decodeFile(t, filepath.Join(ref, "golden", "index.json"))
	pairs := index.Get("pairs").Elems()
	if len(pairs) == 0 {
		t.Fatal("golden/index.json lists no pairs")
	}
	integrations := map[string]*Integration{}
	identical := 0
	for _, pair := range pairs {
		name := pair.Get("integration").Text()
		ctxPath := pair.Get("context").Text()
		t.Run(name+"/"+strings.TrimSuffix(strings.TrimPrefix(ctxPath, "sample-context/"), ".json"), func(t *testing.T) {
			in := integrations[name]
			if in == nil {
				src, probs := manifest.LoadDir(filepath.Join(ref, "integrations", name))
				if src == nil {
					t.Fatalf("loading %s:\n%v", name, probs)
				}
				var err error
				if in, err = New(src); err != nil {
					t.Fatal(err)
				}
				integrations[name] = in
			}
			ctx := decodeFile(t, filepath.Join(ref, ctxPath))
			golden := decodeFile(t, filepath.Join(ref, "golden", pair.Get("golden").Text()))
			req, err := in.Render(NewEvent(ctx, nil), pairVars(pair))
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			ok := true
			check := func(what, got, want string) {
				if got != want {
					ok = false
					t.Errorf("%s differs at byte %d:\n got: %s\nwant: %s", what, firstDiff(got, want), got, want)
				}
			}
			check("template", req.Template, golden.Get("template").Text())
			check("method", req.Method, golden.Get("method").Text())
			check("url", req.URL, golden.Get("url").Text())
			check("headers", headerLines(req.Headers), goldenHeaders(golden))
			if b := golden.Get("body"); b.Kind() == jsonv.Null {
				if req.Body != nil {
					ok = false
					t.Errorf("body = %q, want none (golden body is null); skipped = %q", req.Body, req.Skipped)
				}
			} else {
				check("body", string(req.Body), b.Text())
			}
			if ok {
				identical++
			}
		})
	}
	t.Logf("conformance: %d/%d pairs byte-identical", identical, len(pairs))
}

func headerLines(hs []Header) string {
	var b strings.Builder
	for _, h := range hs {
		fmt.Fprintf(&b, "%s: %s\n", h.Name, h.Value)
	}
	return b.String()
}

func goldenHeaders(g jsonv.Value) string {
	var b strings.Builder
	for _, h := range g.Get("headers").Elems() {
		fmt.Fprintf(&b, "%s: %s\n", h.Get("name").Text(), h.Get("value").Text())
	}
	return b.String()
}

func firstDiff(a, b string) int {
	n := min(len(a), len(b))
	for i := 0; i < n; i++ {
		if a[i] != b[i] {
			return i
		}
	}
	return n
}
