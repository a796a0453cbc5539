package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// runIn runs the command in-process and returns its exit code and output.
func runIn(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), args, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

// TestNoSendCommandsNeedNoSecrets: `integrations list`, `replay` and
// `deliveries list` send nothing, so they work while the subscriptions'
// secrets are not exported, on the data directory and against a running
// instance's admin API; serve, which sends, still needs them.
func TestNoSendCommandsNeedNoSecrets(t *testing.T) {
	const unset = "AUDITRELAY_TEST_NOSECRET_URL"
	if _, ok := os.LookupEnv(unset); ok {
		t.Fatalf("%s must not be set for this test", unset)
	}
	sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	defer sink.Close()
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "auditrelay.yaml")
	cfgText := `data_dir: ` + filepath.Join(dir, "data") + `
http: {listen: "127.0.0.1:0"}
admin: {listen: "127.0.0.1:0"}
retention: {interval: 0}
subscriptions:
  - name: archive
    integration: webhook
    vars:
      url: env:` + unset + `
      secret: env:AUDITRELAY_TEST_NOSECRET_HMAC
    standard_webhooks_secret: env:AUDITRELAY_TEST_NOSECRET_WHSEC
`
	if err := os.WriteFile(cfgPath, []byte(cfgText), 0o600); err != nil {
		t.Fatal(err)
	}
	entries := filepath.Join("..", "..", "core", "auditlog", "testdata", "entries")
	files, _ := filepath.Glob(filepath.Join(entries, "flag-*.json"))
	if len(files) == 0 {
		t.Fatal("no sample entries")
	}

	// serve sends: it still names the missing variable.
	code, _, stderr := runIn(t, "serve", "--config", cfgPath)
	if code != exitBadUsage || !strings.Contains(stderr, unset+" is not set") {
		t.Fatalf("serve without the secret: exit %d, stderr:\n%s", code, stderr)
	}

	for _, step := range [][]string{
		{"integrations", "list", "--config", cfgPath},
		{"replay", "--config", cfgPath, files[0]}, // into the data directory
		{"deliveries", "list", "--config", cfgPath},
	} {
		code, stdout, stderr := runIn(t, step...)
		if code != exitOK {
			t.Fatalf("%s without secrets on the data directory: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(step, " "), code, stdout, stderr)
		}
		if step[0] == "deliveries" && !strings.Contains(stdout, "archive") {
			t.Errorf("deliveries list shows no delivery of archive:\n%s", stdout)
		}
	}

	// A running instance with the secrets; the CLI without them talks to
	// its admin API.
	p := startServeEnv(t, cfgPath, unset+"="+sink.URL+"/hook", "AUDITRELAY_TEST_NOSECRET_HMAC=s3cret", "AUDITRELAY_TEST_NOSECRET_WHSEC=whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	defer func() {
		p.cmd.Process.Signal(syscall.SIGTERM)
		p.cmd.Wait()
	}()
	for _, step := range [][]string{
		{"replay", "--config", cfgPath, files[len(files)-1]},
		{"deliveries", "list", "--config", cfgPath},
	} {
		code, stdout, stderr := runIn(t, step...)
		if code != exitOK {
			t.Fatalf("%s without secrets against the running instance: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(step, " "), code, stdout, stderr)
		}
		if strings.Contains(stderr, "no running instance answered") {
			t.Errorf("%s did not reach the running instance:\n%s", strings.Join(step, " "), stderr)
		}
	}
}

// TestReplayNotJSONLine: a line of a replay file that is not JSON is
// reported with its line, column and what was expected there.
func TestReplayNotJSONLine(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "entries.ndjson")
	text := `{"_id":"6790c1a2e4b0c2d3f4a5b701","date":1737540002113,"kind":"flag","accesses":[{"action":"updateOn","resource":"proj/p:env/production:flag/f"}]}` + "\nnot json\n"
	if err := os.WriteFile(file, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runIn(t, "replay", "--data-dir", filepath.Join(dir, "data"), file)
	want := `line 2:1: expected an audit-log entry (a JSON object, starting with '{'), found "not json"`
	if code != exitFailure || !strings.Contains(stderr, want) || strings.Contains(stderr, "null") {
		t.Errorf("replay exit %d, stderr:\n%s\nwant it to contain %s", code, stderr, want)
	}
}
