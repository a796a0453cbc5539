package auditlog

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/auditrelay/auditrelay/core/reftest"

	"github.com/auditrelay/auditrelay/core/jsonv"
)

var update = flag.Bool("update", false, "rewrite testdata/golden from the current output")

// fixtures returns the raw entries in testdata/entries by base name.
func fixtures(t testing.TB) map[string][]byte {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join("testdata", "entries", "*.json"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no fixtures in testdata/entries: %v", err)
	}
	out := make(map[string][]byte, len(paths))
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out[strings.TrimSuffix(filepath.Base(p), ".json")] = b
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func newTestBuilder(t testing.TB, opts Options) *Builder {
	t.Helper()
	b, err := NewBuilder(opts)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func buildFixture(t testing.TB, b *Builder, raw []byte) jsonv.Value {
	t.Helper()
	e, err := DecodeEntry(raw)
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	if len(e.Warnings) > 0 {
		t.Errorf("unexpected warnings: %v", e.Warnings)
	}
	return b.Build(e)
}

// TestBuildGolden pins the whole context of every fixture. Run with
// -update after a deliberate change and review the diff.
func TestBuildGolden(t *testing.T) {
	b := newTestBuilder(t, Options{})
	fx := fixtures(t)
	for _, name := range sortedKeys(fx) {
		t.Run(name, func(t *testing.T) {
			got := append(jsonv.MarshalIndent(buildFixture(t, b, fx[name]), "  "), '\n')
			path := filepath.Join("testdata", "golden", name+".json")
			if *update {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -run TestBuildGolden -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("context differs from %s (rerun with -update if intended):\n%s", path, lineDiff(string(want), string(got)))
			}
		})
	}
}

// lineDiff shows the first differing lines, enough to see what changed.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	shown := 0
	for i := 0; i < max(len(w), len(g)) && shown < 10; i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			b.WriteString("line " + itoa(i+1) + ":\n  want: " + wl + "\n  got:  " + gl + "\n")
			shown++
		}
	}
	return b.String()
}

func itoa(i int) string { return string(jsonv.AppendNumber(nil, float64(i))) }

// sampleGroup maps an entry kind to the sample contexts of the same kind.
func sampleGroup(kind string) string {
	switch kind {
	case "flag", "project", "environment", "member":
		return kind + "/*.json"
	default:
		return "other/" + kind + ".*.json"
	}
}

// shape is every field path of a set of contexts with the JSON types seen
// there, and how many of the contexts have the path.
type shape struct {
	docs  int
	types map[string]map[string]bool
	count map[string]int
}

func newShape() *shape {
	return &shape{types: map[string]map[string]bool{}, count: map[string]int{}}
}

func (s *shape) add(v jsonv.Value) {
	s.docs++
	seen := map[string]bool{}
	walkPaths(v, "", func(path, typ string) {
		if s.types[path] == nil {
			s.types[path] = map[string]bool{}
		}
		s.types[path][typ] = true
		if !seen[path] {
			seen[path] = true
			s.count[path]++
		}
	})
}

// walkPaths calls fn for every path below v. Array elements share the path
// "[]". Members of customProperties are data (one per custom property), so
// they share "customProperties.*".
func walkPaths(v jsonv.Value, path string, fn func(path, typ string)) {
	typ := v.Kind().String()
	if path != "" {
		fn(path, typ)
	}
	switch v.Kind() {
	case jsonv.Object:
		for _, m := range v.Members() {
			key := m.Key
			if path == "customProperties" {
				key = "*"
			}
			walkPaths(m.Value, joinPath(path, key), fn)
		}
	case jsonv.Array:
		for _, e := range v.Elems() {
			walkPaths(e, path+"[]", fn)
		}
	}
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func loadShape(t *testing.T, pattern string) *shape {
	t.Helper()
	paths, err := filepath.Glob(pattern)
	if err != nil || len(paths) == 0 {
		t.Fatalf("no sample contexts match %s", pattern)
	}
	s := newShape()
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		v, err := jsonv.Decode(b)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		s.add(v)
	}
	return s
}

