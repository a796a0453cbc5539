package tui

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/auditrelay/auditrelay/core/engine/api"
	"github.com/auditrelay/auditrelay/tui/internal/ui"
)

// retry asks to retry the selected delivery. The answer is checked here
// (is there one, is it failed, is a retry already under way) so the
// prompt only appears when the retry can happen.
func (m *Model) retry(sel ui.Selection) tea.Cmd {
	if cmd := m.c.Deny(m.c.Keys.Actions.Retry); cmd != nil {
		return cmd
	}
	switch {
	case sel.DeliveryID == "" && sel.FailedCount > 1:
		cmd := m.scope(ui.ScopeMsg{EntryID: sel.EntryID, Focus: true})
		return tea.Batch(cmd, ui.Toastf("this entry has %d failed deliveries: pick one here and press r", sel.FailedCount))
	case sel.DeliveryID == "":
		return ui.Toast(ui.LevelError, "retry: select a failed delivery (pane 3 lists them)")
	case sel.Retrying:
		return ui.Toastf("%s is already being retried", ui.ShortID(sel.DeliveryID))
	case sel.DeliveryState != api.Failed:
		return ui.Toast(ui.LevelError, fmt.Sprintf("retry: %s is %s, not failed", ui.ShortID(sel.DeliveryID), sel.DeliveryState))
	}
	id, sub := sel.DeliveryID, sel.Subscription
	if held := m.heldReason(sub); held != "" {
		// Retrying alone would leave the delivery waiting: offer to
		// resume first; no queues nothing.
		return ui.Confirm(fmt.Sprintf("%s is %s: resume it and retry %s?", sub, held, ui.ShortID(id)),
			func() tea.Msg { return retryGoMsg{id: id, sub: sub, resume: true} })
	}
	return ui.Confirm(fmt.Sprintf("retry failed delivery %s to %s now?", id, sub),
		func() tea.Msg { return retryGoMsg{id: id, sub: sub} })
}

// heldReason says, briefly, why a subscription's deliveries would wait
// ("paused by alice", "disabled (410 Gone)"), "" when they would not. It
// is short so that the prompt's (y/N) stays on screen; the
// subscriptions pane has the whole reason.
func (m *Model) heldReason(sub string) string {
	info, ok := m.subs.Get(sub)
	switch {
	case !ok:
		return ""
	case info.Disabled:
		r, _, _ := strings.Cut(info.Reason, " from ")
		return "disabled (" + ui.Trunc(r, 30) + ")"
	case info.Paused:
		if strings.HasPrefix(info.Reason, "paused") {
			return ui.Trunc(info.Reason, 30)
		}
		return "paused (" + ui.Trunc(info.Reason, 30) + ")"
	}
	return ""
}

func (m *Model) retryNow(id, sub string, resume bool) tea.Cmd {
	return m.c.Call(func(ctx context.Context, c *ui.Common) tea.Msg {
		if resume {
			// One call: resuming first would let a 410 to the deliveries
			// that waited disable the subscription again before the retry.
			return ui.RetryDoneMsg{DeliveryID: id, Err: c.API.ResumeAndRetry(ctx, c.Actor, id)}
		}
		return ui.RetryDoneMsg{DeliveryID: id, Err: c.API.Retry(ctx, c.Actor, id)}
	})
}

// subscription is the subscription actions apply to: the focused pane's,
// else the one selected in the subscriptions pane.
func (m *Model) subscription() string {
	if len(m.views) > 0 {
		switch m.view() {
		case ui.ViewDeliveryDetail, ui.ViewEntryDetail, ui.ViewTestResult:
			if s := m.detail.Selection().Subscription; s != "" {
				return s
			}
		}
	}
	if s := m.panes[m.focus].Selection().Subscription; s != "" {
		return s
	}
	return m.subs.Selected()
}

// retryAll (R) asks how far back to retry the subscription's failed
// deliveries: "all" (the default without a since: filter) retries every
// one, a range counts those that failed in it first.
func (m *Model) retryAll() tea.Cmd {
	if cmd := m.c.Deny(m.c.Keys.Actions.RetryAll); cmd != nil {
		return cmd
	}
	sub := m.subscription()
	if sub == "" {
		return ui.Toast(ui.LevelError, "retry all: no subscription selected")
	}
	info, _ := m.subs.Get(sub)
	if info.Counts[api.Failed] == 0 {
		return ui.Toastf("%s has no failed deliveries", sub)
	}
	return m.askRange(bulkAction{retry: true, sub: sub}, rangeAll)
}

// retryAllConfirm asks before retrying every failed delivery of sub.
func (m *Model) retryAllConfirm(sub string) tea.Cmd {
	info, _ := m.subs.Get(sub)
	n := info.Counts[api.Failed]
	if n == 0 {
		return ui.Toastf("%s has no failed deliveries", sub)
	}
	held := m.heldReason(sub)
	q := fmt.Sprintf("retry all %d failed deliveries of %s?", n, sub)
	if held != "" {
		q = fmt.Sprintf("%s is %s: resume it and retry all %d failed deliveries?", sub, held, n)
	}
	return ui.Confirm(q,
		m.c.Call(func(ctx context.Context, c *ui.Common) tea.Msg {
			if held != "" {
				// One call, retries first: see retryNow.
				got, err := c.API.ResumeAndRetryAll(ctx, c.Actor, sub)
				done := fmt.Sprintf("resumed %s; retrying %d failed deliveries", sub, got)
				return actionDoneMsg{doing: "resume and retry all of " + sub, done: done, err: err}
			}
			got, err := c.API.RetryAll(ctx, c.Actor, sub)
			done := fmt.Sprintf("retrying %d failed deliveries of %s", got, sub)
			return actionDoneMsg{doing: "retry all of " + sub, done: done, err: err}
		}))
}

