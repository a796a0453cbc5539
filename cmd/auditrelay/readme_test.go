package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestReadmeNewcomerPath follows README's "Quick start", "Running it for
// real" and "The demo over SSH" as a new user would, from a copy of the
// repository in a temporary directory: every command of their ```sh blocks
// is read from README.md and run as written, through a shell, and each
// step's outcome is checked. A README command this test does not know
// fails it, so README and test cannot drift apart.
//
// What differs from a person's terminal, and why:
//   - ports (2222, the sink's 9000 and the config's 8080/8081) are
//     replaced by free ones, so parallel test runs do not collide;
//   - HOME, GOPATH and the key pair are the test's own, USER is unset (the
//     README must work without it), and no AUDITRELAY_* variable is passed;
//   - ssh gets the test's key and no host-key prompt (-i, -o options),
//     since OpenSSH reads ~/.ssh from the password database, not $HOME;
//   - commands that run until stopped (the demo, sink, serve, ssh) run in
//     the background and are stopped with a signal once checked;
//   - the README's own test command is not run (it is this suite): it is
//     checked to be what .ci/run runs.
func TestReadmeNewcomerPath(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary as README says: skipped with -short")
	}
	for _, tool := range []string{"go", "sh", "ssh", "ssh-keygen"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed (.ci/run installs openssh-client)", tool)
		}
	}
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	n := newNewcomer(t, root)

	t.Run("Quick start", func(t *testing.T) {
		n.t = t
		n.dir = n.clone
		for _, c := range readmeCommands(t, string(readme), "Quick start") {
			n.step(c)
		}
	})
	if t.Failed() {
		return // the rest needs the installed binary
	}
	t.Run("Running it for real", func(t *testing.T) {
		n.t = t
		n.dir = n.clone
		for _, c := range readmeCommands(t, string(readme), "Running it for real") {
			n.step(c)
		}
		n.stopAll()
	})
	t.Run("The demo over SSH", func(t *testing.T) {
		n.t = t
		n.dir = filepath.Join(n.tmp, "ssh-demo")
		if err := os.MkdirAll(n.dir, 0o750); err != nil {
			t.Fatal(err)
		}
		for _, c := range readmeCommands(t, string(readme), "6. The demo over SSH") {
			n.step(c)
		}
		n.stopAll()
	})
}

// readmeCommands returns the commands of the ```sh blocks in the section
// of README titled title (up to the next heading of the same or a higher
// level), without their trailing comments.
func readmeCommands(t *testing.T, readme, title string) []string {
	t.Helper()
	var (
		level   int // of the section's heading; 0 outside it
		inBlock bool
		isSh    bool
		out     []string
	)
	comment := regexp.MustCompile(`\s{2,}#.*$`)
	for _, line := range strings.Split(readme, "\n") {
		if strings.HasPrefix(line, "```") {
			if inBlock {
				inBlock = false
			} else {
				inBlock, isSh = true, strings.TrimPrefix(line, "```") == "sh"
			}
			continue
		}
		if inBlock {
			if level > 0 && isSh {
				if c := strings.TrimSpace(comment.ReplaceAllString(line, "")); c != "" {
					out = append(out, c)
				}
			}
			continue
		}
		if h := strings.TrimLeft(line, "#"); strings.HasPrefix(line, "#") && strings.HasPrefix(h, " ") {
			l := len(line) - len(h)
			switch {
			case strings.TrimSpace(h) == title:
				level = l
			case level > 0 && l <= level:
				return out
			}
		}
	}
	if len(out) == 0 {
		t.Fatalf("README has no ```sh commands under %q", title)
	}
	return out
}

// newcomer runs README commands in a shell, as a person would.
type newcomer struct {
	t      *testing.T
	root   string // the repository
	tmp    string
	clone  string // the copy README's commands run in
	home   string
	gopath string
	dir    string // working directory of the next command
	env    []string
	ports  map[string]string // README address → free address
	bg     map[string]*bgCmd // running commands by the README line
	order  []string
}

