package tui

import (
	"context"
	"fmt"
	"strings"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/auditrelay/auditrelay/core/engine/api"
	"github.com/auditrelay/auditrelay/tui/internal/filter"
	"github.com/auditrelay/auditrelay/tui/internal/ui"
)

// Bulk actions (B backfill, R retry all) first ask how far back they
// reach, in the filter's since: language; then the engine counts (a dry
// run) and the y/N confirmation states the count.

// maxRangeLen bounds the range typed: the longest date with a time and
// an offset is 25 characters.
const maxRangeLen = 40

// rangeAll, typed at R's prompt, retries every failed delivery whatever
// its age (R's behaviour before it took a range).
const rangeAll = "all"

// defaultBackfill is B's range when the filter has no since: term.
const defaultBackfill = "24h"

// bulkAction is the action waiting for its range.
type bulkAction struct {
	retry bool // R: retry failed deliveries; else B: send entries
	sub   string
	kind  string // the events filter's kind:, passed on to the engine
}

// kinded is "entries" or "flag entries", "deliveries" or "flag
// deliveries": what the kind: of the filter narrows the action to.
func kinded(kind, what string) string {
	if kind == "" {
		return what
	}
	return kind + " " + what
}

// resendCountMsg carries the dry run's count for the confirmation.
type resendCountMsg struct {
	p    api.ResendParams
	span string // "in the last 2h", "since 2026-12-01"
	res  api.ResendResult
	held string
	err  error
}

// askRange opens the range prompt for act, prefilled from the events
// filter's since: term, else def.
func (m *Model) askRange(act bulkAction, def string) tea.Cmd {
	f := m.events.Filter()
	if s := f.Since(); s != "" {
		def = s
	}
	act.kind = f.Kind()
	m.bulk = act
	m.rangeErr = ""
	m.rangeIn = m.c.Styles.NewInput()
	m.rangeIn.Placeholder = "2h, 7d, 2026-12-01"
	m.rangeIn.Width = 20 // a date with a time fits; longer text scrolls
	ui.SetText(&m.rangeIn, def, maxRangeLen)
	m.rangeIn.CursorEnd()
	m.mode = modeRange
	return m.rangeIn.Focus()
}

// rangeQuestion is the prompt's text before the input.
func (m *Model) rangeQuestion() string {
	if m.bulk.retry {
		return "retry failed " + kinded(m.bulk.kind, "deliveries") + " of " + m.bulk.sub + " since"
	}
	return "backfill " + m.bulk.sub + " with " + kinded(m.bulk.kind, "entries") + " since"
}

// rangeHint says what the input takes.
func (m *Model) rangeHint() string {
	if m.bulk.retry {
		return "all, 30m, 2h, 7d, 2026-12-01 · enter count · esc cancel"
	}
	return "30m, 2h, 7d, 2026-12-01 · enter count · esc cancel"
}

// rangeKey edits the range; enter reads it and starts the count.
func (m *Model) rangeKey(msg tea.KeyMsg) tea.Cmd {
	k := m.c.Keys.Filter
	switch {
	case k.Cancel.Is(msg):
		m.mode = modeNormal
		m.rangeIn.Blur()
		return ui.Toastf("cancelled")
	case k.Apply.Is(msg):
		return m.rangeEnter()
	}
	var cmd tea.Cmd
	m.rangeIn, cmd = m.rangeIn.Update(msg)
	m.rangeErr = ""
	return cmd
}

