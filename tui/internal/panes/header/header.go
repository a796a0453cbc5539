// Package header draws the two lines at the top of the console: live rates
// as sparklines, failures, delivery latency, queue depth, sources, who is
// at the console, and the last thing another operator did.
package header

import (
	"strings"

	"github.com/auditrelay/auditrelay/core/engine/api"
	"github.com/auditrelay/auditrelay/tui/internal/spark"
	"github.com/auditrelay/auditrelay/tui/internal/ui"
)

// Model is the header.
type Model struct {
	c       *ui.Common
	stats   api.Stats
	loaded  bool
	dropped uint64
	closed  bool
	last    *api.Action // latest action by someone else
	width   int
}

// New returns an empty header.
func New(c *ui.Common) *Model { return &Model{c: c} }

// SetWidth sets the width; the header is always Height lines.
func (m *Model) SetWidth(w int) { m.width = w }

// Height is how many lines the header takes.
const Height = 2

// SetStats records the latest poll.
func (m *Model) SetStats(s api.Stats) { m.stats, m.loaded = s, true }

// SetDropped records how many live events the console lost.
func (m *Model) SetDropped(n uint64) { m.dropped = n }

// SetClosed records that the engine feed ended.
func (m *Model) SetClosed() { m.closed = true }

// Observe notes an operator action; the header shows the latest one
// taken by someone other than this console's actor, and every
// configuration edit, this console's too: it shows the audit record the
// edit left.
func (m *Model) Observe(a api.Action) {
	if a.Actor == m.c.Actor && !isEdit(a.Kind) {
		return
	}
	if m.last == nil || !a.At.Before(m.last.At) {
		cp := a
		m.last = &cp
	}
}

// Describe phrases an action for people: "alice retried dlv_1".
func Describe(a api.Action) string {
	verb := a.Kind
	switch a.Kind {
	case "retry":
		verb = "retried"
	case "retry-all":
		verb = "retried all failed of"
	case "pause":
		verb = "paused"
	case "resume":
		verb = "resumed"
	case "edit-vars":
		verb = "edited form variables of"
		if keys, ok := strings.CutPrefix(a.Detail, "changed "); ok && keys != "" {
			verb = "edited " + keys + " of"
		}
	case "undo":
		verb = "undid the last edit of"
	case "edit-template":
		verb = "edited a template of"
		if key, _, _ := strings.Cut(a.Detail, " "); key != "" {
			// Detail starts with the template key ("flag saved to …").
			verb = "edited the " + key + " template of"
		}
	case "reveal":
		verb = "revealed a secret of"
	case "test":
		verb = "sent a connection test to"
	}
	return a.Actor + " " + verb + " " + ui.ShortID(a.Target)
}

func isEdit(kind string) bool {
	return kind == "edit-vars" || kind == "edit-template" || kind == "undo"
}

// segment is a piece of a header line; when a line is too long the
// lowest-priority segments go first.
type segment struct {
	text string
	prio int // higher stays longer
}

// fit joins segments with sep, dropping the lowest priorities until the
// line fits in w.
func fit(segs []segment, sep string, w int) string {
	for {
		parts := make([]string, 0, len(segs))
		for _, sg := range segs {
			parts = append(parts, sg.text)
		}
		line := strings.Join(parts, sep)
		if ui.Width(line) <= w || len(segs) <= 1 {
			return ui.Fit(line, w)
		}
		low := 0
		for i, sg := range segs {
			if sg.prio < segs[low].prio {
				low = i
			}
		}
		segs = append(segs[:low:low], segs[low+1:]...)
	}
}

// View renders the two header lines, each exactly the width.
func (m *Model) View() string {
	if m.width <= 0 {
		return ""
	}
	return m.line1() + "\n" + m.line2()
}

func (m *Model) line1() string {
	s := m.c.Styles
	w := m.width
	st := m.stats
	sep := s.Dim.Render(" │ ")
	brand := segment{s.Header.Render("auditrelay"), 1}
	if !m.loaded {
		return fit([]segment{brand, {s.Dim.Render("waiting for engine stats…"), 2}}, sep, w)
	}
	// Sparklines shrink before anything is dropped.
	for _, sw := range []int{30, 20, 12, 8, 5} {
		if sw > 12 && w < 160 {
			continue
		}
		rate := func(label string, v []float64, now float64) string {
			return label + " " + s.Spark.Render(spark.Render(v, sw)) + " " + s.Bold.Render(ui.Rate(now)+"/s")
		}
		failed := s.Ok.Render("✓ 0 failed")
		if st.Failed > 0 {
			failed = s.Fail.Render("✗ " + ui.Count(st.Failed) + " failed")
		}
		if w >= 160 {
			failed += " " + s.Fail.Render(spark.Render(st.FailuresPerSec, sw/2))
		}
		segs := []segment{
			brand,
			{rate("entries", st.EntriesPerSec, st.EntriesRate), 9},
			{rate("deliveries", st.DeliveriesPerSec, st.DeliveriesRate), 8},
			{failed, 10},
			{"p50 " + ui.Latency(st.LatencyP50) + " p99 " + ui.Latency(st.LatencyP99), 5},
			{"queue " + ui.Count(st.QueueDepth), 6},
		}
		total := 0
		for _, sg := range segs {
			total += ui.Width(sg.text) + 3
		}
		if total-3 <= w || sw == 5 {
			return fit(segs, sep, w)
		}
	}
	return ""
}

func (m *Model) line2() string {
	s := m.c.Styles
	st := m.stats
	sep := s.Dim.Render(" │ ")
	var segs []segment
	if m.closed {
		segs = append(segs, segment{s.Fail.Render("✗ engine feed closed"), 10})
	}
	if m.dropped > 0 {
		segs = append(segs, segment{s.Warn.Render("! dropped " + ui.Count(int(m.dropped)) + " live events"), 9})
	}
	if len(st.Sources) > 0 {
		var src []string
		for _, so := range st.Sources {
			t := so.Name
			if so.Detail != "" && m.width >= 160 {
				t += " (" + so.Detail + ")"
			}
			if so.Connected {
				src = append(src, s.Ok.Render("●")+" "+t)
			} else {
				src = append(src, s.Fail.Render("○")+" "+t)
			}
		}
		segs = append(segs, segment{strings.Join(src, "  "), 8})
	} else if m.loaded {
		segs = append(segs, segment{s.Dim.Render("no sources"), 8})
	}
	if m.last != nil {
		segs = append(segs, segment{s.Accent.Render(Describe(*m.last) + " " + ui.Ago(m.c.Now(), m.last.At)), 9})
	}
	// Who is at the console always shows: abbreviated before anything
	// else is dropped, and never dropped itself.
	role := m.c.Role.String()
	whos := []string{m.c.Actor + " · " + role, ui.Trunc(m.c.Actor, 16) + " · " + role[:2]}
	if st.Instance != "" {
		whos = append([]string{st.Instance + " · " + whos[0]}, whos...)
	}
	for _, who := range whos {
		all := append(segs[:len(segs):len(segs)], segment{who, 11})
		width := 0
		for _, sg := range all {
			width += ui.Width(sg.text) + 3
		}
		if width-3 <= m.width {
			return fit(all, sep, m.width)
		}
	}
	return fit(append(segs, segment{whos[len(whos)-1], 11}), sep, m.width)
}