// TestContextMatchesSampleShape checks each fixture's context against the
// framework's sample contexts of the same kind:
//
//   - a path present in every sample of the kind must be present, except
//     paths inside arrays (an empty array has no elements);
//   - a path present in only some samples (comment, customProperties, a
//     link that some resources lack) may be absent, but when present it
//     must have a type seen there;
//   - a value's type must be one the samples of the kind show at that path,
//     so null is accepted exactly where some sample has null (tags,
//     project.environment.tags), and an array where some sample has one;
//   - every path of the context must occur in some sample of any kind, so
//     the builder invents no fields.
func TestContextMatchesSampleShape(t *testing.T) {
	dir := filepath.Join(reftest.Dir(t), "sample-context")
	all := loadShape(t, filepath.Join(dir, "*", "*.json"))
	b := newTestBuilder(t, Options{})
	fx := fixtures(t)
	for _, name := range sortedKeys(fx) {
		t.Run(name, func(t *testing.T) {
			ctx := buildFixture(t, b, fx[name])
			kind := ctx.Get("kind").Text()
			samples := loadShape(t, filepath.Join(dir, sampleGroup(kind)))
			got := newShape()
			got.add(ctx)
			for _, path := range sortedKeys(samples.types) {
				// Array elements are data, not shape: [] is a valid tags.
				if strings.Contains(path, "[]") {
					continue
				}
				if samples.count[path] == samples.docs && got.count[path] == 0 {
					t.Errorf("%s: missing (present in all %d %s samples)", path, samples.docs, kind)
				}
			}
			for _, path := range sortedKeys(got.types) {
				want := samples.types[path]
				if want == nil {
					if all.types[path] == nil {
						t.Errorf("%s: not a field of any sample context", path)
					}
					continue
				}
				for typ := range got.types[path] {
					if !want[typ] {
						t.Errorf("%s: type %s, samples of kind %s have %v", path, typ, kind, sortedKeys(want))
					}
				}
			}
		})
	}
}

// TestSampleKeyOrder checks that the context lists the fields the samples
// share in the samples' order, since templates iterate objects.
func TestSampleKeyOrder(t *testing.T) {
	dir := filepath.Join(reftest.Dir(t), "sample-context")
	raw, err := os.ReadFile(filepath.Join(dir, "flag", "toggle.json"))
	if err != nil {
		t.Fatal(err)
	}
	sample, err := jsonv.Decode(raw)
	if err != nil {
		t.Fatal(err)
	}
	ctx := buildFixture(t, newTestBuilder(t, Options{}), fixtures(t)["flag-toggle"])
	for _, path := range [][]string{nil, {"member"}, {"project"}, {"project", "environment"}, {"title"}, {"details"}, {"timestamp"}, {"target"}, {"_links"}} {
		want := keys(sample.Path(path...))
		got := keys(ctx.Path(path...))
		if !slices.Equal(got, want) {
			t.Errorf("keys of %q:\n got  %v\n want %v", strings.Join(path, "."), got, want)
		}
	}
}

func keys(v jsonv.Value) []string {
	var out []string
	for _, m := range v.Members() {
		out = append(out, m.Key)
	}
	return out
}

