package sink

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// syncBuffer is a bytes.Buffer safe for the sink's handler and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func start(t *testing.T, o Options) *Sink {
	t.Helper()
	s, err := Listen("127.0.0.1:0", o)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return s
}

func post(t *testing.T, url, body string, header http.Header) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestSinkPrintsWhatItReceives(t *testing.T) {
	for _, tc := range []struct {
		name   string
		o      Options
		body   string
		status int
		want   []string
		absent []string
	}{
		{
			name: "text", body: `{"text":"Maya turned on New checkout flow"}`, status: 200,
			want:   []string{"POST /archive?token=••••••••", "→ 200", "X-Auditrelay-Delivery-Id: dlv_1", "Authorization: Bearer ••••••••", `{"text":"Maya turned on New checkout flow"}`},
			absent: []string{"hunter2", "tok3n"},
		},
		{name: "status", o: Options{Status: 503}, body: "x", status: 503, want: []string{"→ 503"}},
		{name: "too large", o: Options{MaxBody: 4}, body: "0123456789", status: 413, want: []string{"→ 413", "(body over 4 bytes, not kept)"}, absent: []string{"0123456789"}},
		{name: "long body cut", o: Options{Show: 5}, body: "0123456789", status: 200, want: []string{"01234", "… 5 more bytes"}, absent: []string{"56789"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out syncBuffer
			tc.o.Out = &out
			s := start(t, tc.o)
			h := http.Header{"X-Auditrelay-Delivery-Id": {"dlv_1"}, "Authorization": {"Bearer hunter2"}}
			if got := post(t, "http://"+s.Addr()+"/archive?token=tok3n", tc.body, h); got != tc.status {
				t.Errorf("answer %d, want %d", got, tc.status)
			}
			text := out.String()
			for _, w := range tc.want {
				if !strings.Contains(text, w) {
					t.Errorf("output lacks %q:\n%s", w, text)
				}
			}
			for _, a := range tc.absent {
				if strings.Contains(text, a) {
					t.Errorf("output shows %q:\n%s", a, text)
				}
			}
		})
	}
}

func TestSinkJSONLines(t *testing.T) {
	var out syncBuffer
	s := start(t, Options{Out: &out, JSON: true})
	for _, body := range []string{`{"a":1}`, "second\nline"} {
		post(t, "http://"+s.Addr()+"/hook", body, nil)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d lines, want 2:\n%s", len(lines), out.String())
	}
	var rec Request
	if err := json.Unmarshal([]byte(lines[1]), &rec); err != nil {
		t.Fatal(err)
	}
	if rec.Method != "POST" || rec.Path != "/hook" || rec.Body != "second\nline" || rec.Status != 200 || rec.Bytes != 11 {
		t.Errorf("record = %+v", rec)
	}
}

func TestSinkRefusesBadStatus(t *testing.T) {
	if _, err := Listen("127.0.0.1:0", Options{Out: &bytes.Buffer{}, Status: 42}); err == nil || !strings.Contains(err.Error(), "42") {
		t.Errorf("status 42: %v", err)
	}
}
