package tui

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/muesli/termenv"

	"github.com/auditrelay/auditrelay/core/engine/api"
	"github.com/auditrelay/auditrelay/tui/internal/ui"
)

// Copying goes through OSC 52: the terminal (the operator's, also over
// SSH) puts the text on its clipboard. Terminals that do not allow OSC 52
// ignore it, so the toast says what was sent and that it needs allowing.

// maxCopy bounds what one copy sends: terminals cap OSC 52 (xterm at
// about 100 KB of base64) and the sequence is written in one piece.
const maxCopy = 64 << 10

// copyTarget is what y and Y act on: an entry or a delivery (by id), or a
// subscription (by name).
type copyTarget struct {
	kind, id string // "entry", "delivery", "subscription"
}

// copyTarget is the selection of the open view or the focused pane.
func (m *Model) copyTarget() copyTarget {
	switch m.view() {
	case ui.ViewSearch:
		if e := m.search.Selected(); e != nil {
			return copyTarget{"entry", e.ID}
		}
		return copyTarget{}
	case ui.ViewDeliveryDetail, ui.ViewEntryDetail:
		o := m.detail.Opened()
		if o.DeliveryID != "" {
			return copyTarget{"delivery", o.DeliveryID}
		}
		return copyTarget{"entry", o.EntryID}
	case 0:
	default:
		return copyTarget{}
	}
	sel := m.panes[m.focus].Selection()
	switch {
	case m.focus == paneSubs && sel.Subscription != "":
		return copyTarget{"subscription", sel.Subscription}
	case (m.focus == paneDeliveries || m.focus == panePolicy) && sel.DeliveryID != "":
		return copyTarget{"delivery", sel.DeliveryID}
	case sel.EntryID != "":
		return copyTarget{"entry", sel.EntryID}
	}
	return copyTarget{}
}

// copyID copies the selected id (y).
func (m *Model) copyID() tea.Cmd {
	t := m.copyTarget()
	if t.id == "" {
		return ui.Toast(ui.LevelError, "copy: nothing selected")
	}
	w := outputOf(m.opts)
	return func() tea.Msg {
		if err := osc52(w, t.id); err != nil {
			return ui.ToastMsg{Level: ui.LevelError, Text: "copy: " + err.Error()}
		}
		return ui.ToastMsg{Text: fmt.Sprintf("copied %s id %s (via OSC 52: the terminal must allow it)", t.kind, t.id)}
	}
}

// copyPayload copies the entry's JSON or the delivery's request (Y).
func (m *Model) copyPayload() tea.Cmd {
	t := m.copyTarget()
	if t.kind != "entry" && t.kind != "delivery" {
		return ui.Toast(ui.LevelError, "copy: select an entry or a delivery")
	}
	w := outputOf(m.opts)
	return m.c.Call(func(ctx context.Context, c *ui.Common) tea.Msg {
		text, what, err := payload(ctx, c.API, t)
		if err == nil && len(text) > maxCopy {
			err = fmt.Errorf("the %s is %s bytes, more than the %s a terminal takes through OSC 52 (o opens it in a pager)", what, ui.Count(len(text)), ui.Count(maxCopy))
		}
		if err == nil {
			err = osc52(w, text)
		}
		if err != nil {
			return ui.ToastMsg{Level: ui.LevelError, Text: "copy: " + err.Error()}
		}
		return ui.ToastMsg{Text: fmt.Sprintf("copied the %s of %s %s, %s bytes (via OSC 52: the terminal must allow it)", what, t.kind, ui.ShortID(t.id), ui.Count(len(text)))}
	})
}

// payload is the text Y copies: the entry as LaunchDarkly sent it
// (indented), or the request a delivery makes, secrets masked.
func payload(ctx context.Context, a api.API, t copyTarget) (text, what string, err error) {
	if t.kind == "entry" {
		e, err := a.Entry(ctx, t.id)
		if err != nil {
			return "", "", err
		}
		var b bytes.Buffer
		if json.Indent(&b, e.Raw, "", "  ") != nil {
			return string(e.Raw), "JSON", nil
		}
		return b.String(), "JSON", nil
	}
	d, err := a.Delivery(ctx, t.id)
	if err != nil {
		return "", "", err
	}
	return requestText(d.Request), "request", nil
}

// requestText is a request as an HTTP message: method, URL, headers, body.
func requestText(r api.RequestView) string {
	var b strings.Builder
	if r.Skipped != "" {
		b.WriteString("# nothing would be sent: " + r.Skipped + "\n")
	}
	if r.Method != "" {
		fmt.Fprintf(&b, "%s %s\n", r.Method, r.URL)
	}
	for _, h := range r.Headers {
		fmt.Fprintf(&b, "%s: %s\n", h.Name, h.Value)
	}
	if r.Body != "" {
		b.WriteString("\n")
		b.WriteString(r.Body)
	}
	return b.String()
}

// osc52 writes text to the terminal's clipboard with an OSC 52 sequence,
// in one write (the renderer writes frames in one write each too).
func osc52(w io.Writer, text string) error {
	var b bytes.Buffer
	termenv.NewOutput(&b, termenv.WithUnsafe()).Copy(text)
	_, err := w.Write(b.Bytes())
	return err
}
