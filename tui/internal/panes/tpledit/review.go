package tpledit

import (
	"context"
	"fmt"
	"strings"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/auditrelay/auditrelay/core/engine/api"
	"github.com/auditrelay/auditrelay/tui/internal/ui"
)

// review is the question a save asks first: what changes in the source,
// and the request the selected entry makes with the saved template beside
// the one it makes with the new text.
type review struct {
	key, src, base string
	old, new       api.Preview
	oldErr, newErr error
	offset         int
}

type reviewMsg struct {
	sub string
	rv  review
}

// startReview renders the old and the new text for the selected entry.
func (m *Model) startReview(b *buffer) tea.Cmd {
	sub, key, oldSrc, src, base, entry := m.sub, b.info.Key, b.info.Source, b.ta.Value(), b.info.Hash, m.entryID
	return m.c.Call(func(ctx context.Context, c *ui.Common) tea.Msg {
		rv := review{key: key, src: src, base: base}
		rv.old, rv.oldErr = c.API.Preview(ctx, sub, key, oldSrc, entry)
		rv.new, rv.newErr = c.API.Preview(ctx, sub, key, src, entry)
		return reviewMsg{sub: sub, rv: rv}
	})
}

// reviewKey answers the question: y saves exactly the reviewed text,
// pgup/pgdn scroll, anything else goes back to editing.
func (m *Model) reviewKey(msg tea.KeyMsg) tea.Cmd {
	rv := m.review
	k := m.c.Keys.Templates
	switch {
	case k.PreviewDown.Is(msg):
		rv.offset += max(m.height/2, 1)
		return nil
	case k.PreviewUp.Is(msg):
		rv.offset = max(rv.offset-max(m.height/2, 1), 0)
		return nil
	case m.c.Keys.Prompt.Yes.Is(msg):
		m.review = nil
		return m.commit(rv.key, rv.src, rv.base)
	}
	m.review = nil
	return ui.Toastf("not saved: still editing")
}

func (m *Model) reviewView() string {
	s, rv := m.c.Styles, m.review
	lines := []string{
		s.Label.Render(fmt.Sprintf("Save the %s template of %s?", rv.key, m.sub)) + s.Dim.Render("   y save · n back (default) · pgup/pgdn scroll"),
		"",
		s.Bold.Render("Template source") + s.Dim.Render(" (- saved, + new)"),
	}
	for _, d := range lineDiff(m.bufSource(rv.key), rv.src, 3) {
		switch d[0] {
		case '-':
			lines = append(lines, s.Error.Render(ui.Trunc(d, m.width)))
		case '+':
			lines = append(lines, s.Accent.Render(ui.Trunc(d, m.width)))
		default:
			lines = append(lines, s.Dim.Render(ui.Trunc(d, m.width)))
		}
	}
	lines = append(lines, "", s.Bold.Render("Request for entry "+orSample(m.entryID))+s.Dim.Render(" (saved template | new text)"))
	oldR, newR := requestLines(rv.old, rv.oldErr), requestLines(rv.new, rv.newErr)
	if m.wide() {
		half := (m.width - 3) / 2
		for i := 0; i < max(len(oldR), len(newR)); i++ {
			var l, r string
			if i < len(oldR) {
				l = oldR[i]
			}
			if i < len(newR) {
				r = newR[i]
			}
			mark := s.Border.Render(" │ ")
			if l != r {
				mark = s.Warn.Render(" ≠ ")
			}
			lines = append(lines, ui.Fit(l, half)+mark+ui.Fit(r, half))
		}
	} else {
		lines = append(lines, s.Dim.Render("── saved"))
		lines = append(lines, oldR...)
		lines = append(lines, s.Dim.Render("── new"))
		lines = append(lines, newR...)
	}
	rv.offset = min(rv.offset, max(len(lines)-m.height, 0))
	end := min(rv.offset+m.height, len(lines))
	return strings.Join(lines[rv.offset:end], "\n")
}

