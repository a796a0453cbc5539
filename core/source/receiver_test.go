package source_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/auditrelay/auditrelay/core/auditlog"
	"github.com/auditrelay/auditrelay/core/source"
	"github.com/auditrelay/auditrelay/core/store"
)

type receiverFixture struct {
	srv    *httptest.Server
	store  *memStore
	rc     *source.Receiver
	logs   *syncBuffer
	mu     sync.Mutex
	events []source.ReceiverEvent
}

func newReceiver(t *testing.T, cfg source.ReceiverConfig) *receiverFixture {
	t.Helper()
	f := &receiverFixture{store: newMemStore(), logs: &syncBuffer{}}
	cfg.Logger = slog.New(slog.NewTextHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	cfg.Observe = func(ev source.ReceiverEvent) {
		f.mu.Lock()
		f.events = append(f.events, ev)
		f.mu.Unlock()
	}
	f.rc = source.NewReceiver(cfg, f.store)
	f.srv = httptest.NewServer(f.rc)
	t.Cleanup(f.srv.Close)
	return f
}

type reply struct {
	status int
	header http.Header
	body   map[string]any
}

func (f *receiverFixture) do(t *testing.T, method, path string, body []byte, header map[string]string) reply {
	t.Helper()
	req, err := http.NewRequest(method, f.srv.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := f.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	r := reply{status: resp.StatusCode, header: resp.Header}
	if err := json.Unmarshal(data, &r.body); err != nil {
		t.Fatalf("answer is not a JSON object: %q", data)
	}
	return r
}

func (f *receiverFixture) post(t *testing.T, body []byte, header map[string]string) reply {
	return f.do(t, http.MethodPost, source.DefaultWebhookPath, body, header)
}

func TestReceiverAnswers(t *testing.T) {
	secret := []byte("s3cret-webhook-key")
	e1 := entryJSON("e1", 1700000000001)
	signed := func(b []byte) map[string]string {
		return map[string]string{auditlog.SignatureHeader: auditlog.Sign(secret, b)}
	}
	tests := []struct {
		name       string
		secret     []byte
		maxBody    int64
		method     string
		path       string
		body       []byte
		header     map[string]string
		status     int
		errorHas   string
		accepted   float64
		duplicates float64
		stored     int
		reason     source.Reason
	}{
		{name: "valid signed", secret: secret, body: e1, header: signed(e1), status: 200, accepted: 1, stored: 1},
		{name: "upper-case hex signature", secret: secret, body: e1,
			header: map[string]string{auditlog.SignatureHeader: strings.ToUpper(auditlog.Sign(secret, e1))}, status: 200, accepted: 1, stored: 1},
		{name: "signature of another body", secret: secret, body: e1, header: signed(entryJSON("e2", 1)), status: 401,
			errorHas: "does not match", reason: source.ReasonSignatureInvalid},
		{name: "signature with another key", secret: secret, body: e1,
			header: map[string]string{auditlog.SignatureHeader: auditlog.Sign([]byte("other"), e1)}, status: 401,
			errorHas: "does not match", reason: source.ReasonSignatureInvalid},
		{name: "malformed signature", secret: secret, body: e1, header: map[string]string{auditlog.SignatureHeader: "xyz"}, status: 401,
			errorHas: "hexadecimal", reason: source.ReasonSignatureInvalid},
		{name: "missing signature", secret: secret, body: e1, status: 401, errorHas: "missing X-LD-Signature", reason: source.ReasonSignatureMissing},
		{name: "no secret configured", body: e1, status: 200, accepted: 1, stored: 1},
		{name: "over the limit", maxBody: 100, body: e1, status: 413, errorHas: "exceeds the limit of 100 bytes", reason: source.ReasonTooLarge},
		{name: "bad JSON", body: []byte(`{"_id": "x",}`), status: 400, errorHas: "body is not valid JSON: 1:13: ", reason: source.ReasonBadJSON},
		{name: "empty body", body: nil, status: 400, errorHas: "empty body", reason: source.ReasonBadJSON},
		{name: "not an object", body: []byte(`"hello"`), status: 400, errorHas: "found a string", reason: source.ReasonBadJSON},
		{name: "empty array", body: []byte(`[]`), status: 400, errorHas: "no entries", reason: source.ReasonBadJSON},
		{name: "invalid entry", body: []byte(`{"date": 1, "kind": "flag", "accesses": []}`), status: 400,
			errorHas: `invalid entry: 1:1: "_id": required field is missing`, reason: source.ReasonInvalidEntry},
		{name: "GET", method: http.MethodGet, status: 405, errorHas: "method GET not allowed", reason: source.ReasonMethod},
		{name: "other path", path: "/v1/other", body: e1, status: 404, errorHas: "no receiver at /v1/other", reason: source.ReasonNotFound},
		{name: "batch", body: []byte("[" + string(e1) + ",\n " + string(entryJSON("e2", 2)) + "]"), status: 200, accepted: 2, stored: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newReceiver(t, source.ReceiverConfig{Secret: tt.secret, MaxBody: tt.maxBody})
			method, path := tt.method, tt.path
			if method == "" {
				method = http.MethodPost
			}
			if path == "" {
				path = source.DefaultWebhookPath
			}
			r := f.do(t, method, path, tt.body, tt.header)
			if r.status != tt.status {
				t.Fatalf("status %d, want %d (body %v)", r.status, tt.status, r.body)
			}
			if tt.errorHas != "" {
				msg, _ := r.body["error"].(string)
				if !strings.Contains(msg, tt.errorHas) {
					t.Errorf("error %q does not contain %q", msg, tt.errorHas)
				}
			} else {
				if r.body["accepted"] != tt.accepted || r.body["duplicates"] != tt.duplicates {
					t.Errorf("body %v, want accepted %v duplicates %v", r.body, tt.accepted, tt.duplicates)
				}
			}
			if got := f.store.count(); got != tt.stored {
				t.Errorf("stored %d entries, want %d", got, tt.stored)
			}
			if tt.status == 405 && r.header.Get("Allow") != "POST" {
				t.Errorf("Allow = %q, want POST", r.header.Get("Allow"))
			}
			st := f.rc.Stats()
			if tt.reason != "" && st.Rejected[tt.reason] != 1 {
				t.Errorf("Rejected[%s] = %d, want 1 (stats %+v)", tt.reason, st.Rejected[tt.reason], st)
			}
			f.mu.Lock()
			defer f.mu.Unlock()
			if len(f.events) != 1 || f.events[0].Status != tt.status || f.events[0].Reason != tt.reason {
				t.Errorf("observed %+v, want one event with status %d reason %q", f.events, tt.status, tt.reason)
			}
			if strings.Contains(f.logs.String(), string(secret)) {
				t.Errorf("the secret was logged")
			}
		})
	}
}

func TestReceiverDuplicate(t *testing.T) {
	f := newReceiver(t, source.ReceiverConfig{})
	e := entryJSON("dup", 1700000000000)
	if r := f.post(t, e, nil); r.status != 200 || r.body["accepted"] != 1.0 {
		t.Fatalf("first: %d %v", r.status, r.body)
	}
	r := f.post(t, e, nil)
	if r.status != 200 || r.body["accepted"] != 0.0 || r.body["duplicates"] != 1.0 {
		t.Fatalf("second: %d %v, want 200 accepted 0 duplicates 1", r.status, r.body)
	}
	st := f.rc.Stats()
	if st.Requests != 2 || st.Received != 2 || st.Accepted != 1 || st.Duplicates != 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestReceiverUnavailable(t *testing.T) {
	f := newReceiver(t, source.ReceiverConfig{})
	f.store.setFailing(errors.New("disk I/O error at /var/lib/auditrelay/db"))
	r := f.post(t, entryJSON("x", 1), nil)
	if r.status != 503 {
		t.Fatalf("status %d, want 503", r.status)
	}
	if got := r.header.Get("Retry-After"); got != "5" {
		t.Errorf("Retry-After %q, want 5", got)
	}
	if msg := r.body["error"].(string); strings.Contains(msg, "/var/lib") || !strings.Contains(msg, "retry later") {
		t.Errorf("error %q: want a retry hint without internal detail", msg)
	}
	if !strings.Contains(f.logs.String(), "disk I/O error") {
		t.Errorf("the cause was not logged: %s", f.logs.String())
	}
	// Once the store is back the same entry goes through.
	f.store.setFailing(nil)
	if r := f.post(t, entryJSON("x", 1), nil); r.status != 200 || r.body["accepted"] != 1.0 {
		t.Errorf("after recovery: %d %v", r.status, r.body)
	}
}

func TestReceiverBatchWithInvalidEntry(t *testing.T) {
	f := newReceiver(t, source.ReceiverConfig{})
	body := []byte("[" + string(entryJSON("a", 1)) + `, {"_id": "b"}, ` + string(entryJSON("a", 1)) + "]")
	r := f.post(t, body, nil)
	if r.status != 400 {
		t.Fatalf("status %d, want 400", r.status)
	}
	if r.body["accepted"] != 1.0 || r.body["duplicates"] != 1.0 {
		t.Errorf("body %v: want accepted 1, duplicates 1", r.body)
	}
	rej, _ := r.body["rejected"].([]any)
	if len(rej) != 1 {
		t.Fatalf("rejected %v, want one", r.body["rejected"])
	}
	first := rej[0].(map[string]any)
	if first["index"] != 1.0 || !strings.Contains(first["error"].(string), `"date": required field is missing`) {
		t.Errorf("rejection %v", first)
	}
	if got := f.store.stored(); len(got) != 1 || got[0] != "a" {
		t.Errorf("stored %v, want [a]", got)
	}
}

func TestReceiverExactBytes(t *testing.T) {
	// The stored raw entry is the exact body (what a standard-payload
	// delivery re-sends and signs), not a re-encoding.
	var got [][]byte
	ing := ingestFunc(func(items []source.Item) {
		for _, it := range items {
			got = append(got, it.Raw)
		}
	})
	srv := httptest.NewServer(source.NewReceiver(source.ReceiverConfig{}, ing))
	defer srv.Close()
	body := []byte("{ \"_id\" : \"x\",\n  \"date\": 1.0e3, \"kind\":\"flag\", \"accesses\": [] }")
	resp, err := http.Post(srv.URL+source.DefaultWebhookPath, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if len(got) != 1 || !bytes.Equal(got[0], body) {
		t.Errorf("raw %q, want the exact body %q", got, body)
	}
}

func TestReceiverWarnsOnceWithoutSecret(t *testing.T) {
	f := newReceiver(t, source.ReceiverConfig{})
	f.post(t, entryJSON("a", 1), nil)
	f.post(t, entryJSON("b", 2), nil)
	if n := strings.Count(f.logs.String(), "no webhook secret configured"); n != 1 {
		t.Errorf("warning logged %d times, want once:\n%s", n, f.logs.String())
	}
}

func TestReceiverOverLimitWithoutContentLength(t *testing.T) {
	// A chunked body has no Content-Length: the limit is enforced while
	// reading.
	f := newReceiver(t, source.ReceiverConfig{MaxBody: 64})
	pr, pw := io.Pipe()
	go func() {
		_, _ = pw.Write(bytes.Repeat([]byte(" "), 1<<20))
		pw.Close()
	}()
	req, _ := http.NewRequest(http.MethodPost, f.srv.URL+source.DefaultWebhookPath, pr)
	req.Header.Set("Content-Type", "application/json")
	resp, err := f.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 413 {
		t.Errorf("status %d, want 413", resp.StatusCode)
	}
}

type ingestFunc func(items []source.Item)

func (f ingestFunc) Ingest(_ context.Context, items []source.Item, _ *store.Cursor) ([]source.Result, error) {
	f(items)
	return make([]source.Result, len(items)), nil
}

// blockedIngester is a store that cannot take entries (another process
// holds its lock): Ingest waits until the caller's context ends.
type blockedIngester struct{ sawDeadline chan bool }

func (b blockedIngester) Ingest(ctx context.Context, _ []source.Item, _ *store.Cursor) ([]source.Result, error) {
	_, ok := ctx.Deadline()
	b.sawDeadline <- ok
	<-ctx.Done()
	return nil, fmt.Errorf("storing entries: %w", ctx.Err())
}

// TestReceiverStoreTimeout: a store that does not take the entries within
// StoreTimeout gets the request answered 503 with Retry-After, before the
// sender gives up, and the log says the store did not answer in time.
func TestReceiverStoreTimeout(t *testing.T) {
	logs := &syncBuffer{}
	ing := blockedIngester{sawDeadline: make(chan bool, 1)}
	rc := source.NewReceiver(source.ReceiverConfig{
		StoreTimeout: 100 * time.Millisecond,
		Logger:       slog.New(slog.NewTextHandler(logs, nil)),
	}, ing)
	srv := httptest.NewServer(rc)
	defer srv.Close()
	client := &http.Client{Timeout: 5 * time.Second} // the sender's patience
	resp, err := client.Post(srv.URL+source.DefaultWebhookPath, "application/json", bytes.NewReader(entryJSON("x", 1)))
	if err != nil {
		t.Fatalf("POST to a receiver whose store is blocked: %v (not answered before the sender gave up)", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("answer %s, Retry-After %q; want 503 with Retry-After", resp.Status, resp.Header.Get("Retry-After"))
	}
	if !<-ing.sawDeadline {
		t.Error("Ingest got a context without a deadline")
	}
	if !strings.Contains(logs.String(), "did not take the entries within 100ms") {
		t.Errorf("the log does not say the store timed out:\n%s", logs)
	}
}
