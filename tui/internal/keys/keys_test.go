package keys

import (
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
)

func TestEveryBindingHasKeysAndHelp(t *testing.T) {
	for _, sec := range New(Operator).Sections() {
		for _, b := range sec.Bindings {
			if len(b.Keys()) == 0 || b.Help().Key == "" || b.Help().Desc == "" {
				t.Errorf("%s: binding %v lacks keys or help", sec.Title, b.Help())
			}
		}
	}
}

// TestMainScreenKeysDoNotCollide: on the main screen global, list, events
// and action keys are all live at once, so one key must mean one thing.
func TestMainScreenKeysDoNotCollide(t *testing.T) {
	k := New(Operator)
	seen := map[string]string{}
	for _, sec := range k.Sections()[:4] { // Global, Lists, Events, Actions
		for _, b := range sec.Bindings {
			for _, key := range b.Keys() {
				if prev, ok := seen[key]; ok && key != "esc" {
					t.Errorf("%q is both %q and %q", key, prev, b.Help().Desc)
				}
				seen[key] = b.Help().Desc
			}
		}
	}
}

func TestViewerDenials(t *testing.T) {
	v := New(Viewer)
	for _, b := range []Binding{v.Actions.Retry, v.Actions.RetryAll, v.Actions.Pause, v.Actions.Test, v.Form.Save, v.Form.Reveal, v.Templates.Save, v.Global.Faster} {
		if !strings.HasPrefix(b.Denied, "viewer role cannot") {
			t.Errorf("%s: denied %q", b.Help().Desc, b.Denied)
		}
	}
	if v.Actions.Retry.Denied != "viewer role cannot retry" {
		t.Errorf("retry denial %q", v.Actions.Retry.Denied)
	}
	// Denied keys still match, so pressing them can say why.
	if !v.Actions.Retry.Is(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("r")}) {
		t.Error("denied binding must still match its key")
	}
	for _, sec := range New(Operator).Sections() {
		for _, b := range sec.Bindings {
			if b.Denied != "" {
				t.Errorf("operator denied %s", b.Help().Desc)
			}
		}
	}
	var zero Role
	if zero != Viewer || zero.String() != "viewer" || Operator.String() != "operator" {
		t.Error("the zero role must be the least privileged")
	}
}