func (m *Model) bufSource(key string) string {
	for i := range m.bufs {
		if m.bufs[i].info.Key == key {
			return m.bufs[i].info.Source
		}
	}
	return ""
}

// requestLines is a rendered request as lines (secrets already masked by
// the engine), the body cut like the preview's.
func requestLines(p api.Preview, err error) []string {
	if err != nil {
		return []string{"preview failed: " + err.Error()}
	}
	var out []string
	for _, is := range p.Errors {
		out = append(out, fmt.Sprintf("%d:%d %s: %s", is.Line, is.Col, is.Severity, is.Msg))
	}
	r := p.Request
	if r.Skipped != "" {
		return append(out, "nothing would be sent: "+r.Skipped)
	}
	if r.Method == "" && len(p.Errors) > 0 {
		return out
	}
	out = append(out, r.Method+" "+r.URL)
	for _, h := range r.Headers {
		out = append(out, h.Name+": "+h.Value)
	}
	out = append(out, "")
	return append(out, strings.Split(previewBody(r.Body), "\n")...)
}

// maxDiffCells bounds the line diff's table (old lines × new lines); past
// it the whole text shows as replaced rather than stall the console.
const maxDiffCells = 4 << 20

// lineDiff returns the changed lines of a against b ("- " removed, "+ "
// added) with up to ctx unchanged lines ("  ") around each change, from a
// longest-common-subsequence table.
func lineDiff(a, b string, ctx int) []string {
	x, y := strings.Split(a, "\n"), strings.Split(b, "\n")
	if len(x)*len(y) > maxDiffCells {
		var out []string
		for _, l := range x {
			out = append(out, "- "+l)
		}
		for _, l := range y {
			out = append(out, "+ "+l)
		}
		return out
	}
	n, m := len(x), len(y)
	lcs := make([][]int32, n+1)
	for i := range lcs {
		lcs[i] = make([]int32, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if x[i] == y[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var all []string
	i, j := 0, 0
	for i < n || j < m {
		switch {
		case i < n && j < m && x[i] == y[j]:
			all = append(all, "  "+x[i])
			i, j = i+1, j+1
		case i < n && (j == m || lcs[i+1][j] >= lcs[i][j+1]):
			all = append(all, "- "+x[i]) // removals before additions
			i++
		default:
			all = append(all, "+ "+y[j])
			j++
		}
	}
	// Keep changes and ctx lines around them.
	keep := make([]bool, len(all))
	for k, l := range all {
		if l[0] != ' ' {
			for d := max(k-ctx, 0); d <= min(k+ctx, len(all)-1); d++ {
				keep[d] = true
			}
		}
	}
	var out []string
	gap := false
	for k, l := range all {
		if !keep[k] {
			gap = true
			continue
		}
		if gap && len(out) > 0 {
			out = append(out, "  …")
		}
		gap = false
		out = append(out, l)
	}
	return out
}

type undoneMsg struct {
	sub, what string
	err       error
}

// undo asks, then reverts the subscription's last saved form or template
// change and reloads the templates (unsaved edits are lost: the question
// says so).
func (m *Model) undo() tea.Cmd {
	k := m.c.Keys.Templates.Undo
	if k.Denied != "" {
		return ui.Toast(ui.LevelError, k.Denied)
	}
	if m.readOnly != "" {
		return ui.Toast(ui.LevelError, m.readOnly)
	}
	q := "undo the last saved form or template change of " + m.sub + "?"
	if n := m.Dirty(); n > 0 {
		q = fmt.Sprintf("undo the last saved form or template change of %s, losing unsaved edits to %d template(s)?", m.sub, n)
	}
	sub := m.sub
	return ui.Confirm(q, m.c.Call(func(ctx context.Context, c *ui.Common) tea.Msg {
		what, err := c.API.Undo(ctx, c.Actor, sub)
		return undoneMsg{sub: sub, what: what, err: err}
	}))
}
