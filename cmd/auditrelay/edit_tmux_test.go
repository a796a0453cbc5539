package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestConsoleEditIsSafeInTmux replays issue 16 in a real terminal: in the
// demo, `e` on slack-prod-flags, type q, ctrl+s. The secret webhook URL
// stays as it was; a replacement that is not a URL is refused inline; a
// valid one shows the change (masked), saves after y, and the config
// file's bytes change only at that value. The edit is in the history.
func TestConsoleEditIsSafeInTmux(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end console test: skipped with -short")
	}
	dir := t.TempDir()
	s := newTmux(t, 120, 40, fmt.Sprintf("%q --demo --rate 2 --data-dir %q", os.Args[0], dir))
	cfgFile := filepath.Join(dir, "auditrelay.yaml")
	s.waitText("4 Subscriptions")
	original, err := os.ReadFile(cfgFile)
	if err != nil {
		t.Fatal(err)
	}
	oldURL := regexp.MustCompile(`webhookUrl: (\S+/slack/T000/B000)`).FindSubmatch(original)
	if oldURL == nil {
		t.Fatalf("the demo config has no slack webhookUrl:\n%s", original)
	}

	// The accident: e, q, ctrl+s.
	s.send("4")
	s.send("e")
	s.waitText("Form variables · slack-prod-flags")
	s.waitText("enter replaces") // the fields have loaded
	s.typeText("q")
	s.waitText("typing does not change it; press enter to replace it")
	s.send("C-s")
	s.waitText("nothing changed")
	if now, _ := os.ReadFile(cfgFile); string(now) != string(original) {
		t.Fatalf("the config file changed:\n%s", now)
	}

	// A replacement that is not a URL: refused next to the field.
	s.send("Enter")
	s.waitText("replace secret")
	s.typeText("not-a-url")
	s.send("Enter")
	s.waitText("again")
	s.typeText("not-a-url")
	s.send("Enter")
	s.waitText("replaced, not saved yet")
	s.send("C-s")
	s.waitText("✗ Incoming webhook URL must make the endpoint an absolute URL")
	if now, _ := os.ReadFile(cfgFile); string(now) != string(original) {
		t.Fatalf("an invalid value reached the config file:\n%s", now)
	}

	// A valid replacement: the diff (masked), y, saved.
	newURL := strings.Replace(string(oldURL[1]), "B000", "B001", 1)
	s.send("Enter")
	s.waitText("replace secret")
	s.typeText(newURL)
	s.send("Enter")
	s.waitText("again")
	s.typeText(newURL)
	s.send("Enter")
	s.waitText("replaced, not saved yet")
	s.send("C-s")
	diff := s.waitText("Save these changes to slack-prod-flags?")
	if strings.Contains(diff, "/slack/T000") || !strings.Contains(diff, "(new value)") {
		t.Fatalf("the diff shows the secret, or no change:\n%s", diff)
	}
	s.send("y")
	s.waitText("saved 1 form variable(s) of slack-prod-flags")
	now, err := os.ReadFile(cfgFile)
	if err != nil {
		t.Fatal(err)
	}
	if want := strings.Replace(string(original), string(oldURL[1]), newURL, 1); string(now) != want {
		t.Fatalf("the config file changed outside the value:\n%s\nwant:\n%s", now, want)
	}
	// The activity line names who edited what, never the value.
	s.waitFor("the edit in the activity line", func(sc string) bool {
		return strings.Contains(sc, "local:") && strings.Contains(sc, "edited webhookUrl of slack-prod") && !strings.Contains(sc, newURL)
	})

	s.send("q")
	s.waitText("EXIT=0")

	// `auditrelay config history` lists it from the store.
	code, out, stderr := runMain(t, "", "config", "history", "--data-dir", dir, "--config", cfgFile)
	if code != 0 {
		t.Fatalf("config history: exit %d: %s", code, stderr)
	}
	if !strings.Contains(out, "edit-vars") || !strings.Contains(out, "slack-prod-flags") || !strings.Contains(out, "changed webhookUrl") || strings.Contains(out, "/slack/T000") {
		t.Errorf("config history:\n%s", out)
	}
}