func newNewcomer(t *testing.T, root string) *newcomer {
	tmp := t.TempDir()
	n := &newcomer{t: t, root: root, tmp: tmp, clone: filepath.Join(tmp, "auditrelay"), home: filepath.Join(tmp, "home"),
		gopath: filepath.Join(tmp, "gopath"), bg: map[string]*bgCmd{}}
	copyTree(t, root, n.clone)
	goEnv := func(name string) string {
		out, err := exec.Command("go", "env", name).Output()
		if err != nil {
			t.Fatalf("go env %s: %v", name, err)
		}
		return strings.TrimSpace(string(out))
	}
	// The Go caches are the machine's (a newcomer has them too once go has
	// run); GOPATH, and so where go install puts the binary, is the test's.
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch {
		case name == "USER" || name == "LOGNAME" || name == "HOME" || name == "GOBIN" || name == "GOPATH" || name == "GOCACHE" || name == "GOMODCACHE" || name == "TMPDIR":
		case strings.HasPrefix(name, "AUDITRELAY_"):
		default:
			n.env = append(n.env, kv)
		}
	}
	n.env = append(n.env, "HOME="+n.home, "GOPATH="+n.gopath, "GOCACHE="+goEnv("GOCACHE"), "GOMODCACHE="+goEnv("GOMODCACHE"), "GOPROXY=off",
		"TMPDIR="+filepath.Join(tmp, "tmp")) // the demo's temporary data directories stay in the test's
	if err := os.MkdirAll(filepath.Join(tmp, "tmp"), 0o750); err != nil {
		t.Fatal(err)
	}
	// The key pair README's SSH section assumes (its step 1).
	if err := os.MkdirAll(filepath.Join(n.home, ".ssh"), 0o700); err != nil {
		t.Fatal(err)
	}
	key := filepath.Join(n.home, ".ssh", "id_ed25519")
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "newcomer@laptop", "-f", key).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v: %s", err, out)
	}
	sshPort := freePort(t)
	n.ports = map[string]string{
		":2222":          fmt.Sprintf(":%d", sshPort),
		"-p 2222":        fmt.Sprintf("-p %d", sshPort),
		"127.0.0.1:9000": fmt.Sprintf("127.0.0.1:%d", freePort(t)),
		"127.0.0.1:8080": fmt.Sprintf("127.0.0.1:%d", freePort(t)),
		"127.0.0.1:8081": fmt.Sprintf("127.0.0.1:%d", freePort(t)),
	}
	t.Cleanup(n.stopAll)
	return n
}

// copyTree copies the repository's files (not .git, not data directories
// or binaries a developer left at the top).
func copyTree(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.WalkDir(from, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		if d.IsDir() && (rel == ".git" || strings.HasSuffix(rel, "auditrelay-data")) {
			return filepath.SkipDir
		}
		if rel == "auditrelay" || rel == "auditrelay.yaml" || rel == ".git" {
			return nil
		}
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(to, rel), 0o750)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(to, rel), data, 0o640)
	})
	if err != nil {
		t.Fatalf("copying the repository: %v", err)
	}
}

// local replaces README's ports by the test's.
func (n *newcomer) local(s string) string {
	for from, to := range n.ports {
		s = strings.ReplaceAll(s, from, to)
	}
	return s
}

func (n *newcomer) shell(line string) *exec.Cmd {
	cmd := exec.Command("sh", "-c", line)
	cmd.Dir = n.dir
	cmd.Env = n.env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // signals reach what the shell started
	return cmd
}

// run runs line to completion.
func (n *newcomer) run(line string) (code int, stdout, stderr string) {
	n.t.Helper()
	var out, errb bytes.Buffer
	cmd := n.shell(n.local(line))
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		n.t.Fatalf("%s: %v", line, err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(5 * time.Minute):
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
		n.t.Fatalf("%s: still running after 5 minutes\nstdout:\n%s\nstderr:\n%s", line, out.String(), errb.String())
	}
	return cmd.ProcessState.ExitCode(), out.String(), errb.String()
}

// mustRun runs line and fails unless it exits 0.
func (n *newcomer) mustRun(line string) (stdout, stderr string) {
	n.t.Helper()
	code, stdout, stderr := n.run(line)
	if code != 0 {
		n.t.Fatalf("README command %q exited %d\nstdout:\n%s\nstderr:\n%s", line, code, stdout, stderr)
	}
	return stdout, stderr
}

// bgCmd is a README command that runs until stopped.
type bgCmd struct {
	line           string
	cmd            *exec.Cmd
	stdout, stderr *lockedBuffer
	done           chan struct{}
}

