package auditlog

import "testing"

func TestMarkdownRender(t *testing.T) {
	md := newMarkdown()
	tests := []struct {
		name, in    string
		plain, html string
	}{
		{"empty", "", "", ""},
		{"blank", "  \n", "", ""},
		{"title", "[Ana](mailto:ana@x.io) turned on the flag [Demo](https://app/x) in `Production`",
			"Ana turned on the flag Demo in 'Production'",
			`<a href="mailto:ana@x.io">Ana</a> turned on the flag <a href="https://app/x">Demo</a> in <code>Production</code>`},
		{"escapes and entities", "client\\-side &amp; server\\_side &#169;",
			"client-side & server_side ©", "client-side &amp; server_side ©"},
		{"loose list", "* Changed the color from ~~`#5e00ff`~~ to `#342749`\n\n* Added tag `demo`\n",
			"Changed the color from '#5e00ff' to '#342749'\nAdded tag 'demo'",
			"<ul><li>Changed the color from <strike><code>#5e00ff</code></strike> to <code>#342749</code></li>\n<li>Added tag <code>demo</code></li></ul>"},
		{"heading with closing hashes", "## Copied flag settings from Production to Test ##\n* Removed ~~`Ushki`~~",
			"Copied flag settings from Production to Test\nRemoved 'Ushki'",
			"<h2>Copied flag settings from Production to Test</h2>\n<ul><li>Removed <strike><code>Ushki</code></strike></li></ul>"},
		{"ordered list", "3. first\n4. second", "3. first\n4. second", "<ol start=\"3\"><li>first</li>\n<li>second</li></ol>"},
		{"two paragraphs", "one\n\ntwo", "one\ntwo", "<p>one</p>\n<p>two</p>"},
		{"item with two paragraphs", "* a\n\n  b\n", "a\nb", "<ul><li>a<br>\nb</li></ul>"},
		{"code block", "```\nx := 1\n```", "x := 1", "<pre><code>x := 1\n</code></pre>"},
		{"raw html is dropped", "a <b>bold</b> move", "a bold move", "a <!-- raw HTML omitted -->bold<!-- raw HTML omitted --> move"},
		{"autolink", "see <https://launchdarkly.com>", "see https://launchdarkly.com", `see <a href="https://launchdarkly.com">https://launchdarkly.com</a>`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := md.render(tc.in)
			if r.markdown != tc.in {
				t.Errorf("markdown %q, want the input", r.markdown)
			}
			if r.plainText != tc.plain {
				t.Errorf("plainText\n got  %q\n want %q", r.plainText, tc.plain)
			}
			if r.html != tc.html {
				t.Errorf("html\n got  %q\n want %q", r.html, tc.html)
			}
		})
	}
}
