package main

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// tmuxSession drives a real terminal: the console runs in tmux, keys go in
// with send-keys and the screen comes back with capture-pane, as a person
// would see it.
type tmuxSession struct {
	t    *testing.T
	name string
}

func newTmux(t *testing.T, width, height int, command string) *tmuxSession {
	t.Helper()
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("tmux is not installed (.ci/run installs it)")
	}
	s := &tmuxSession{t: t, name: fmt.Sprintf("auditrelay-test-%d", time.Now().UnixNano())}
	// The command's exit status stays on screen for the test to read.
	shell := command + `; echo "EXIT=$?"; sleep 300`
	cmd := exec.Command("tmux", "new-session", "-d", "-s", s.name, "-x", fmt.Sprint(width), "-y", fmt.Sprint(height), shell)
	cmd.Env = append(os.Environ(), "AUDITRELAY_TEST_MAIN=1", "TERM=xterm-256color")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("tmux new-session: %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("tmux", "kill-session", "-t", s.name).Run() })
	return s
}

func (s *tmuxSession) send(keys ...string) {
	s.t.Helper()
	for _, k := range keys {
		if out, err := exec.Command("tmux", "send-keys", "-t", s.name, k).CombinedOutput(); err != nil {
			s.t.Fatalf("tmux send-keys %q: %v: %s", k, err, out)
		}
		if k == "Escape" {
			// A key right after ESC would be read as Alt+key, as in any
			// terminal; a person pauses there too.
			time.Sleep(200 * time.Millisecond)
		}
	}
}

// typeText sends text literally (no key-name lookup).
func (s *tmuxSession) typeText(text string) {
	s.t.Helper()
	if out, err := exec.Command("tmux", "send-keys", "-t", s.name, "-l", text).CombinedOutput(); err != nil {
		s.t.Fatalf("tmux send-keys -l: %v: %s", err, out)
	}
}

// filter opens the filter, types text and keeps it once the console shows
// it; a key lost to a busy machine is typed again, as a person would.
func (s *tmuxSession) filter(text string) {
	s.t.Helper()
	for try := 0; ; try++ {
		s.send("/")
		s.typeText(text)
		deadline := time.Now().Add(3 * time.Second)
		for time.Now().Before(deadline) && !strings.Contains(s.screen(), "/"+text) {
			time.Sleep(100 * time.Millisecond)
		}
		if strings.Contains(s.screen(), "/"+text) {
			break
		}
		if try == 3 {
			s.t.Fatalf("the filter never showed %q:\n%s", text, s.screen())
		}
		s.send("Escape")
	}
	s.send("Enter")
}

func (s *tmuxSession) screen() string {
	out, err := exec.Command("tmux", "capture-pane", "-p", "-t", s.name).Output()
	if err != nil {
		s.t.Fatalf("tmux capture-pane: %v", err)
	}
	return string(out)
}

