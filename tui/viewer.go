package tui

import (
	"context"
	"fmt"
	"os"
	"os/exec"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/auditrelay/auditrelay/tui/internal/keys"
	"github.com/auditrelay/auditrelay/tui/internal/ui"
)

// viewerTextMsg carries the long content to show, fetched off the loop.
type viewerTextMsg struct {
	title, text string
	pager       bool
	err         error
}

func searchBinding() keys.Binding {
	return keys.Binding{Binding: key.NewBinding(key.WithHelp("/", "search"))}
}

// openViewer fetches the selection's JSON or request and shows it full
// screen, or in $PAGER.
func (m *Model) openViewer(pager bool) tea.Cmd {
	if pager && m.opts.Remote {
		return ui.Toast(ui.LevelError, "o opens $PAGER only in a local console; over SSH use F (viewer) or Y (copy)")
	}
	t := m.copyTarget()
	if t.kind != "entry" && t.kind != "delivery" {
		return ui.Toast(ui.LevelError, "select an entry or a delivery")
	}
	return m.c.Call(func(ctx context.Context, c *ui.Common) tea.Msg {
		text, what, err := payload(ctx, c.API, t)
		return viewerTextMsg{title: fmt.Sprintf("%s of %s %s", what, t.kind, t.id), text: text, pager: pager, err: err}
	})
}

// viewerText opens what openViewer fetched.
func (m *Model) viewerText(msg viewerTextMsg) tea.Cmd {
	if msg.err != nil {
		return ui.ErrorToast("open "+msg.title, msg.err)
	}
	if msg.pager {
		return m.pager(msg.title, msg.text)
	}
	m.viewer.Open(msg.title, msg.text)
	return m.open(ui.OpenMsg{View: ui.ViewViewer})
}

// pager shows text in $PAGER (less when unset) from a read-only temporary
// file, then redraws: locally only, never for an SSH client.
func (m *Model) pager(title, text string) tea.Cmd {
	if m.opts.Remote {
		return ui.Toast(ui.LevelError, "o opens $PAGER only in a local console; over SSH use Y to copy")
	}
	f, err := os.CreateTemp("", "auditrelay-*.txt")
	if err != nil {
		return ui.ErrorToast("open the pager", err)
	}
	_, werr := f.WriteString(text + "\n")
	cerr := f.Close()
	if err := firstErr(werr, cerr, os.Chmod(f.Name(), 0o400)); err != nil {
		_ = os.Remove(f.Name())
		return ui.ErrorToast("open the pager", err)
	}
	pager := os.Getenv("PAGER")
	if pager == "" {
		pager = "less"
	}
	// $PAGER may carry flags ("less -R"): the shell splits it, as git does.
	cmd := exec.Command("sh", "-c", pager+` "$1"`, "pager", f.Name())
	name := f.Name()
	return tea.ExecProcess(cmd, func(err error) tea.Msg {
		_ = os.Remove(name)
		if err != nil {
			return ui.ToastMsg{Level: ui.LevelError, Text: "pager (" + pager + "): " + err.Error()}
		}
		return pagerDoneMsg{title}
	})
}

type pagerDoneMsg struct{ title string }

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

// copyText copies text already at hand (the viewer's).
func (m *Model) copyText(what, text string) tea.Cmd {
	if len(text) > maxCopy {
		return ui.Toast(ui.LevelError, fmt.Sprintf("copy: the %s is %s bytes, more than the %s a terminal takes through OSC 52", what, ui.Count(len(text)), ui.Count(maxCopy)))
	}
	w := outputOf(m.opts)
	return func() tea.Msg {
		if err := osc52(w, text); err != nil {
			return ui.ToastMsg{Level: ui.LevelError, Text: "copy: " + err.Error()}
		}
		return ui.ToastMsg{Text: fmt.Sprintf("copied the %s, %s bytes (via OSC 52: the terminal must allow it)", what, ui.Count(len(text)))}
	}
}