// resend (B) asks for the range of stored entries to send the
// subscription (those its policy allows and it has no delivery for),
// then counts them and asks before sending.
func (m *Model) resend() tea.Cmd {
	if cmd := m.c.Deny(m.c.Keys.Actions.Resend); cmd != nil {
		return cmd
	}
	sub := m.subscription()
	if sub == "" {
		return ui.Toast(ui.LevelError, "resend: no subscription selected")
	}
	return m.askRange(bulkAction{sub: sub}, defaultBackfill)
}

func (m *Model) pause() tea.Cmd {
	if cmd := m.c.Deny(m.c.Keys.Actions.Pause); cmd != nil {
		return cmd
	}
	sub := m.subscription()
	if sub == "" {
		return ui.Toast(ui.LevelError, "pause: no subscription selected")
	}
	info, _ := m.subs.Get(sub)
	pause := !(info.Paused || info.Disabled)
	doing, done := "pause "+sub, "paused "+sub+": deliveries wait until resumed"
	if !pause {
		doing, done = "resume "+sub, "resumed "+sub
		if info.Disabled {
			done = "re-enabled " + sub + " (was " + info.Reason + ")"
		}
	}
	return m.c.Call(func(ctx context.Context, c *ui.Common) tea.Msg {
		return actionDoneMsg{doing: doing, done: done, err: c.API.SetPaused(ctx, c.Actor, sub, pause)}
	})
}

func (m *Model) test() tea.Cmd {
	if cmd := m.c.Deny(m.c.Keys.Actions.Test); cmd != nil {
		return cmd
	}
	sub := m.subscription()
	if sub == "" {
		return ui.Toast(ui.LevelError, "test: no subscription selected")
	}
	// The entry selected in the events pane (or open in the detail
	// view) is what a test sends; otherwise the engine picks.
	p := api.TestParams{Subscription: sub}
	if m.focus == paneEvents && len(m.views) == 0 {
		p.EntryID = m.panes[m.focus].Selection().EntryID
	} else if len(m.views) > 0 && m.view() == ui.ViewEntryDetail {
		p.EntryID = m.detail.Selection().EntryID
	}
	call := m.c.Call(func(ctx context.Context, c *ui.Common) tea.Msg {
		r, err := c.API.Test(ctx, c.Actor, p)
		return testDoneMsg{sub: sub, result: r, err: err}
	})
	what := "a connection test"
	if p.EntryID != "" {
		what = "entry " + p.EntryID + " as a connection test"
	}
	// Progress, not success: the outcome replaces it when it arrives.
	return tea.Sequence(ui.Toastf("sending %s to %s…", what, sub), call)
}

// edit opens the form or template editor; viewers get them read-only.
func (m *Model) edit(v ui.View) tea.Cmd {
	sub := m.subscription()
	if sub == "" {
		return ui.Toast(ui.LevelError, "no subscription selected")
	}
	return m.open(ui.OpenMsg{View: v, Subscription: sub})
}

// generatorSteps are the demo rates +/- move between.
func generatorSteps() []float64 {
	return []float64{0, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000}
}

func (m *Model) generator(dir int) tea.Cmd {
	if cmd := m.c.Deny(m.c.Keys.Global.Faster); cmd != nil {
		return cmd
	}
	steps := generatorSteps()
	next := m.genRate
	if dir > 0 {
		next = steps[len(steps)-1]
		for _, s := range steps {
			if s > m.genRate {
				next = s
				break
			}
		}
	} else {
		next = 0
		for i := len(steps) - 1; i >= 0; i-- {
			if steps[i] < m.genRate {
				next = steps[i]
				break
			}
		}
	}
	api := m.c.API
	return func() tea.Msg { return genDoneMsg{rate: next, err: api.SetGeneratorRate(next)} }
}

func (m *Model) genDone(msg genDoneMsg) tea.Cmd {
	switch {
	case errors.Is(msg.err, api.ErrNoGenerator):
		return ui.Toast(ui.LevelError, "no demo generator (start with --demo to use +/-)")
	case msg.err != nil:
		return ui.ErrorToast("demo rate", msg.err)
	}
	m.genRate = msg.rate
	if msg.rate == 0 {
		return ui.Toastf("demo generator paused")
	}
	return ui.Toastf("demo generator: %s entries/s", ui.Rate(msg.rate))
}

func errorf(doing string, err error) error { return fmt.Errorf("%s: %w", doing, err) }

func outputOf(o Options) io.Writer {
	if o.Output != nil {
		return o.Output
	}
	return os.Stdout
}