func (m *Model) rangeEnter() tea.Cmd {
	v := strings.TrimSpace(m.rangeIn.Value())
	act := m.bulk
	all := act.retry && (v == "" || strings.EqualFold(v, rangeAll))
	if all && act.kind == "" {
		m.mode = modeNormal
		m.rangeIn.Blur()
		return m.retryAllConfirm(act.sub)
	}
	since, err := filter.ParseSince(v, m.c.Now())
	if all {
		// Every failed delivery of one kind: Resend from the start of
		// time, since RetryAll knows no kinds.
		since, err = time.Unix(0, 0), nil
	}
	if err != nil {
		// The hint beside the input has the examples; the filter's long
		// message would not fit the line.
		m.rangeErr = err.Error()
		if !filter.IsDuration(v) {
			m.rangeErr = fmt.Sprintf("%q is not a duration or a date", ui.Trunc(v, 20))
		}
		return nil
	}
	m.mode = modeNormal
	m.rangeIn.Blur()
	span := "since " + v
	switch {
	case all:
		span = "at any time"
	case filter.IsDuration(v):
		span = "in the last " + strings.ToLower(v)
	}
	p := api.ResendParams{Subscription: act.sub, Since: since, Kind: act.kind, Failed: act.retry, DryRun: true}
	held := m.heldReason(act.sub)
	return m.c.Call(func(ctx context.Context, c *ui.Common) tea.Msg {
		res, err := c.API.Resend(ctx, c.Actor, p)
		return resendCountMsg{p: p, span: span, res: res, held: held, err: err}
	})
}

// rangeFooter is the footer while the range is typed.
func (m *Model) rangeFooter(w int) string {
	s := m.c.Styles
	line := s.Prompt.Render("? "+m.rangeQuestion()+" ") + m.rangeIn.View()
	if m.rangeErr != "" {
		line += "  " + s.Error.Render("✗ "+m.rangeErr)
	} else {
		line += "  " + s.Dim.Render(m.rangeHint())
	}
	return ui.Fit(line, w)
}

// resendAsk turns the count into the confirmation.
func (m *Model) resendAsk(msg resendCountMsg) tea.Cmd {
	sub, n, span := msg.p.Subscription, msg.res.Queued, msg.span
	dels, entries := kinded(msg.p.Kind, "deliveries"), kinded(msg.p.Kind, "entries")
	if msg.err != nil {
		if msg.p.Failed {
			return ui.ErrorToast("retry failed of "+sub, msg.err)
		}
		return ui.ErrorToast("resend to "+sub, msg.err)
	}
	var q, doing string
	var done func(queued int) string
	switch {
	case msg.p.Failed && n == 0:
		return ui.Toastf("%s has no %s that failed %s", sub, dels, span)
	case msg.p.Failed:
		q = fmt.Sprintf("retry %d failed %s of %s (failed %s)?", n, dels, sub, span)
		if msg.held != "" {
			q = fmt.Sprintf("%s is %s: resume it and retry %d %s failed %s?", sub, msg.held, n, dels, span)
		}
		doing = "retry failed of " + sub
		done = func(k int) string { return fmt.Sprintf("retrying %d %s of %s that failed %s", k, dels, sub, span) }
	case n == 0:
		return ui.Toastf("%s: none of the %d %s received %s needs sending (%d allowed, %d already sent or queued)", sub, msg.res.InRange, entries, span, msg.res.Allowed, msg.res.Already)
	default:
		q = fmt.Sprintf("send %d %s received %s to %s (%d in range, %d already sent)?", n, entries, span, sub, msg.res.InRange, msg.res.Already)
		if msg.held != "" {
			q = fmt.Sprintf("%s is %s: resume it and send %d %s received %s?", sub, msg.held, n, entries, span)
		}
		doing = "resend to " + sub
		done = func(k int) string { return fmt.Sprintf("sending %d %s received %s to %s", k, entries, span, sub) }
	}
	p := msg.p
	p.DryRun = false
	held := msg.held
	// Held: one call that queues, then resumes (see retryNow).
	p.Resume = held != ""
	return ui.Confirm(q, m.c.Call(func(ctx context.Context, c *ui.Common) tea.Msg {
		res, err := c.API.Resend(ctx, c.Actor, p)
		text := done(res.Queued)
		if held != "" {
			text = "resumed " + sub + "; " + text
		}
		return actionDoneMsg{doing: doing, done: text, err: err}
	}))
}
