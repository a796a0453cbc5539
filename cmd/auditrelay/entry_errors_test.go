package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/auditrelay/auditrelay/core/auditlog"
	"github.com/auditrelay/auditrelay/core/engine"
	"github.com/auditrelay/auditrelay/core/engine/enginetest"
	"github.com/auditrelay/auditrelay/core/source"
	"github.com/auditrelay/auditrelay/core/store"
)

// TestOneEntryErrorFormat sends the same bad entries through every way an
// entry comes in — a signed webhook, a replay file, a page of the
// audit-log API, and the --entry of policy check, context and render —
// and checks that each is refused with the same text: the line and column
// of the problem, the field, and what was expected. One decoder
// (core/auditlog) decides; each way only says where the entry was.
//
// Each problem is on a line after the entry's first, so that it has the
// same position whether the entry is a body, a file or an item in a page
// (which starts after `{"items":[`).
func TestOneEntryErrorFormat(t *testing.T) {
	cases := []struct {
		name   string
		entry  string
		want   string // the error text every way reports
		syntax bool   // not JSON: the receiver refuses the body as such
	}{
		{
			name: "wrong type",
			entry: "{\"_id\": \"6790c1a2e4b0c2d3f4a5b6f1\", \"date\": 1737540002113,\n" +
				" \"accesses\": [{\"action\": \"updateOn\", \"resource\": \"proj/p:env/e:flag/f\"}],\n" +
				" \"kind\": 7}",
			want: `3:10: "kind": expected a string (the resource kind, e.g. "flag"), found number`,
		},
		{
			name: "missing field",
			entry: "{\"_id\": \"6790c1a2e4b0c2d3f4a5b6f2\", \"date\": 1737540002113, \"kind\": \"flag\",\n" +
				" \"accesses\": [{\"action\": \"updateOn\"}]}",
			want: `2:15: "accesses[0].resource": required field is missing (a resource specifier)`,
		},
		{
			name: "not UTF-8",
			entry: "{\"_id\": \"6790c1a2e4b0c2d3f4a5b6f3\", \"date\": 1737540002113,\n" +
				" \"accesses\": [],\n" +
				" \"kind\": \"fl\xffag\"}",
			want:   `3:13: "kind": invalid UTF-8: byte 0xFF in a string (JSON text must be UTF-8)`,
			syntax: true,
		},
	}

	eng, st := enginetest.StartWithStore(t, "", nil)
	secret := []byte("whsec-one-format")
	hook := httptest.NewServer(source.NewReceiver(source.ReceiverConfig{Secret: secret}, eng))
	defer hook.Close()
	policyFile := filepath.Join(t.TempDir(), "policy.json")
	if err := os.WriteFile(policyFile, []byte(`[{"effect":"allow","resources":["proj/*:env/*:flag/*"],"actions":["*"]}]`), 0o600); err != nil {
		t.Fatal(err)
	}

	// Each way returns the error it reports for entry, and what it puts
	// in front of the common text (nothing that comes from the entry).
	type way struct {
		name   string
		prefix func(file string, syntax bool) string
		report func(t *testing.T, name, file, entry string) string
	}
	ways := []way{
		{"webhook", func(_ string, syntax bool) string {
			if syntax {
				return "body is not valid JSON: "
			}
			return "invalid entry: "
		}, func(t *testing.T, _, _, entry string) string {
			req, _ := http.NewRequest(http.MethodPost, hook.URL+source.DefaultWebhookPath, strings.NewReader(entry))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set(auditlog.SignatureHeader, auditlog.Sign(secret, []byte(entry)))
			resp, err := hook.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var answer struct{ Error string }
			if err := json.NewDecoder(resp.Body).Decode(&answer); err != nil || resp.StatusCode != http.StatusBadRequest {
				t.Fatalf("status %d, %v", resp.StatusCode, err)
			}
			return answer.Error
		}},
		{"replay file", func(string, bool) string { return "line " }, func(t *testing.T, _, file, _ string) string {
			code, _, stderr := runCommand(t, "replay", file, "--data-dir", t.TempDir())
			m := regexp.MustCompile(`1 rejected \((.*)\)\n`).FindStringSubmatch(stderr)
			if code != 1 || m == nil {
				t.Fatalf("exit %d, want 1 and one rejection:\n%s", code, stderr)
			}
			return m[1]
		}},
		{"poller page", func(string, bool) string { return "" }, func(t *testing.T, name, _, entry string) string {
			return pollRejection(t, eng, st, name, entry)
		}},
		{"policy check --entry", func(file string, _ bool) string { return "auditrelay: policy check: " + file + ":" }, func(t *testing.T, _, file, _ string) string {
			code, _, stderr := runCommand(t, "policy", "check", "--policy", policyFile, "--entry", file)
			if code != 2 {
				t.Fatalf("exit %d, want 2:\n%s", code, stderr)
			}
			return strings.TrimSpace(stderr)
		}},
		{"context --entry", func(file string, _ bool) string { return "auditrelay: " + file + ":" }, func(t *testing.T, _, file, _ string) string {
			code, _, stderr := runCommand(t, "context", "--entry", file)
			if code != 2 {
				t.Fatalf("exit %d, want 2:\n%s", code, stderr)
			}
			return strings.TrimSpace(stderr)
		}},
		{"render --entry", func(file string, _ bool) string { return "auditrelay: render: " + file + ":" }, func(t *testing.T, _, file, _ string) string {
			code, _, stderr := runCommand(t, "render", "--integration", "webhook", "--entry", file, "--set", "url=https://hooks.example.com/x")
			if code != 2 {
				t.Fatalf("exit %d, want 2:\n%s", code, stderr)
			}
			return strings.TrimSpace(stderr)
		}},
	}
	for _, tc := range cases {
		file := filepath.Join(t.TempDir(), "entry.json")
		if err := os.WriteFile(file, []byte(tc.entry), 0o600); err != nil {
			t.Fatal(err)
		}
		// What the decoder itself says, so that the table cannot drift
		// from it.
		if _, err := auditlog.DecodeEntry([]byte(tc.entry)); err == nil || err.Error() != tc.want {
			t.Fatalf("%s: auditlog says %v, want %s", tc.name, err, tc.want)
		}
		for _, w := range ways {
			t.Run(tc.name+"/"+w.name, func(t *testing.T) {
				got := w.report(t, tc.name, file, tc.entry)
				if want := w.prefix(file, tc.syntax) + tc.want; got != want {
					t.Errorf("got\n  %s\nwant\n  %s", got, want)
				}
			})
		}
	}
}

