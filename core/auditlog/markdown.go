package auditlog

import (
	"bufio"
	"bytes"
	"strconv"
	"strings"
	"sync"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	east "github.com/yuin/goldmark/extension/ast"
	"github.com/yuin/goldmark/renderer"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
)

// markdown renders LaunchDarkly's markdown (description, title) in the
// three forms the template context carries. One value is shared by all
// builds: goldmark's parser and renderer keep no per-document state.
type markdown struct {
	md goldmark.Markdown
	// outs pools the renderer's output: goldmark wraps a writer that is
	// not already buffered in a new 4 KiB bufio.Writer on every call.
	outs sync.Pool // of *htmlOut
}

// htmlOut is a buffered writer into a byte buffer, reused across renders.
type htmlOut struct {
	buf bytes.Buffer
	w   *bufio.Writer
}

func newMarkdown() *markdown {
	md := goldmark.New(
		goldmark.WithExtensions(extension.Strikethrough),
		goldmark.WithRendererOptions(
			// A lower number wins: these replace goldmark's list and
			// strikethrough renderers (priorities 1000 and 500).
			renderer.WithNodeRenderers(util.Prioritized(compactHTML{}, 100)),
		),
	)
	return &markdown{md: md}
}

// rendered is one markdown text in the context's three forms.
type rendered struct {
	plainText, markdown, html string
}

func (m *markdown) render(src string) rendered {
	if strings.TrimSpace(src) == "" {
		return rendered{markdown: src}
	}
	if r, ok := renderSimple(src); ok {
		return r
	}
	return m.parse(src)
}

// parse renders src with goldmark.
func (m *markdown) parse(src string) rendered {
	b := []byte(src)
	doc := m.md.Parser().Parse(text.NewReader(b))
	out, _ := m.outs.Get().(*htmlOut)
	if out == nil {
		out = &htmlOut{}
		out.w = bufio.NewWriter(&out.buf)
	}
	out.buf.Reset()
	out.w.Reset(&out.buf)
	// Rendering into a bytes.Buffer cannot fail; an error would only
	// come from a renderer bug, and then the markdown is still shown.
	if err := m.md.Renderer().Render(out.w, b, doc); err != nil || out.w.Flush() != nil {
		out.buf.Reset()
	}
	html := strings.TrimRight(out.buf.String(), "\n")
	if out.buf.Cap() <= 64<<10 { // a huge description's buffer is not kept
		m.outs.Put(out)
	}
	// A single paragraph (every title, most one-line descriptions) goes
	// into chat messages and sentences: drop the <p> wrapper as the
	// framework's sample contexts show it.
	if doc.ChildCount() == 1 && doc.FirstChild().Kind() == ast.KindParagraph &&
		strings.HasPrefix(html, "<p>") && strings.HasSuffix(html, "</p>") {
		html = html[len("<p>") : len(html)-len("</p>")]
	}
	return rendered{plainText: plainText(doc, b), markdown: src, html: html}
}

// compactHTML renders lists as the sample contexts show them
// (<ul><li>a</li>\n<li>b</li></ul>) and strikethrough as <strike>, which
// LaunchDarkly's change descriptions use for old values.
type compactHTML struct{}

func (compactHTML) RegisterFuncs(reg renderer.NodeRendererFuncRegisterer) {
	reg.Register(ast.KindList, renderList)
	reg.Register(ast.KindListItem, renderListItem)
	reg.Register(ast.KindParagraph, renderParagraph)
	reg.Register(east.KindStrikethrough, renderStrike)
}

func renderList(w util.BufWriter, _ []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	n := node.(*ast.List)
	tag := "ul"
	if n.IsOrdered() {
		tag = "ol"
	}
	if entering {
		_ = w.WriteByte('<')
		_, _ = w.WriteString(tag)
		if n.IsOrdered() && n.Start != 1 {
			_, _ = w.WriteString(` start="`)
			_, _ = w.WriteString(strconv.Itoa(n.Start))
			_ = w.WriteByte('"')
		}
		_ = w.WriteByte('>')
	} else {
		_, _ = w.WriteString("</")
		_, _ = w.WriteString(tag)
		_, _ = w.WriteString(">\n")
	}
	return ast.WalkContinue, nil
}

func renderListItem(w util.BufWriter, _ []byte, n ast.Node, entering bool) (ast.WalkStatus, error) {
	if entering {
		_, _ = w.WriteString("<li>")
		return ast.WalkContinue, nil
	}
	_, _ = w.WriteString("</li>")
	if n.NextSibling() != nil {
		_ = w.WriteByte('\n')
	}
	return ast.WalkContinue, nil
}

