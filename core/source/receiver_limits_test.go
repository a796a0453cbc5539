package source_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/auditrelay/auditrelay/core/source"
	"github.com/auditrelay/auditrelay/core/store"
)

// TestReceiverContentTypes covers issue 13 D5: only JSON is accepted, and
// a refusal comes before the body is read or anything is stored.
func TestReceiverContentTypes(t *testing.T) {
	tests := []struct {
		contentType string // "-" sends no Content-Type header at all
		status      int
		errorHas    string
	}{
		{"application/json", 200, ""},
		{"application/json; charset=utf-8", 200, ""},
		{"Application/JSON;charset=UTF-8", 200, ""},
		{`application/json; charset="utf8"`, 200, ""},
		{"application/vnd.launchdarkly+json", 200, ""},
		{"application/merge-patch+json; charset=utf-8", 200, ""},
		{"-", 415, "missing Content-Type: send the body as application/json"},
		{"", 415, "missing Content-Type"},
		{"text/plain", 415, "Content-Type text/plain is not JSON: send the body as application/json"},
		{"text/plain; charset=utf-8", 415, "text/plain is not JSON"},
		{"application/x-www-form-urlencoded", 415, "application/x-www-form-urlencoded is not JSON"},
		{"multipart/form-data; boundary=xyz", 415, "multipart/form-data is not JSON"},
		{"text/json", 415, "text/json is not JSON"},
		{"application/jsonx", 415, "is not JSON"},
		{"+json", 415, "is not"},
		{"application/json; charset=iso-8859-1", 415, "charset iso-8859-1 is not supported: JSON is UTF-8"},
		{"application/json; charset=utf-16", 415, "charset utf-16 is not supported"},
		{"application/json; =x", 415, "is not a valid media type"},
	}
	for _, tt := range tests {
		t.Run(tt.contentType, func(t *testing.T) {
			f := newReceiver(t, source.ReceiverConfig{})
			req, err := http.NewRequest(http.MethodPost, f.srv.URL+source.DefaultWebhookPath, bytes.NewReader(entryJSON("ct", 1)))
			if err != nil {
				t.Fatal(err)
			}
			if tt.contentType != "-" {
				req.Header["Content-Type"] = []string{tt.contentType}
			}
			resp, err := f.srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.status, body)
			}
			if tt.status == 200 {
				if f.store.count() != 1 {
					t.Errorf("stored %d entries, want 1", f.store.count())
				}
				return
			}
			if !strings.Contains(string(body), tt.errorHas) {
				t.Errorf("answer %s does not contain %q", body, tt.errorHas)
			}
			if resp.Header.Get("Accept-Post") != "application/json" {
				t.Errorf("Accept-Post = %q", resp.Header.Get("Accept-Post"))
			}
			if f.store.count() != 0 || f.store.ingestCalls() != 0 {
				t.Errorf("a refused request reached the store (%d stored)", f.store.count())
			}
			if got := f.rc.Stats().Rejected[source.ReasonMediaType]; got != 1 {
				t.Errorf("Rejected[%s] = %d, want 1", source.ReasonMediaType, got)
			}
		})
	}
}

// blockingIngester holds every Ingest call until released, counting the
// calls in progress.
type blockingIngester struct {
	entered chan struct{}
	release chan struct{}
	mu      sync.Mutex
	calls   int
}

