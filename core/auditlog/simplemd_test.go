package auditlog

import (
	"testing"
)

// simpleSeeds are titles as LaunchDarkly writes them and near misses that
// must go to the parser.
var simpleSeeds = []string{
	"[Henrietta Powell](mailto:testing@launchdarkly.com) turned on the flag [Demo flag](https://app.launchdarkly.com/default/production/features/demo-flag) in `Production`",
	"[testing@launchdarkly.com](mailto:testing@launchdarkly.com) updated the member [ffeldberg+testtest@launchdarkly.com](http://localhost/settings/members/6241dc4740fba70b235672b5/permissions)",
	"[Henrietta Powell](mailto:testing@launchdarkly.com) updated the flag [Demo flag](https://app.launchdarkly.com/default/~/features/demo-flag)",
	"[Henrietta Powell](mailto:testing@launchdarkly.com) deleted the project A new project",
	"[José Ñúñez](mailto:j@x.io) created the segment [Größe beta](https://app/x) in `prod-eu`",
	"Ana changed `a\\b` and (notes) 50% of $x #1",
	"*emphasis* here", "a _b_ c", "a ~~b~~", "a <b>c</b>", "a &amp; b", `a "q" b`, "a\\*b",
	"- item", "1. one", "# head", "> quote", "    code", "***",
	"a\nb", "a  ", "a\tb", "[](x)", "[a](javascript:alert(1))", "[a]( x)", "[a](x y)", "[ a](x)",
	"[a](x%zz)", "[a](x&y)", "[a][b]", "[a]: x", "![a](x)", "a ``b``", "a ` b `", "a `b", "a `<b>`",
	"[a](<x>)", "[a](x \"t\")", "[a](x))", "[a(b)](x)", "a]b", "a\u00a0b", "x`y`z", "`a``",
}

// FuzzRenderSimple: whatever renderSimple accepts, it renders as goldmark
// does, in all three forms.
func FuzzRenderSimple(f *testing.F) {
	for _, s := range simpleSeeds {
		f.Add(s)
	}
	md := newMarkdown()
	f.Fuzz(func(t *testing.T, src string) {
		got, ok := renderSimple(src)
		if !ok {
			return
		}
		want := md.parse(src)
		if got != want {
			t.Fatalf("renderSimple(%q)\n got  %+v\n want %+v", src, got, want)
		}
	})
}

// TestRenderSimpleTakesTitles: the titles LaunchDarkly writes, and those
// this package's fixtures hold, take the fast path (the fuzz test alone would pass if
// it took none).
func TestRenderSimpleTakesTitles(t *testing.T) {
	for _, src := range simpleSeeds[:5] {
		if _, ok := renderSimple(src); !ok {
			t.Errorf("renderSimple(%q) declined a title", src)
		}
	}
	for name, raw := range fixtures(t) {
		e, err := DecodeEntry(raw)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if _, ok := renderSimple(e.Title); e.Title != "" && !ok {
			t.Errorf("%s: renderSimple declined the title %q", name, e.Title)
		}
	}
}