// runCommand runs auditrelay with args, as from a shell.
func runCommand(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), args, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

// pollRejection serves entry as the one item of an audit-log page to a
// poller feeding eng, and returns the error the poller logs for it.
func pollRejection(t *testing.T, eng *engine.Engine, st store.Store, name, entry string) string {
	t.Helper()
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"items":[` + entry + `],"_links":{},"totalCount":1}`))
	}))
	defer api.Close()
	logs := &logLines{}
	p, err := source.NewPoller(source.PollerConfig{
		BaseURL: api.URL, Token: "api-token", Interval: 10 * time.Millisecond,
		Backfill: 5 * 365 * 24 * time.Hour, CursorName: "poller-" + name,
		Logger: slog.New(slog.NewJSONHandler(logs, nil)),
	}, eng, st)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	defer func() { cancel(); <-done }()
	deadline := time.Now().Add(15 * time.Second)
	for {
		if msg := logs.find("polled entry rejected"); msg != nil {
			return msg["err"]
		}
		if time.Now().After(deadline) {
			t.Fatalf("the poller reported no rejection; status %+v", p.Status())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// logLines collects JSON log lines written from other goroutines.
type logLines struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logLines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// find returns the string attributes of the first line with message msg.
func (l *logLines) find(msg string) map[string]string {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, line := range strings.Split(l.buf.String(), "\n") {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) != nil || rec["msg"] != msg {
			continue
		}
		out := map[string]string{}
		for k, v := range rec {
			if s, ok := v.(string); ok {
				out[k] = s
			}
		}
		return out
	}
	return nil
}
