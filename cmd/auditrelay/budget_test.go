package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/auditrelay/auditrelay/core/admin"
	"github.com/auditrelay/auditrelay/core/engine"
)

// The acceptance tests of issue 13 D2: a template that expands an entry
// without bound, and a delivery whose attempt keeps stopping the process.

// nestedManifest is an integration whose only template prints every tag of
// the flag once per tag.
const nestedManifest = `{
  "name": "Nested",
  "version": "1.0.0",
  "overview": "Posts every tag once per tag.",
  "description": "A template that loops over the flag's tags inside a loop over the same tags.",
  "author": "auditrelay tests",
  "supportEmail": "tests@example.com",
  "links": {"site": "https://example.com", "privacyPolicy": "https://example.com/privacy"},
  "categories": ["monitoring"],
  "icons": {"square": "assets/square.svg", "horizontal": "assets/horizontal.svg"},
  "formVariables": [{"key": "url", "name": "URL", "type": "uri", "description": "Where to post."}],
  "capabilities": {
    "auditLogEventsHook": {
      "endpoint": {"url": "{{{url}}}", "method": "POST", "headers": [{"name": "Content-Type", "value": "application/json"}]},
      "templates": {"default": "templates/default.json.hbs"}
    }
  }
}`

const nestedBody = "{\n  \"text\": \"{{#each tags}}{{#each ../tags}}{{this}};{{/each}}{{/each}}\"\n}\n"

// nestedIntegrations writes the integration into a fresh integrations
// directory and returns the directory.
func nestedIntegrations(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	writeIntegration(t, filepath.Join(dir, "nested"), map[string]string{
		"manifest.json":              nestedManifest,
		"templates/default.json.hbs": nestedBody,
	})
	return dir
}

// tagEntry is a flag entry whose flag has n tags; 20,000 make 190 KB,
// under the receiver's 1 MiB max_body.
func tagEntry(id string, n int) []byte {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `"t%d"`, i)
	}
	return []byte(fmt.Sprintf(`{"_id":%q,"date":1737540002113,"kind":"flag","name":"Tagged","title":"changed the flag","accesses":[{"action":"updateTags","resource":"proj/p:env/production:flag/tagged"}],"member":{"_id":"m1","email":"maya@example.com","firstName":"Maya","lastName":"Okafor"},"currentVersion":{"key":"tagged","tags":[%s]}}`, id, b.String()))
}

// recordingSink answers 204 and records each request's delivery id and
// body; requests for the delivery id in hang are never answered (the
// handler waits until the client goes away), and each one is announced on
// hung.
type recordingSink struct {
	url  string
	hang string
	hung chan string

	mu     sync.Mutex
	bodies map[string][]string // delivery id → bodies received
}

func newRecordingSink(t *testing.T, hang string) *recordingSink {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &recordingSink{url: "http://" + ln.Addr().String() + "/hook", hang: hang, hung: make(chan string, 16), bodies: map[string][]string{}}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		id := r.Header.Get("X-Auditrelay-Delivery-Id")
		s.mu.Lock()
		s.bodies[id] = append(s.bodies[id], string(body))
		s.mu.Unlock()
		if id != "" && id == s.hang {
			s.hung <- id
			<-r.Context().Done()
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return s
}

func (s *recordingSink) received(id string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.bodies[id]...)
}

// waitLong is waitFor with a deadline for steps that span a restart and a
// lease on a loaded machine.
func waitLong(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// adminDelivery reads a delivery through the admin API of the serve process
// whose data directory is dir.
func adminDelivery(t *testing.T, dir, id string) (engine.DeliveryDetail, error) {
	t.Helper()
	c, err := admin.NewClient("", dir, "")
	if err != nil {
		return engine.DeliveryDetail{}, err
	}
	return c.Delivery(context.Background(), id)
}

func postEntry(t *testing.T, p *serveProcess, body []byte) {
	t.Helper()
	resp, err := http.Post("http://"+p.addr+"/v1/launchdarkly", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatalf("POST: %v", err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST answered %s, want 200", resp.Status)
	}
}

// healthy reports whether the process answers /healthz.
func healthy(p *serveProcess) bool {
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get("http://" + p.addr + "/healthz")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// peakRSS is the process's peak resident set (VmHWM) in bytes, or -1 where
// /proc does not tell.
func peakRSS(pid int) int64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return -1
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err == nil {
				return kb << 10
			}
		}
	}
	return -1
}

func stopServe(p *serveProcess) {
	p.cmd.Process.Signal(syscall.SIGTERM)
	p.cmd.Wait()
}

