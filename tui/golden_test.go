package tui

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/exp/golden"

	"github.com/auditrelay/auditrelay/tui/internal/filter"
	"github.com/auditrelay/auditrelay/tui/internal/keys"
	"github.com/auditrelay/auditrelay/tui/internal/ui"
)

// updating reports whether the test run was asked to rewrite golden files
// (go test ./tui -update); the flag is golden's.
func updating() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// requireFile compares got with testdata/name, rewriting it with -update.
func requireFile(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if updating() {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./tui -run %s -update to create it)", err, t.Name())
	}
	if !bytes.Equal(want, got) {
		t.Fatalf("%s is out of date; run go test ./tui -run %s -update and review the diff", path, t.Name())
	}
}

// checkScreen asserts the frame is exactly w×h cells.
func checkScreen(t *testing.T, view string, w, h int) {
	t.Helper()
	lines := strings.Split(view, "\n")
	if len(lines) != h {
		t.Fatalf("%d lines, want %d", len(lines), h)
	}
	for i, l := range lines {
		if got := ui.Width(l); got != w {
			t.Fatalf("line %d is %d cells, want %d: %q", i+1, got, w, l)
		}
	}
}

var sizes = []struct{ w, h int }{{80, 24}, {120, 40}, {200, 60}}

// TestView is the main screen at the three reference sizes, no color.
func TestView(t *testing.T) {
	for _, sz := range sizes {
		t.Run(fmt.Sprintf("%dx%d", sz.w, sz.h), func(t *testing.T) {
			t.Parallel()
			d := newDriver(t, demo(t), sz.w, sz.h)
			v := d.view()
			checkScreen(t, v, sz.w, sz.h)
			golden.RequireEqual(t, []byte(v))
		})
	}
}

// TestViewScreens are the full-screen views and the narrow secondary
// panes at each size.
func TestViewScreens(t *testing.T) {
	screens := []struct {
		name string
		keys []tea.KeyMsg
	}{
		{"delivery", []tea.KeyMsg{keyOf(tea.KeyUp), runeKey('2'), keyOf(tea.KeyEnter)}},
		{"entry", []tea.KeyMsg{keyOf(tea.KeyEnter)}},
		{"form", []tea.KeyMsg{runeKey('4'), runeKey('e')}},
		{"templates", []tea.KeyMsg{runeKey('4'), runeKey('t')}},
		{"help", []tea.KeyMsg{runeKey('?')}},
		{"subscriptions", []tea.KeyMsg{runeKey('4')}},
		{"deliveries", []tea.KeyMsg{runeKey('4'), keyOf(tea.KeyEnter)}},
		{"filter", append([]tea.KeyMsg{runeKey('/')}, runes("kind:member")...)},
		{"filter-none", append([]tea.KeyMsg{runeKey('/')}, runes("kind:nothing")...)},
		{"prompt", []tea.KeyMsg{keyOf(tea.KeyUp), runeKey('2'), runeKey('r')}},
	}
	for _, sz := range sizes {
		for _, sc := range screens {
			t.Run(fmt.Sprintf("%dx%d/%s", sz.w, sz.h, sc.name), func(t *testing.T) {
				t.Parallel()
				d := newDriver(t, demo(t), sz.w, sz.h)
				d.keys(sc.keys...)
				v := d.view()
				checkScreen(t, v, sz.w, sz.h)
				golden.RequireEqual(t, []byte(v))
			})
		}
	}
}

func TestViewTooSmall(t *testing.T) {
	// The notice fits, whole, down to 20×3 (each line centred).
	for _, sz := range []struct{ w, h int }{{59, 24}, {80, 14}, {40, 10}, {20, 3}} {
		d := newDriver(t, demo(t), sz.w, sz.h)
		v := d.view()
		checkScreen(t, v, sz.w, sz.h)
		for _, want := range []string{"terminal too small", "need 60×15", fmt.Sprintf("have %d×%d", sz.w, sz.h)} {
			if !strings.Contains(v, want) {
				t.Errorf("%dx%d: no %q in the notice:\n%s", sz.w, sz.h, want, v)
			}
		}
	}
	// The smallest size that is not too small draws the console.
	d := newDriver(t, demo(t), 60, 15)
	checkScreen(t, d.view(), 60, 15)
	if !strings.Contains(d.view(), "1 Events") {
		t.Error("60×15 should draw the console")
	}
}

// TestScreenshot writes the README capture of the console at 120×40.
func TestScreenshot(t *testing.T) {
	d := newDriver(t, demo(t), 120, 40)
	// Paused on the entry with a failed Slack delivery, as an operator
	// investigating it would be.
	d.keys(keyOf(tea.KeyUp))
	requireFile(t, "screenshot-120x40.txt", []byte(d.view()+"\n"))
}

// TestKeysMarkdown writes the key table for the README from the keymaps.
func TestKeysMarkdown(t *testing.T) {
	md := keysMarkdown() + "\n### Filter syntax (`/`)\n\n" + filter.Syntax
	requireFile(t, "keys.md", []byte(md))
	// Every binding has its row, with the viewer column.
	for _, sec := range keys.New(keys.Operator).Sections() {
		if !strings.Contains(md, "### "+sec.Title) {
			t.Errorf("no section %s", sec.Title)
		}
		for _, b := range sec.Bindings {
			if !strings.Contains(md, "| `"+b.Help().Key+"` | "+b.Help().Desc+" |") {
				t.Errorf("no row for %s", b.Help().Desc)
			}
		}
	}
	if !strings.Contains(md, "| `r` | retry the failed delivery | no (viewer role cannot retry) |") {
		t.Error("viewer column missing")
	}
}

// keysMarkdown renders the operator's keymap as Markdown tables, one per
// context, with a column saying what a viewer may not do.
func keysMarkdown() string {
	op, viewer := keys.New(keys.Operator).Sections(), keys.New(keys.Viewer).Sections()
	escape := func(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
	var b strings.Builder
	b.WriteString("<!-- generated by TestKeysMarkdown from tui/internal/keys; run go test ./tui -run TestKeysMarkdown -update -->\n")
	for i, sec := range op {
		fmt.Fprintf(&b, "\n### %s\n\n| Key | Action | Viewer |\n| --- | --- | --- |\n", sec.Title)
		for j, bd := range sec.Bindings {
			h := bd.Help()
			v := viewer[i].Bindings[j]
			note := "yes"
			switch {
			case v.Denied != "":
				note = "no (" + v.Denied + ")"
			case v.Help().Desc != h.Desc:
				note = v.Help().Desc
			}
			fmt.Fprintf(&b, "| `%s` | %s | %s |\n", escape(h.Key), escape(h.Desc), escape(note))
		}
	}
	return b.String()
}