// waitFor polls the screen until cond holds.
func (s *tmuxSession) waitFor(what string, cond func(string) bool) string {
	s.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		sc := s.screen()
		if cond(sc) {
			return sc
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("waiting for %s; the screen is:\n%s", what, sc)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (s *tmuxSession) waitText(text string) string {
	s.t.Helper()
	return s.waitFor(fmt.Sprintf("%q", text), func(sc string) bool { return strings.Contains(sc, text) })
}

// lastLine is the last line of a screen: the console's footer.
func lastLine(screen string) string {
	lines := strings.Split(strings.TrimRight(screen, "\n"), "\n")
	return lines[len(lines)-1]
}

var eventRow = regexp.MustCompile(`(?m)^┃(› |  )\d\d:\d\d:\d\d (flag|project|environment|member|segment|metric) `)

// TestConsoleEndToEndInTmux runs `auditrelay --demo` in a real terminal and
// uses it the way the README says: watch events arrive, move the
// selection, open a detail, retry a failed delivery, edit a template with
// its live preview and save it, and quit.
func TestConsoleEndToEndInTmux(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end console test: skipped with -short")
	}
	dir := t.TempDir()
	s := newTmux(t, 120, 40, fmt.Sprintf("%q --demo --rate 10 --data-dir %q", os.Args[0], dir))

	// Events arrive.
	s.waitFor("ten events", func(sc string) bool { return len(eventRow.FindAllString(sc, -1)) >= 10 })
	s.waitText("4 Subscriptions")

	// Move the selection and open the entry's detail.
	s.send("f") // stop following so the selection stays put
	s.waitText("paused")
	s.send("k", "k", "Enter")
	detail := s.waitText("Policy decisions")
	if !strings.Contains(detail, "Entry ") || !strings.Contains(detail, "member ") {
		t.Errorf("detail view lacks the entry's fields:\n%s", detail)
	}
	s.send("Escape")
	s.waitText("1 Events")

	// Retry a failed delivery: the demo's legacy-hook endpoint answers 410.
	s.filter("status:failed sub:legacy-hook")
	s.waitFor("a failed delivery of legacy-hook", func(sc string) bool { return strings.Contains(sc, "✗ failed     legacy-hook") })
	s.send("3")
	// The entry's deliveries reorder as they update, so walk the short list
	// until the cursor rests on the failed one, as a person would.
	s.waitFor("the failed delivery under the cursor", func(sc string) bool {
		row, at := deliveriesCursor(sc)
		if strings.Contains(row, "✗ failed     legacy-hook") {
			return true
		}
		if at >= 3 {
			s.send("g")
		} else {
			s.send("j")
		}
		time.Sleep(250 * time.Millisecond)
		return false
	})
	s.send("r")
	t.Logf("footer with the prompt: %q", lastLine(s.waitText("(y/N)")))
	s.send("y")
	// Each footer seen until the toast, logged: the toast lasts seconds,
	// so if it is missed the log says what the footer showed instead.
	footer := ""
	s.waitFor("the retry to be queued", func(sc string) bool {
		if f := lastLine(sc); f != footer {
			footer = f
			t.Logf("footer at %s: %q", time.Now().Format("15:04:05.000"), f)
		}
		return strings.Contains(sc, "retry of dlv_") && strings.Contains(sc, "queued")
	})

	// Edit a template: the live preview renders the edit, save writes it.
	s.send("Escape") // clear the filter
	s.send("4")
	s.send("t")
	s.waitText("Templates · slack-prod-flags")
	// The editor opens on a template the integration has (default); write
	// a flag template of this subscription's own.
	s.waitText("[default]")
	for !strings.Contains(s.screen(), "[flag]") {
		s.send("BTab")
		time.Sleep(100 * time.Millisecond)
	}
	s.typeText(`{"text": "E2EMARK {{{title.plainText}}}"}`)
	s.waitFor("the preview to render the edit", func(sc string) bool {
		return strings.Contains(sc, `"text": "E2EMARK `) && strings.Contains(sc, "POST ")
	})
	s.send("C-s")
	s.waitText("Save the flag template of slack-prod-flags?")
	s.send("y")
	s.waitText("saved flag template of slack-prod-flags")
	saved, err := os.ReadFile(filepath.Join(dir, "templates", "slack-prod-flags", "flag.json.hbs"))
	if err != nil || !strings.Contains(string(saved), "E2EMARK") {
		t.Errorf("template file: %q, %v", saved, err)
	}
	cfg, _ := os.ReadFile(filepath.Join(dir, "auditrelay.yaml"))
	if !strings.Contains(string(cfg), "flag: templates/slack-prod-flags/flag.json.hbs") {
		t.Errorf("the override is not in the config file:\n%s", cfg)
	}

	// Quit cleanly.
	s.send("Escape")
	s.send("q")
	s.waitText("EXIT=0")
}

// deliveriesCursor returns the deliveries pane's selected row and its
// index among the pane's rows (its border is ┃ when the pane has focus),
// or -1.
func deliveriesCursor(screen string) (string, int) {
	header := -1
	for n, line := range strings.Split(screen, "\n") {
		if header < 0 && strings.Contains(line, "┃  state        subscription") {
			header = n
			continue
		}
		if i := strings.Index(line, "┃› "); i >= 0 && header >= 0 {
			return line[i:], n - header - 1
		}
	}
	return "", -1
}

// TestSSHConsoleEndToEndInTmux serves the demo over SSH and connects with a
// stock OpenSSH client, as the README says: the remote console shows the
// live events, knows who connected, and quits cleanly.
func TestSSHConsoleEndToEndInTmux(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end SSH test: skipped with -short")
	}
	for _, tool := range []string{"ssh", "ssh-keygen"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed (.ci/run installs openssh-client)", tool)
		}
	}
	dir := t.TempDir()
	key := filepath.Join(dir, "id_ed25519")
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "alice@laptop", "-f", key).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v: %s", err, out)
	}
	pub, err := os.ReadFile(key + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	keys := filepath.Join(dir, "authorized_keys")
	if err := os.WriteFile(keys, []byte("role=operator,name=alice "+string(pub)), 0o600); err != nil {
		t.Fatal(err)
	}
	port := freePort(t)

	server := newTmux(t, 100, 30, fmt.Sprintf("%q --demo --rate 10 --data-dir %q --ssh 127.0.0.1:%d --authorized-keys %q", os.Args[0], filepath.Join(dir, "data"), port, keys))
	server.waitFor("the local console", func(sc string) bool { return len(eventRow.FindAllString(sc, -1)) >= 3 })

	client := newTmux(t, 120, 40, fmt.Sprintf("ssh -i %q -p %d -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR localhost", key, port))
	client.waitFor("events over SSH", func(sc string) bool { return len(eventRow.FindAllString(sc, -1)) >= 5 })
	client.waitText("alice · operator")
	client.send("q")
	client.waitText("EXIT=0")

	server.send("q")
	server.waitText("EXIT=0")
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