func (n *newcomer) start(line, actual string) *bgCmd {
	n.t.Helper()
	// exec: the signal that stops it reaches the command, not a shell
	// that would die of it.
	b := &bgCmd{line: line, cmd: n.shell("exec " + actual), stdout: &lockedBuffer{}, stderr: &lockedBuffer{}, done: make(chan struct{})}
	b.cmd.Stdout, b.cmd.Stderr = b.stdout, b.stderr
	if err := b.cmd.Start(); err != nil {
		n.t.Fatalf("%s: %v", line, err)
	}
	go func() { b.cmd.Wait(); close(b.done) }()
	n.bg[line] = b
	n.order = append(n.order, line)
	return b
}

// waitFor waits until ok holds, failing if the command ends first.
func (n *newcomer) waitFor(b *bgCmd, what string, limit time.Duration, ok func() bool) {
	n.t.Helper()
	deadline := time.Now().Add(limit)
	for !ok() {
		select {
		case <-b.done:
			if ok() {
				return
			}
			n.t.Fatalf("README command %q ended (exit %d) before %s\nstdout:\n%s\nstderr:\n%s", b.line, b.cmd.ProcessState.ExitCode(), what, b.stdout, b.stderr)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			n.t.Fatalf("README command %q: no %s within %s\nstdout:\n%s\nstderr:\n%s", b.line, what, limit, b.stdout, b.stderr)
		}
	}
}

// stop signals the command's process group and returns its exit code.
func (n *newcomer) stop(line string, sig syscall.Signal) int {
	b := n.bg[line]
	if b == nil {
		return -1
	}
	delete(n.bg, line)
	syscall.Kill(-b.cmd.Process.Pid, sig)
	select {
	case <-b.done:
	case <-time.After(30 * time.Second):
		syscall.Kill(-b.cmd.Process.Pid, syscall.SIGKILL)
		<-b.done
		n.t.Errorf("README command %q did not stop on %v within 30s\nstderr:\n%s", line, sig, b.stderr)
	}
	return b.cmd.ProcessState.ExitCode()
}

// stopAll stops whatever still runs, last started first.
func (n *newcomer) stopAll() {
	for i := len(n.order) - 1; i >= 0; i-- {
		n.stop(n.order[i], syscall.SIGKILL)
	}
	n.order = nil
}

// stopClean stops a command with sig and expects exit status 0.
func (n *newcomer) stopClean(line string, sig syscall.Signal) {
	n.t.Helper()
	b := n.bg[line]
	if code := n.stop(line, sig); code != 0 {
		n.t.Errorf("README command %q exited %d on %v\nstderr:\n%s", line, code, sig, b.stderr)
	}
}

func countLines(text, substr string) int {
	c := 0
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		if strings.Contains(sc.Text(), substr) {
			c++
		}
	}
	return c
}

