package sshserve

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestFormEditsOverSSH: a viewer's key reaches none of the editing
// actions (replace, clear, undo, save), and an operator's replacement of
// a secret is recorded under the operator's key name, never with the value.
func TestFormEditsOverSSH(t *testing.T) {
	s := newSink(t, http.StatusOK)
	eng := newEngine(t, "  - name: chat\n    integration: slack\n    vars:\n      webhookUrl: "+s.URL+"/slack/old\n")
	alice := newUser(t, "operator", "alice")
	bob := newUser(t, "viewer", "bob")
	srv := startServer(t, eng, Options{Console: consoleOpts()}, alice, bob)
	ctx := context.Background()
	before, err := eng.RevealSecret(ctx, "test", "chat", "webhookUrl")
	if err != nil {
		t.Fatal(err)
	}

	v := openConsole(t, srv, bob)
	m := v.mark()
	v.typeKeys("4")
	v.waitText(m, "4 Subscriptions")
	v.typeKeys("e")
	v.waitText(m, "read-only")
	m = v.mark()
	v.typeKeys("\r") // enter: replace
	v.waitText(m, "viewer role cannot edit")
	// delete (clear), ctrl+z (undo), ctrl+s (save), a letter; then ctrl+r,
	// whose different refusal shows that all were read.
	m = v.mark()
	v.typeKeys("\x1b[3~\x1a\x13q\x12")
	v.waitText(m, "viewer role cannot reveal secrets")
	if strings.Contains(v.textSince(m), "Save these changes") || strings.Contains(v.textSince(m), "undo the last") {
		t.Fatalf("a viewer reached an editing step:\n%s", v.textSince(m))
	}
	if got, _ := eng.RevealSecret(ctx, "test", "chat", "webhookUrl"); got != before {
		t.Fatalf("the viewer changed the secret")
	}

	o := openConsole(t, srv, alice)
	m = o.mark()
	o.typeKeys("4")
	o.waitText(m, "4 Subscriptions")
	o.typeKeys("e")
	o.waitText(m, "enter replaces")
	next := s.URL + "/slack/new"
	o.typeKeys("\r")
	o.waitText(m, "replace secret")
	o.typeKeys(next + "\r")
	o.waitText(m, "again")
	o.typeKeys(next + "\r")
	o.waitText(m, "replaced, not saved yet")
	o.typeKeys("\x13")
	o.waitText(m, "Save these changes to chat?")
	o.typeKeys("y")
	o.waitText(m, "saved 1 form variable(s) of chat")

	if got, _ := eng.RevealSecret(ctx, "test", "chat", "webhookUrl"); got != next {
		t.Errorf("secret is %q, want %q (was %q)", got, next, before)
	}
	acts, err := eng.Actions(ctx, time.Time{}, 50)
	if err != nil {
		t.Fatal(err)
	}
	var edits []string
	for _, a := range acts {
		if strings.Contains(a.Detail, "/slack/") {
			t.Errorf("a secret in the audit record: %+v", a)
		}
		if a.Kind == "edit-vars" {
			edits = append(edits, a.Actor+" "+a.Target+" "+a.Detail)
		}
	}
	if len(edits) != 1 || edits[0] != "alice chat changed webhookUrl" {
		t.Errorf("edit records: %q", edits)
	}
}