func TestBuildFields(t *testing.T) {
	b := newTestBuilder(t, Options{})
	fx := fixtures(t)
	tests := []struct {
		fixture string
		path    []string
		want    string // JSON of the value at path
	}{
		{"flag-toggle", []string{"verbKind"}, `"updateOn"`},
		{"flag-toggle", []string{"key"}, `"new-checkout-flow"`},
		{"flag-toggle", []string{"tags"}, `["payments","web"]`},
		{"flag-toggle", []string{"project"}, `{"name":"Checkout","key":"checkout","tags":["payments"],"environment":{"name":"Production","key":"production","tags":[]}}`},
		{"flag-toggle", []string{"customProperties"}, `{"jira.issues":{"name":"Jira issues","values":["CHK-142","CHK-151"]},"datadog.tags":{"name":"Datadog tags","values":["service:checkout"]}}`},
		{"flag-toggle", []string{"timestamp"}, `{"milliseconds":1737540002113,"seconds":1737540002,"rfc3339":"2025-01-22T10:00:02Z","simple":"2025-01-22 10:00:02"}`},
		{"flag-toggle", []string{"_links", "details", "href"}, `"https://app.launchdarkly.com/checkout/production/audit/6790c1a2e4b0c2d3f4a5b601/details"`},
		{"flag-toggle", []string{"_links", "site", "href"}, `"https://app.launchdarkly.com/checkout/production/features/new-checkout-flow"`},
		{"flag-toggle", []string{"title", "plainText"}, `"Maya Okafor turned on the flag New checkout flow in 'Production'"`},
		{"flag-toggle", []string{"title", "html"}, `"<a href=\"mailto:maya.okafor@example.com\">Maya Okafor</a> turned on the flag <a href=\"https://app.launchdarkly.com/checkout/production/features/new-checkout-flow\">New checkout flow</a> in <code>Production</code>"`},
		{"flag-toggle", []string{"comment"}, `"Canary looked healthy for 48h, rolling out"`},
		{"flag-toggle", []string{"member", "displayName"}, `"Maya Okafor"`},
		{"flag-toggle", []string{"member", "emailLocalPart"}, `"maya.okafor"`},
		{"flag-toggle", []string{"member", "_links", "self", "href"}, `"https://app.launchdarkly.com/api/v2/members/5f9a1b2c3d4e5f6a7b8c9d11"`},
		{"flag-targeting", []string{"verbKind"}, `"updateRules"`},
		{"flag-targeting", []string{"details", "plainText"}, `"Added the rule\n  If 'country' is one of 'CA', 'US'\n  serve 'true'\nDecreased the rollout from '20%' to '10%' for the default rule"`},
		{"flag-targeting", []string{"details", "html"}, `"<ul><li>Added the rule<blockquote>\n<p><strong>If</strong> <code>country</code> <strong>is one of</strong> <code>CA</code>, <code>US</code><br>\n<strong>serve</strong> <code>true</code></p>\n</blockquote>\n</li>\n<li>Decreased the rollout from <strike><code>20%</code></strike> to <code>10%</code> for the default rule</li></ul>"`},
		{"flag-targeting", []string{"customProperties"}, ``}, // empty in the flag: omitted
		{"flag-create", []string{"project", "environment"}, `{"name":"All environments","key":"~","tags":[]}`},
		{"flag-create", []string{"_links", "details", "href"}, `"https://app.launchdarkly.com/settings/history/678fa0c3e4b0c2d3f4a5b5d2/details"`},
		{"flag-create", []string{"comment"}, ``},
		{"flag-create", []string{"tags"}, `["payments"]`},
		{"project-create", []string{"project"}, `{"name":"Mobile app","key":"mobile-app","tags":["mobile"],"environment":{"name":"","key":"","tags":null}}`},
		{"project-create", []string{"target", "_id"}, `"678e4b10e4b0c2d3f4a5b49f"`},
		{"environment-create", []string{"project"}, `{"name":"Checkout","key":"checkout","tags":[],"environment":{"name":"Staging","key":"staging","tags":["pre-prod"]}}`},
		{"environment-create", []string{"key"}, `"staging"`},
		{"member-update", []string{"key"}, ``},
		{"member-update", []string{"tags"}, `null`},
		{"member-update", []string{"project"}, `{"name":"","key":"","tags":null,"environment":{"name":"","key":"","tags":null}}`},
		{"member-update", []string{"member", "displayName"}, `"admin@example.com"`},
		{"member-update", []string{"target", "_id"}, `"64b7f0c2a1d2e3f4a5b6c7d8"`},
		{"member-update", []string{"details", "html"}, `"<ul><li>Changed the role from <strike><code>writer</code></strike> to <code>reader</code></li></ul>"`},
		{"segment-create", []string{"project", "environment", "name"}, `"Production"`},
		{"segment-create", []string{"_links", "canonical"}, ``},
		{"segment-update", []string{"member", "displayName"}, `"CI deploy token"`},
		{"segment-update", []string{"member", "email"}, `""`},
		{"segment-update", []string{"title", "markdown"}, `"CI deploy token updated the segment [Beta testers](https://app.launchdarkly.com/checkout/production/segments/beta-testers)"`},
		{"segment-update", []string{"details", "plainText"}, `"Added the included context 'user' 'jordan@example.com'\nAdded the included context 'user' 'priya@example.com'"`},
		{"metric-create", []string{"project", "environment"}, `{"name":"","key":"","tags":null}`},
		{"metric-create", []string{"_links", "site"}, ``},
		{"metric-create", []string{"key"}, `"checkout-conversion"`},
		{"webhook-enable", []string{"key"}, ``},
		{"webhook-enable", []string{"tags"}, `["ops"]`},
		{"webhook-enable", []string{"verbKind"}, `"updateOn"`},
	}
	ctxs := map[string]jsonv.Value{}
	for _, tc := range tests {
		ctx, ok := ctxs[tc.fixture]
		if !ok {
			ctx = buildFixture(t, b, fx[tc.fixture])
			ctxs[tc.fixture] = ctx
		}
		v := ctx.Path(tc.path...)
		got := ""
		if !v.IsUndefined() {
			got = string(jsonv.Marshal(v))
		}
		if got != tc.want {
			t.Errorf("%s %s:\n got  %s\n want %s", tc.fixture, strings.Join(tc.path, "."), got, tc.want)
		}
	}
}

