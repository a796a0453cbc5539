package show

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/auditrelay/auditrelay/core/source"
)

// Progress shows a replay's progress. On a terminal it redraws one
// line in place (at most ten times a second); elsewhere (a pipe, a log
// file, CI) it stays quiet until Finish prints the summary line.
type Progress struct {
	w          io.Writer
	terminal   bool
	totalBytes int64
	last       time.Time
	drawn      bool
}

// NewProgress returns a progress display writing to w. terminal selects
// the live line; totalBytes, when known (the file's size), adds a bar and
// a percentage.
func NewProgress(w io.Writer, terminal bool, totalBytes int64) *Progress {
	return &Progress{w: w, terminal: terminal, totalBytes: totalBytes}
}

// Update redraws the live line; use it as Replayer.OnProgress.
func (pr *Progress) Update(p source.ReplayProgress) {
	if !pr.terminal || p.Done {
		return
	}
	if now := time.Now(); now.Sub(pr.last) >= 100*time.Millisecond {
		pr.last = now
		pr.drawn = true
		fmt.Fprint(pr.w, "\r\x1b[K"+pr.line(p))
	}
}

// Finish replaces the live line with the summary line.
func (pr *Progress) Finish(p source.ReplayProgress) {
	if pr.drawn {
		fmt.Fprint(pr.w, "\r\x1b[K")
	}
	fmt.Fprintln(pr.w, ReplaySummary(p))
}

func (pr *Progress) line(p source.ReplayProgress) string {
	var b strings.Builder
	b.WriteString("replaying ")
	if pr.totalBytes > 0 {
		frac := min(float64(p.BytesRead)/float64(pr.totalBytes), 1)
		const width = 24
		full := int(frac * width)
		b.WriteString("[" + strings.Repeat("█", full) + strings.Repeat("░", width-full) + "] ")
		fmt.Fprintf(&b, "%3d%%  ", int(frac*100))
	}
	fmt.Fprintf(&b, "%s read · %s accepted · %s duplicates · %s rejected",
		grouped(p.Read), grouped(p.Accepted), grouped(p.Duplicates), grouped(p.Rejected))
	return b.String()
}

// summaryRejections is how many rejections the summary line names.
const summaryRejections = 5

// ReplaySummary is the one-line report of a replay:
//
//	replayed 2000 entries: 1990 accepted, 8 duplicates, 2 rejected (line 17:1: "_id": required field is missing (the entry id); line 903:12: ...)
func ReplaySummary(p source.ReplayProgress) string {
	var b strings.Builder
	fmt.Fprintf(&b, "replayed %s: %d accepted, %s, %d rejected",
		pluralize(p.Read, "entry", "entries"), p.Accepted, pluralize(p.Duplicates, "duplicate", "duplicates"), p.Rejected)
	if len(p.Rejections) > 0 {
		b.WriteString(" (")
		n := min(len(p.Rejections), summaryRejections)
		for i, r := range p.Rejections[:n] {
			if i > 0 {
				b.WriteString("; ")
			}
			b.WriteString(r.String())
		}
		if more := p.Rejected - n; more > 0 {
			fmt.Fprintf(&b, "; and %d more", more)
		}
		b.WriteString(")")
	}
	return b.String()
}

// ListItemsLine says how many replayed entries were list items of the
// audit-log API, and what became of them; "" when there were none.
func ListItemsLine(p source.ReplayProgress, fetched bool) string {
	switch {
	case p.ListItems == 0:
		return ""
	case fetched:
		line := fmt.Sprintf("%s lacked the full version: fetched %d full %s",
			pluralize(p.ListItems, "entry", "entries"), p.DetailsFetched, plural(p.DetailsFetched, "entry", "entries"))
		if kept := p.ListItems - p.DetailsFetched; kept > 0 {
			line += fmt.Sprintf("; %d kept as list items (their full entries are gone), marked in deliveries show", kept)
		}
		return line
	}
	return fmt.Sprintf("%s lacked the full version (list items of the audit-log API, without currentVersion): "+
		"templates reading it rendered without it; replay --fetch-details fetches the full entries",
		pluralize(p.ListItems, "entry", "entries"))
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// pluralize is "1 entry", "2 entries".
func pluralize(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// grouped writes n with thousands separators: 12,345.
func grouped(n int) string {
	s := strconv.Itoa(n)
	if n < 0 || len(s) <= 3 {
		return s
	}
	var b strings.Builder
	pre := len(s) % 3
	if pre > 0 {
		b.WriteString(s[:pre])
	}
	for i := pre; i < len(s); i += 3 {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(s[i : i+3])
	}
	return b.String()
}