// TestServeSurvivesRenderBudget: a subscription whose template loops over
// the tags inside a loop over the tags, and an entry with 20,000 tags
// (190 KB, under max_body). The POST gets 200; the delivery fails with the
// budget reason, once; the process keeps answering /healthz and
// delivering other entries, with bounded memory; after a restart the
// failed delivery is not attempted again.
func TestServeSurvivesRenderBudget(t *testing.T) {
	if testing.Short() {
		t.Skip("serve subprocess test: skipped with -short")
	}
	sink := newRecordingSink(t, "")
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "auditrelay.yaml")
	cfg := fmt.Sprintf(`data_dir: %s
integrations_dirs: [%s]
http:
  listen: 127.0.0.1:0
admin:
  listen: 127.0.0.1:0
delivery:
  timeout: 5s
  lease: 6s
subscriptions:
  - name: tags
    integration: nested
    vars:
      url: %s
`, dir, nestedIntegrations(t), sink.url)
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}

	p := startServe(t, cfgPath)
	defer func() { stopServe(p) }()
	postEntry(t, p, tagEntry("big", 20_000))
	big := engine.DeliveryID("tags", "big")
	var d engine.DeliveryDetail
	waitLong(t, "the delivery to fail", func() bool {
		var err error
		d, err = adminDelivery(t, dir, big)
		return err == nil && d.State == engine.Failed
	})
	wantReason := "templates/default.json.hbs:2:43: the template produced more than 1 MiB of output (render budget)"
	if !strings.Contains(d.Reason, wantReason) || !strings.HasPrefix(d.Reason, "render failed, not retried: ") {
		t.Fatalf("reason %q, want it to contain %q", d.Reason, wantReason)
	}
	if len(d.Attempts) != 1 || d.Attempts[0].ErrorClass != "render" || len(sink.received(big)) != 0 {
		t.Fatalf("attempts %+v, sink got %d requests; want one render attempt and nothing sent", d.Attempts, len(sink.received(big)))
	}
	if !healthy(p) {
		t.Fatal("the process stopped answering /healthz")
	}
	// It goes on delivering.
	postEntry(t, p, tagEntry("small", 3))
	small := engine.DeliveryID("tags", "small")
	waitLong(t, "the small entry to be delivered", func() bool { return len(sink.received(small)) == 1 })
	if got := sink.received(small)[0]; got != "{\n  \"text\": \"t0;t1;t2;t0;t1;t2;t0;t1;t2;\"\n}\n" {
		t.Fatalf("small body %q", got)
	}
	if rss := peakRSS(p.cmd.Process.Pid); rss > 256<<20 {
		t.Fatalf("peak RSS %d MiB, want under 256 MiB", rss>>20)
	} else {
		t.Logf("peak RSS of serve: %d MiB", rss>>20)
	}

	// A restart does not attempt the failed delivery again.
	stopServe(p)
	p = startServe(t, cfgPath)
	postEntry(t, p, tagEntry("after", 2))
	after := engine.DeliveryID("tags", "after")
	waitLong(t, "an entry to be delivered after the restart", func() bool { return len(sink.received(after)) == 1 })
	d, err := adminDelivery(t, dir, big)
	if err != nil || d.State != engine.Failed || len(d.Attempts) != 1 {
		t.Fatalf("after the restart: %+v, %v; want failed with its one attempt", d.DeliveryView, err)
	}
	if !healthy(p) {
		t.Fatal("the restarted process stopped answering /healthz")
	}
}