// renderParagraph leaves out <p> inside list items, so loose lists (items
// separated by blank lines, as LaunchDarkly writes them) read like tight
// ones.
func renderParagraph(w util.BufWriter, _ []byte, n ast.Node, entering bool) (ast.WalkStatus, error) {
	if _, inItem := n.Parent().(*ast.ListItem); inItem {
		if next := n.NextSibling(); !entering && next != nil && next.Kind() == ast.KindParagraph {
			_, _ = w.WriteString("<br>\n")
		}
		return ast.WalkContinue, nil
	}
	if entering {
		_, _ = w.WriteString("<p>")
	} else {
		_, _ = w.WriteString("</p>\n")
	}
	return ast.WalkContinue, nil
}

func renderStrike(w util.BufWriter, _ []byte, _ ast.Node, entering bool) (ast.WalkStatus, error) {
	if entering {
		_, _ = w.WriteString("<strike>")
	} else {
		_, _ = w.WriteString("</strike>")
	}
	return ast.WalkContinue, nil
}

// plainText reduces a markdown document to text for chat and log sinks:
// one line per paragraph, heading and list item (no bullets, as in the
// sample contexts; ordered items keep their number), code spans in single
// quotes, emphasis and strikethrough reduced to their text, links to their
// text, block quotes indented by two spaces, raw HTML dropped.
func plainText(doc ast.Node, src []byte) string {
	p := plainWriter{src: src}
	p.block(doc, "")
	return strings.Join(p.lines, "\n")
}

type plainWriter struct {
	src   []byte
	lines []string
	buf   strings.Builder
}

func (p *plainWriter) block(n ast.Node, indent string) {
	switch n := n.(type) {
	case *ast.Paragraph, *ast.TextBlock, *ast.Heading:
		p.buf.Reset()
		p.inlines(n)
		p.addText(p.buf.String(), indent)
	case *ast.List:
		num := n.Start
		for item := n.FirstChild(); item != nil; item = item.NextSibling() {
			marker := ""
			if n.IsOrdered() {
				marker = strconv.Itoa(num) + ". "
				num++
			}
			first := len(p.lines)
			p.children(item, indent)
			if marker != "" && first < len(p.lines) {
				p.lines[first] = indent + marker + strings.TrimPrefix(p.lines[first], indent)
			}
		}
	case *ast.Blockquote:
		p.children(n, indent+"  ")
	case *ast.FencedCodeBlock, *ast.CodeBlock:
		lines := n.Lines()
		var b strings.Builder
		for i := 0; i < lines.Len(); i++ {
			seg := lines.At(i)
			b.Write(seg.Value(p.src))
		}
		p.addText(strings.TrimRight(b.String(), "\n"), indent)
	case *ast.HTMLBlock, *ast.ThematicBreak:
		// Nothing readable to keep.
	default:
		p.children(n, indent)
	}
}

func (p *plainWriter) children(n ast.Node, indent string) {
	for c := n.FirstChild(); c != nil; c = c.NextSibling() {
		p.block(c, indent)
	}
}

// addText adds the lines of s, each with indent and trailing blanks cut.
func (p *plainWriter) addText(s, indent string) {
	for line := range strings.SplitSeq(s, "\n") {
		line = strings.TrimRight(line, " \t")
		if line == "" {
			continue
		}
		p.lines = append(p.lines, indent+line)
	}
}

func (p *plainWriter) inlines(n ast.Node) {
	for c := n.FirstChild(); c != nil; c = c.NextSibling() {
		p.inline(c)
	}
}

func (p *plainWriter) inline(n ast.Node) {
	switch n := n.(type) {
	case *ast.Text:
		v := n.Value(p.src)
		if !n.IsRaw() {
			v = util.ResolveEntityNames(util.ResolveNumericReferences(util.UnescapePunctuations(v)))
		}
		p.buf.Write(v)
		if n.SoftLineBreak() || n.HardLineBreak() {
			p.buf.WriteByte('\n')
		}
	case *ast.String:
		p.buf.Write(n.Value)
	case *ast.CodeSpan:
		p.buf.WriteByte('\'')
		p.inlines(n)
		p.buf.WriteByte('\'')
	case *ast.AutoLink:
		p.buf.Write(n.Label(p.src))
	case *ast.RawHTML:
		// Dropped: tags are not text.
	case *ast.Link:
		if n.ChildCount() == 0 {
			p.buf.Write(n.Destination)
			return
		}
		p.inlines(n)
	default:
		p.inlines(n)
	}
}