func TestBuildBaseURLAndLookup(t *testing.T) {
	lookup := MapLookup{
		Projects:     map[string]Resource{"checkout": {Name: "Checkout (EU)", Tags: []string{"payments", "eu"}}},
		Environments: map[EnvKey]Resource{{"checkout", "production"}: {Name: "Prod EU", Tags: []string{"critical"}}},
	}
	b := newTestBuilder(t, Options{BaseURL: "https://app.eu.launchdarkly.com/", Lookup: lookup})
	fx := fixtures(t)
	e, err := DecodeEntry(fx["flag-targeting"])
	if err != nil {
		t.Fatal(err)
	}
	ctx := b.Build(e)
	checks := map[string]string{
		"baseURL":                   `"https://app.eu.launchdarkly.com"`,
		"_links.self.href":          `"https://app.eu.launchdarkly.com/api/v2/auditlog/6790d7e1e4b0c2d3f4a5b67c"`,
		"_links.details.href":       `"https://app.eu.launchdarkly.com/checkout/production/audit/6790d7e1e4b0c2d3f4a5b67c/details"`,
		"target._links.site.href":   `"https://app.eu.launchdarkly.com/checkout/production/features/new-checkout-flow"`,
		"project.name":              `"Checkout (EU)"`,
		"project.tags":              `["payments","eu"]`,
		"project.environment.name":  `"Prod EU"`,
		"project.environment.tags":  `["critical"]`,
		"member._links.parent.href": `"https://app.eu.launchdarkly.com/api/v2/members"`,
	}
	for path, want := range checks {
		if got := string(jsonv.Marshal(ctx.Path(strings.Split(path, ".")...))); got != want {
			t.Errorf("%s = %s, want %s", path, got, want)
		}
	}
}

func TestNewBuilderRejectsBadBaseURL(t *testing.T) {
	for _, base := range []string{"app.launchdarkly.com", "ftp://x", "https://", "::", "https://x/?q=1"} {
		if _, err := NewBuilder(Options{BaseURL: base}); err == nil {
			t.Errorf("NewBuilder(%q) accepted a bad base URL", base)
		}
	}
}