// TestServePoisonAfterCrashes: the process is killed (SIGKILL) while it
// attempts a delivery, against an endpoint that never answers, three
// times. After the third restart the delivery fails with the poison reason
// instead of being attempted (and the process killed) again, and the next
// entries are delivered.
func TestServePoisonAfterCrashes(t *testing.T) {
	if testing.Short() {
		t.Skip("serve subprocess test: skipped with -short")
	}
	poison := engine.DeliveryID("archive", "poison1")
	sink := newRecordingSink(t, poison)
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "auditrelay.yaml")
	cfg := fmt.Sprintf(`data_dir: %s
http:
  listen: 127.0.0.1:0
admin:
  listen: 127.0.0.1:0
delivery:
  timeout: 2s
  lease: 3s # poison_after: 3 by default
subscriptions:
  - name: archive
    integration: webhook
    vars:
      url: %s
`, dir, sink.url)
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}

	p := startServe(t, cfgPath)
	postEntry(t, p, []byte(adminEntry("poison1")))
	for crash := 1; crash <= 3; crash++ {
		select {
		case <-sink.hung:
		case <-time.After(90 * time.Second):
			t.Fatalf("attempt %d of the poison delivery never reached the endpoint", crash)
		}
		// The process dies while the attempt is in flight.
		p.cmd.Process.Signal(syscall.SIGKILL)
		p.cmd.Wait()
		p = startServe(t, cfgPath)
	}
	defer func() { stopServe(p) }()

	var d engine.DeliveryDetail
	waitLong(t, "the poison delivery to fail", func() bool {
		var err error
		d, err = adminDelivery(t, dir, poison)
		return err == nil && d.State == engine.Failed
	})
	if !strings.HasPrefix(d.Reason, "poison: the process stopped 3 times while attempting this delivery") {
		t.Fatalf("reason %q", d.Reason)
	}
	lost := 0
	for _, a := range d.Attempts {
		if a.ErrorClass == "worker-lost" {
			lost++
		}
	}
	if lost != 3 || len(d.Attempts) != 3 {
		t.Fatalf("attempts %+v, want the 3 lost ones", d.Attempts)
	}
	// The next entries are delivered, and the poison one was not sent a
	// fourth time.
	for i := range 3 {
		postEntry(t, p, []byte(adminEntry(fmt.Sprintf("next%d", i))))
	}
	for i := range 3 {
		id := engine.DeliveryID("archive", fmt.Sprintf("next%d", i))
		waitLong(t, "the next entries to be delivered", func() bool { return len(sink.received(id)) == 1 })
	}
	if n := len(sink.received(poison)); n != 3 {
		t.Fatalf("the endpoint got the poison delivery %d times, want 3", n)
	}
	if !healthy(p) {
		t.Fatal("the process stopped answering /healthz")
	}
}

// TestRenderCommandStopsAtBudget: `auditrelay render` of the nested
// template with the 20,000-tag entry exits 1 with the template, position
// and limit, in bounded memory (it used 5.9 GB and died).
func TestRenderCommandStopsAtBudget(t *testing.T) {
	ints := nestedIntegrations(t)
	entry := filepath.Join(t.TempDir(), "big.json")
	if err := os.WriteFile(entry, tagEntry("big", 20_000), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "render", "--integration", filepath.Join(ints, "nested"), "--entry", entry, "--set", "url=https://example.com/hook")
	cmd.Env = append(os.Environ(), "AUDITRELAY_TEST_MAIN=1")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// The child's own high-water mark (VmHWM), read until it exits: its
	// rusage Maxrss would include this test process's, inherited at fork.
	peak := make(chan int64, 1)
	exited := make(chan struct{})
	go func() {
		var most int64 = -1
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for {
			most = max(most, peakRSS(cmd.Process.Pid))
			select {
			case <-exited:
				peak <- most
				return
			case <-tick.C:
			}
		}
	}()
	err := cmd.Wait()
	close(exited)
	rss := <-peak
	if code := cmd.ProcessState.ExitCode(); code != 1 {
		t.Fatalf("exit %d (%v), want 1; stderr:\n%s", code, err, stderr.String())
	}
	want := "auditrelay: render: nested: rendering templates/default.json.hbs: templates/default.json.hbs:2:43: the template produced more than 1 MiB of output (render budget)\n"
	if stderr.String() != want || stdout.Len() != 0 {
		t.Fatalf("stderr %q, stdout %d bytes; want %q", stderr.String(), stdout.Len(), want)
	}
	if rss > 192<<20 { // the race detector needs several times the heap
		t.Fatalf("peak RSS %d MiB, want under 192 MiB", rss>>20)
	}
	t.Logf("peak RSS of render: %d MiB", rss>>20)
}

// TestValidateWarnsNestedIteration: validate names the nested loop over
// the same array at its file, line and column, as a warning.
func TestValidateWarnsNestedIteration(t *testing.T) {
	ints := nestedIntegrations(t)
	code, out, errOut := runMain(t, "", "validate", filepath.Join(ints, "nested"))
	if code != 0 {
		t.Fatalf("exit %d: %s%s", code, out, errOut)
	}
	want := filepath.Join(ints, "nested", "templates", "default.json.hbs") + ":2:34: warning: lint (templates.default, sample flag context): nested iteration over the same array: tags is already iterated by the loop at 2:20"
	if !strings.Contains(out, want) || !strings.Contains(out, "1 warning") {
		t.Fatalf("validate output lacks %q:\n%s", want, out)
	}
}