// step runs one README command and checks its outcome.
func (n *newcomer) step(line string) {
	t := n.t
	t.Helper()
	t.Logf("$ %s", line)
	switch {
	// Quick start.
	case line == "go run ./cmd/auditrelay --demo":
		b := n.start(line, line)
		// Without a terminal the demo prints a line per entry and decision.
		n.waitFor(b, "demo entries and decisions on stdout", 10*time.Minute, func() bool {
			out := b.stdout.String()
			return countLines(out, " entry ") >= 2 && countLines(out, " decision ") >= 2
		})
		// go run itself exits 1 when interrupted, whatever the program's
		// status; the program must have stopped without an error.
		b = n.bg[line]
		if code := n.stop(line, syscall.SIGINT); code != 0 && code != 1 || strings.Contains(b.stderr.String(), "level=ERROR") || strings.Contains(b.stderr.String(), "panic") {
			t.Errorf("%s: exit %d on interrupt\nstderr:\n%s", line, code, b.stderr)
		}
	case line == "go install ./cmd/auditrelay":
		n.mustRun(line)
		if _, err := os.Stat(filepath.Join(n.gopath, "bin", "auditrelay")); err != nil {
			t.Fatalf("%s: no binary where README says: %v", line, err)
		}
	case strings.HasPrefix(line, "export PATH="):
		out, _ := n.mustRun(line + `; printf %s "$PATH"`)
		for i, kv := range n.env {
			if strings.HasPrefix(kv, "PATH=") {
				n.env[i] = "PATH=" + out
			}
		}
	case line == "auditrelay --help":
		out, _ := n.mustRun(line)
		if !strings.Contains(out, "Usage:") || !strings.Contains(out, "sink") {
			t.Errorf("%s printed:\n%s", line, out)
		}
	case strings.HasPrefix(line, "go test "):
		// This suite; .ci/run must run exactly what README shows.
		ci, err := os.ReadFile(filepath.Join(n.root, ".ci", "run"))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains("\n"+string(ci)+"\n", "\n"+line+"\n") {
			t.Errorf("README's test command %q is not a line of .ci/run", line)
		}

	// Running it for real.
	case line == "cp config.example.yaml auditrelay.yaml":
		n.mustRun(line)
		path := filepath.Join(n.dir, "auditrelay.yaml")
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, addr := range []string{"127.0.0.1:8080", "127.0.0.1:8081", "127.0.0.1:9000"} {
			if !bytes.Contains(data, []byte(addr)) {
				t.Fatalf("the copied config no longer uses %s: this test's port replacement needs updating", addr)
			}
		}
		if err := os.WriteFile(path, []byte(n.local(string(data))), 0o600); err != nil {
			t.Fatal(err)
		}
	case line == "auditrelay sink":
		b := n.start(line, n.local(line+" --listen 127.0.0.1:9000"))
		n.waitFor(b, "listening line", time.Minute, func() bool { return strings.Contains(b.stderr.String(), "listening on") })
	case line == "auditrelay serve":
		b := n.start(line, line)
		url := "http://" + n.ports["127.0.0.1:8080"] + "/readyz"
		n.waitFor(b, "200 from /readyz", time.Minute, func() bool {
			resp, err := http.Get(url)
			if err != nil {
				return false
			}
			resp.Body.Close()
			return resp.StatusCode == http.StatusOK
		})
	case strings.HasPrefix(line, "auditrelay replay "):
		_, stderr := n.mustRun(line)
		if !strings.Contains(stderr, "1 accepted") {
			t.Errorf("%s: no entry accepted:\n%s", line, stderr)
		}
		if strings.Contains(stderr, "no running instance answered") {
			t.Errorf("%s did not reach the running serve:\n%s", line, stderr)
		}
	case line == "auditrelay deliveries list":
		sink := n.bg["auditrelay sink"]
		if sink == nil {
			t.Fatal("README lists deliveries without a sink running")
		}
		// Both subscriptions deliver the sample entry to the sink...
		n.waitFor(sink, "POST /slack and POST /archive", time.Minute, func() bool {
			out := sink.stdout.String()
			return strings.Contains(out, "POST /slack") && strings.Contains(out, "POST /archive")
		})
		// ...and deliveries list, through the admin API, says so.
		var out string
		deadline := time.Now().Add(time.Minute)
		for {
			out, _ = n.mustRun(line)
			if countLines(out, "delivered") >= 2 && strings.Contains(out, "slack-prod-flags") && strings.Contains(out, "audit-archive") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s never showed both deliveries delivered:\n%s", line, out)
			}
			time.Sleep(100 * time.Millisecond)
		}
		n.stopClean("auditrelay serve", syscall.SIGTERM)
		n.stopClean("auditrelay sink", syscall.SIGINT)

	// The demo over SSH.
	case strings.HasPrefix(line, `echo "role=operator,name=`) && strings.HasSuffix(line, "> keys"):
		n.mustRun(line)
		data, err := os.ReadFile(filepath.Join(n.dir, "keys"))
		if err != nil {
			t.Fatal(err)
		}
		if !regexp.MustCompile(`^role=operator,name=[\w.@+-]+ ssh-ed25519 `).Match(data) {
			t.Fatalf("%s wrote (USER unset):\n%s", line, data)
		}
	case line == "auditrelay --demo --ssh :2222 --authorized-keys keys":
		b := n.start(line, n.local(line))
		n.waitFor(b, "ssh: listening", 2*time.Minute, func() bool { return strings.Contains(b.stderr.String(), "ssh: listening") })
		n.waitFor(b, "demo entries on stdout", time.Minute, func() bool { return countLines(b.stdout.String(), " entry ") >= 1 })
	case line == "ssh -p 2222 localhost":
		key := filepath.Join(n.home, ".ssh", "id_ed25519")
		actual := strings.Replace(n.local(line), "ssh ", fmt.Sprintf("ssh -i %s -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -o BatchMode=yes ", key), 1)
		b := n.start(line, actual)
		// No terminal here: the SSH session is the line stream.
		n.waitFor(b, "entries over SSH", time.Minute, func() bool { return countLines(b.stdout.String(), " entry ") >= 2 })
		n.stop(line, syscall.SIGTERM)
		n.stopClean("auditrelay --demo --ssh :2222 --authorized-keys keys", syscall.SIGINT)

	default:
		t.Fatalf("README command %q has no check in TestReadmeNewcomerPath: add one", line)
	}
}