// TestBuildScopeShapes covers the access shapes §7 A6 lists for changes to
// a flag in all environments, and scope fallbacks without names.
func TestBuildScopeShapes(t *testing.T) {
	b := newTestBuilder(t, Options{})
	tests := []struct {
		name, entry string
		wantEnv     string // JSON of project.environment
		wantProj    string // JSON of project.name
	}{
		{"env star", `{"_id":"a","date":0,"kind":"flag","accesses":[{"action":"updateName","resource":"proj/p:env/*:flag/f"}]}`,
			`{"name":"All environments","key":"~","tags":[]}`, `"p"`},
		{"env tilde", `{"_id":"a","date":0,"kind":"flag","accesses":[{"action":"updateName","resource":"proj/p:env/~:flag/f"}]}`,
			`{"name":"All environments","key":"~","tags":[]}`, `"p"`},
		{"no env", `{"_id":"a","date":0,"kind":"flag","accesses":[{"action":"deleteFlag","resource":"proj/p:flag/f"}]}`,
			`{"name":"All environments","key":"~","tags":[]}`, `"p"`},
		{"one access per env", `{"_id":"a","date":0,"kind":"flag","accesses":[{"action":"updateTags","resource":"proj/p:env/production:flag/f"},{"action":"updateTags","resource":"proj/p:env/test:flag/f"}]}`,
			`{"name":"All environments","key":"~","tags":[]}`, `"p"`},
		{"copy between envs stays scoped", `{"_id":"a","date":0,"kind":"flag","accesses":[{"action":"copyFlagConfigTo","resource":"proj/p:env/test:flag/f"},{"action":"copyFlagConfigFrom","resource":"proj/p:env/production:flag/f"}],"title":"x copied the flag in ` + "`Test`" + `"}`,
			`{"name":"Test","key":"test","tags":[]}`, `"p"`},
		{"env name from parent", `{"_id":"a","date":0,"kind":"segment","accesses":[{"action":"createSegment","resource":"proj/p;t1:env/prod;crit:segment/s"}],"parent":{"name":"Production","resource":"proj/p:env/prod"}}`,
			`{"name":"Production","key":"prod","tags":["crit"]}`, `"p"`},
		{"unscoped kind", `{"_id":"a","date":0,"kind":"role","accesses":[{"action":"createRole","resource":"role/ops"}]}`,
			`{"name":"","key":"","tags":null}`, `""`},
		{"no accesses", `{"_id":"a","date":0,"kind":"flag","accesses":[]}`,
			`{"name":"","key":"","tags":null}`, `""`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, err := DecodeEntry([]byte(tc.entry))
			if err != nil {
				t.Fatal(err)
			}
			ctx := b.Build(e)
			if got := string(jsonv.Marshal(ctx.Path("project", "environment"))); got != tc.wantEnv {
				t.Errorf("project.environment = %s, want %s", got, tc.wantEnv)
			}
			if got := string(jsonv.Marshal(ctx.Path("project", "name"))); got != tc.wantProj {
				t.Errorf("project.name = %s, want %s", got, tc.wantProj)
			}
		})
	}
}

func TestBuildMinimalEntry(t *testing.T) {
	// The smallest valid entry still yields the full context shape.
	e, err := DecodeEntry([]byte(`{"_id":"e1","date":-1,"kind":"flag","accesses":[{"action":"createFlag","resource":"proj/p:env/*:flag/new"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	ctx := newTestBuilder(t, Options{}).Build(e)
	want := map[string]string{
		"timestamp.seconds":       `-1`,
		"timestamp.rfc3339":       `"1969-12-31T23:59:59Z"`,
		"titleVerb":               `"created the flag"`,
		"title.markdown":          `"Someone created the flag new"`,
		"title.html":              `"Someone created the flag new"`,
		"name":                    `"new"`,
		"member.displayName":      `""`,
		"member._links.self.href": `""`,
		"_links.self.href":        `"https://app.launchdarkly.com/api/v2/auditlog/e1"`,
		"details.html":            `""`,
	}
	for path, w := range want {
		if got := string(jsonv.Marshal(ctx.Path(strings.Split(path, ".")...))); got != w {
			t.Errorf("%s = %s, want %s", path, got, w)
		}
	}
}

func TestBuildConcurrent(t *testing.T) {
	b := newTestBuilder(t, Options{})
	fx := fixtures(t)
	want := map[string]string{}
	for name, raw := range fx {
		want[name] = string(jsonv.Marshal(buildFixture(t, b, raw)))
	}
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Go(func() {
			for name, raw := range fx {
				e, err := DecodeEntry(raw)
				if err != nil {
					t.Error(err)
					return
				}
				if got := string(jsonv.Marshal(b.Build(e))); got != want[name] {
					t.Errorf("%s: concurrent build differs", name)
				}
			}
		})
	}
	wg.Wait()
}

// EnvKey names an environment within its project.
type EnvKey struct{ Project, Env string }

// MapLookup is a Lookup over fixed maps.
type MapLookup struct {
	Projects     map[string]Resource
	Environments map[EnvKey]Resource
}

// Project implements Lookup.
func (m MapLookup) Project(key string) (Resource, bool) {
	r, ok := m.Projects[key]
	return r, ok
}

// Environment implements Lookup.
func (m MapLookup) Environment(projectKey, envKey string) (Resource, bool) {
	r, ok := m.Environments[EnvKey{projectKey, envKey}]
	return r, ok
}