func (b *blockingIngester) Ingest(ctx context.Context, items []source.Item, _ *store.Cursor) ([]source.Result, error) {
	b.mu.Lock()
	b.calls++
	b.mu.Unlock()
	b.entered <- struct{}{}
	select {
	case <-b.release:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return make([]source.Result, len(items)), nil
}

// TestReceiverLimitsRequestsInFlight: past MaxInFlight, requests are
// answered 503 with Retry-After before their body is read; once a slot is
// free, requests go through again.
func TestReceiverLimitsRequestsInFlight(t *testing.T) {
	ing := &blockingIngester{entered: make(chan struct{}), release: make(chan struct{})}
	logs := &syncBuffer{}
	var events []source.ReceiverEvent
	var evMu sync.Mutex
	rc := source.NewReceiver(source.ReceiverConfig{MaxInFlight: 2, Logger: slog.New(slog.NewTextHandler(logs, nil)), Observe: func(ev source.ReceiverEvent) {
		evMu.Lock()
		events = append(events, ev)
		evMu.Unlock()
	}}, ing)
	srv := httptest.NewServer(rc)
	defer srv.Close()
	post := func() (*http.Response, string) {
		resp, err := srv.Client().Post(srv.URL+source.DefaultWebhookPath, "application/json", bytes.NewReader(entryJSON("busy", 1)))
		if err != nil {
			t.Error(err)
			return nil, ""
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp, string(body)
	}

	held := make(chan int, 2)
	for range 2 {
		go func() {
			resp, _ := post()
			if resp != nil {
				held <- resp.StatusCode
			}
		}()
	}
	<-ing.entered
	<-ing.entered // both slots are taken, inside Ingest
	for range 3 {
		resp, body := post()
		if resp == nil {
			return
		}
		if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") != "5" ||
			!strings.Contains(body, "too many requests in flight (2); retry later") {
			t.Errorf("over the limit: %d Retry-After %q: %s", resp.StatusCode, resp.Header.Get("Retry-After"), body)
		}
	}
	ing.mu.Lock()
	calls := ing.calls
	ing.mu.Unlock()
	if calls != 2 {
		t.Errorf("Ingest called %d times, want 2 (refused requests must not reach it)", calls)
	}
	close(ing.release)
	for range 2 {
		if code := <-held; code != 200 {
			t.Errorf("held request answered %d", code)
		}
	}
	// A slot is free again.
	go func() { <-ing.entered }()
	if resp, body := post(); resp == nil || resp.StatusCode != 200 {
		t.Errorf("after the others finished: %v %s", resp, body)
	}
	if got := rc.Stats().Rejected[source.ReasonBusy]; got != 3 {
		t.Errorf("Rejected[busy] = %d, want 3", got)
	}
	// Refusals are logged at most once a second, with a count.
	if n := strings.Count(logs.String(), "too many requests in flight"); n != 1 {
		t.Errorf("busy refusals logged %d times, want once:\n%s", n, logs.String())
	}
	evMu.Lock()
	defer evMu.Unlock()
	busy := 0
	for _, ev := range events {
		if ev.Reason == source.ReasonBusy && ev.Status == 503 {
			busy++
		}
	}
	if busy != 3 {
		t.Errorf("observed %d busy refusals, want 3", busy)
	}
}

// TestReceiverBoundsBatches covers issue 13 D3 at the handler: an array
// longer than MaxEntries is refused before anything is done per element,
// and the answer to a batch of bad entries lists the first ones and counts
// the rest instead of growing with them.
func TestReceiverBoundsBatches(t *testing.T) {
	f := newReceiver(t, source.ReceiverConfig{})

	numbers := func(n int) []byte { return []byte("[" + strings.Repeat("1,", n-1) + "1]") }
	r := f.post(t, numbers(524000), nil)
	if r.status != 413 || !strings.Contains(r.body["error"].(string), "array of 524000 entries exceeds the limit of 1000 entries per request") {
		t.Errorf("524,000 elements: %d %v", r.status, r.body)
	}
	if f.store.ingestCalls() != 0 {
		t.Errorf("the over-long array reached the store")
	}

	req, _ := http.NewRequest(http.MethodPost, f.srv.URL+source.DefaultWebhookPath, bytes.NewReader(numbers(1000)))
	req.Header.Set("Content-Type", "application/json")
	resp, err := f.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 400 || len(raw) > 8<<10 {
		t.Fatalf("1,000 bad elements: status %d, %d-byte answer", resp.StatusCode, len(raw))
	}
	r = f.post(t, numbers(1000), nil)
	if rej := r.body["rejected"].([]any); len(rej) != 20 || r.body["rejected_not_listed"] != 980.0 {
		t.Errorf("listed %d rejections, %v not listed; want 20 and 980", len(rej), r.body["rejected_not_listed"])
	}
	if msg := r.body["error"].(string); !strings.HasPrefix(msg, "1000 of 1000 entries invalid; first: entry 0: 1:1: expected an audit-log entry (a JSON object), found number") {
		t.Errorf("error %q", msg)
	}

	// A malformed array is refused with the position, whatever its size.
	r = f.post(t, []byte("["+strings.Repeat("1,", 300000)+"]"), nil)
	if r.status != 400 || r.body["error"] != "body is not valid JSON: 1:600002: trailing comma before ']': expected another array element" {
		t.Errorf("malformed array: %d %v", r.status, r.body)
	}

	// Elements are cut out exactly, white space and nesting included.
	body := []byte("[ " + string(entryJSON("b1", 1)) + " ,\n\t" + string(entryJSON("b2", 2)) + "\n]")
	if r := f.post(t, body, nil); r.status != 200 || r.body["accepted"] != 2.0 {
		t.Errorf("batch of two: %d %v", r.status, r.body)
	}
}

// TestReceiverRefusesIDsThatWereFolded covers issue 13 D4 at the handler:
// two ids that differ in a byte that is not UTF-8 were both decoded to
// U+FFFD…, and the second was answered as a duplicate and never delivered.
// Now both are refused naming the field, and nothing is stored.
func TestReceiverRefusesIDsThatWereFolded(t *testing.T) {
	f := newReceiver(t, source.ReceiverConfig{})
	for _, id := range []string{"\xfeXYZ1", "\xffXYZ1"} {
		r := f.post(t, []byte(`{"_id":"`+id+`","date":1700000000000,"kind":"flag","accesses":[]}`), nil)
		msg, _ := r.body["error"].(string)
		if r.status != 400 || r.body["duplicates"] != nil || !strings.Contains(msg, `"_id": invalid UTF-8: byte 0x`) {
			t.Errorf("id %q: %d %v", id, r.status, r.body)
		}
	}
	for _, id := range []string{`a\u0000b`, `\ud800XYZ1`} {
		r := f.post(t, []byte(`{"_id":"`+id+`","date":1,"kind":"flag","accesses":[]}`), nil)
		if msg, _ := r.body["error"].(string); r.status != 400 || !strings.Contains(msg, `"_id": expected an entry id`) {
			t.Errorf("id %s: %d %v", id, r.status, r.body)
		}
	}
	if f.store.count() != 0 {
		t.Errorf("stored %v", f.store.stored())
	}
}

func (m *memStore) ingestCalls() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.calls
}

// TestReceiverLimitsBodiesInFlight: large bodies in flight together are
// bounded to 8 × MaxBody, so that they cannot add up to what a few dozen
// of the costliest documents take to decode; small ones are not affected.
func TestReceiverLimitsBodiesInFlight(t *testing.T) {
	ing := &blockingIngester{entered: make(chan struct{}), release: make(chan struct{})}
	rc := source.NewReceiver(source.ReceiverConfig{MaxBody: 1000}, ing)
	srv := httptest.NewServer(rc)
	defer srv.Close()
	post := func(body []byte) (int, string) {
		resp, err := srv.Client().Post(srv.URL+source.DefaultWebhookPath, "application/json", bytes.NewReader(body))
		if err != nil {
			t.Error(err)
			return 0, ""
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp.StatusCode, string(b)
	}
	large := append(entryJSON("large", 1), bytes.Repeat([]byte(" "), 900-len(entryJSON("large", 1)))...)
	done := make(chan int, 8)
	for range 8 { // 8 × 900 bytes fit in 8 × 1000
		go func() {
			code, _ := post(large)
			done <- code
		}()
	}
	for range 8 {
		<-ing.entered
	}
	if code, body := post(large); code != 503 || !strings.Contains(body, "too many large requests in flight (their bodies total over 8000 bytes)") {
		t.Errorf("a ninth large body: %d %s", code, body)
	}
	small := []byte(`{"_id":"s","date":1,"kind":"flag","accesses":[]}`)
	smallDone := make(chan int, 1)
	go func() {
		code, _ := post(small) // 8 × 900 + 48 ≤ 8000
		smallDone <- code
	}()
	<-ing.entered // admitted while the 8 large ones are held
	close(ing.release)
	if code := <-smallDone; code != 200 {
		t.Errorf("a small body next to them: %d", code)
	}
	for range 8 {
		if code := <-done; code != 200 {
			t.Errorf("large body in flight answered %d", code)
		}
	}
	if got := rc.Refused(source.ReasonBusy); got != 1 {
		t.Errorf("Refused(busy) = %d, want 1", got)
	}
}
