package relay_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/auditrelay/auditrelay/core/auditlog"
	"github.com/auditrelay/auditrelay/core/config"
	"github.com/auditrelay/auditrelay/core/reftest"
	"github.com/auditrelay/auditrelay/core/relay"
	"github.com/auditrelay/auditrelay/core/source/ldfake"
	"github.com/spf13/viper"
)

// captured is one request a sink received.
type captured struct {
	Method, Path string
	Header       http.Header
	Body         []byte
}

type recorder struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []captured
}

func newRecorder(t *testing.T) *recorder {
	r := &recorder{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.reqs = append(r.reqs, captured{Method: req.Method, Path: req.URL.RequestURI(), Header: req.Header.Clone(), Body: body})
		r.mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(r.Close)
	return r
}

// take waits for n requests and returns them, sorted by path, emptying
// the recorder.
func (r *recorder) take(t *testing.T, n int) []captured {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		r.mu.Lock()
		got := len(r.reqs)
		if got >= n {
			out := r.reqs
			r.reqs = nil
			r.mu.Unlock()
			slices.SortFunc(out, func(a, b captured) int { return strings.Compare(a.Path, b.Path) })
			return out
		}
		r.mu.Unlock()
		if time.Now().After(deadline) {
			t.Fatalf("sink got %d requests, want %d", got, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// datadogCopy copies the reference Datadog integration into a temporary
// directory, its hostURL allowing sinkURL besides Datadog's sites, so that
// its requests reach a local sink. Templates are copied unchanged.
func datadogCopy(t *testing.T, sinkURL string) string {
	t.Helper()
	src := filepath.Join(reftest.Dir(t), "integrations", "datadog")
	if _, err := os.Stat(filepath.Join(src, "manifest.json")); err != nil {
		t.Skipf("the reference Datadog integration is absent: %v", err)
	}
	dst := filepath.Join(t.TempDir(), "integrations", "datadog")
	err := filepath.WalkDir(src, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if rel == "manifest.json" {
			data = bytes.Replace(data, []byte(`"https://api.datadoghq.com",`), fmt.Appendf(nil, `"https://api.datadoghq.com", %q,`, sinkURL), 1)
		}
		return os.WriteFile(filepath.Join(dst, rel), data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Dir(dst)
}

// startRelay runs a relay on a fresh data directory with sources (YAML
// under sources:) and Slack and Datadog subscriptions pointed at sink.
func startRelay(t *testing.T, name, sources, integrations, sinkURL string) *relay.Relay {
	t.Helper()
	dir := t.TempDir()
	file := filepath.Join(dir, "auditrelay.yaml")
	yaml := `data_dir: ` + dir + `
instance: ` + name + `
http: {listen: "127.0.0.1:0"}
admin: {listen: ""}
retention: {interval: 0s}
integrations_dirs: [` + integrations + `]
sources:
` + sources + `
subscriptions:
  - name: slack
    integration: slack
    vars:
      webhookUrl: ` + sinkURL + `/slack
  - name: datadog
    integration: datadog
    vars:
      apiKey: dd-api-key
      hostURL: ` + sinkURL + `
`
	if err := os.WriteFile(file, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(viper.New(), file, func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	rt, err := relay.Open(context.Background(), cfg, slog.New(slog.DiscardHandler), relay.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- rt.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("relay %s: %v", name, err)
		}
		rt.Close()
	})
	return rt
}

// changeJSON is one flag change as LaunchDarkly's full entry carries it:
// the flag's current version holds its tags and Datadog custom property.
func changeJSON(date int64) []byte {
	return fmt.Appendf(nil, `{"_links":{"canonical":{"href":"/api/v2/flags/checkout/new-checkout","type":"application/json"},"parent":{"href":"/api/v2/auditlog","type":"application/json"},"self":{"href":"/api/v2/auditlog/65a1b2c3d4e5f60718293a4b","type":"application/json"},"site":{"href":"/checkout/production/features/new-checkout","type":"text/html"}},`+
		`"_id":"65a1b2c3d4e5f60718293a4b","_accountId":"5f9a1b2c3d4e5f6a7b8c9d0e","date":%d,`+
		`"accesses":[{"action":"updateOn","resource":"proj/checkout:env/production:flag/new-checkout"}],"kind":"flag","name":"New checkout",`+
		`"description":"* Turned the flag on","comment":"rolling out",`+
		`"member":{"_links":{"self":{"href":"/api/v2/members/m1","type":"application/json"}},"_id":"m1","email":"maya@example.com","firstName":"Maya","lastName":"Okafor"},`+
		`"titleVerb":"turned on the flag","title":"[Maya Okafor](mailto:maya@example.com) turned on the flag [New checkout](https://app.launchdarkly.com/checkout/production/features/new-checkout) in `+"`Production`"+`",`+
		`"target":{"_links":{"canonical":{"href":"/api/v2/flags/checkout/new-checkout","type":"application/json"}},"name":"New checkout","resources":["proj/checkout:env/production:flag/new-checkout"]},`+
		`"parent":{"_links":{"canonical":{"href":"/api/v2/projects/checkout/environments/production","type":"application/json"}},"name":"Production","resource":"proj/checkout:env/production"},`+
		`"currentVersion":{"_id":"flag-1","key":"new-checkout","name":"New checkout","tags":["payments","beta"],"customProperties":{"datadog":{"name":"Datadog tags","value":["team:checkout","tier:1"]}},"on":true},`+
		`"previousVersion":{"_id":"flag-1","key":"new-checkout","name":"New checkout","tags":["payments","beta"],"customProperties":{"datadog":{"name":"Datadog tags","value":["team:checkout","tier:1"]}},"on":false}}`, date)
}

// TestWebhookAndPollerSendTheSameBytes delivers one flag change to a relay
// through the signed webhook (the full entry) and to another through the
// poller (a list page, then the entry's detail), and checks that the
// Slack and Datadog requests both send are byte for byte the same.
func TestWebhookAndPollerSendTheSameBytes(t *testing.T) {
	sink := newRecorder(t)
	integrations := datadogCopy(t, sink.URL)
	entry := changeJSON(time.Now().Add(time.Minute).UnixMilli()) // after the poller's starting point

	const secret = "webhook-secret"
	hooked := startRelay(t, "hooked", `  webhook: {enabled: true, secret: `+secret+`}`, integrations, sink.URL)
	req, _ := http.NewRequest(http.MethodPost, "http://"+hooked.Addr().String()+"/v1/launchdarkly", bytes.NewReader(entry))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-LD-Signature", auditlog.Sign([]byte(secret), entry))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		t.Fatalf("webhook answered %s", resp.Status)
	}
	viaWebhook := sink.take(t, 2)

	api, err := ldfake.Start(ldfake.Config{Token: "api-token"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { api.Close() })
	if err := api.Add(entry); err != nil {
		t.Fatal(err)
	}
	startRelay(t, "polled", `  webhook: {enabled: false}
  poller: {enabled: true, base_url: `+api.URL()+`, token: api-token, interval: 100ms}`, integrations, sink.URL)
	viaPoller := sink.take(t, 2)

	// The poller rendered from the detail, not the list item.
	var details int
	for _, r := range api.Requests() {
		if r.Path == "/api/v2/auditlog/65a1b2c3d4e5f60718293a4b" && r.Status == 200 {
			details++
		}
	}
	if details != 1 {
		t.Errorf("%d detail requests, want 1", details)
	}

	for i := range viaWebhook {
		w, p := viaWebhook[i], viaPoller[i]
		if w.Method != p.Method || w.Path != p.Path {
			t.Errorf("request %d: webhook's %s %s, poller's %s %s", i, w.Method, w.Path, p.Method, p.Path)
		}
		if !bytes.Equal(w.Body, p.Body) {
			t.Errorf("%s body differs:\nwebhook %s\npoller  %s", w.Path, w.Body, p.Body)
		}
		for _, h := range []http.Header{w.Header, p.Header} {
			h.Del("Accept-Encoding")
		}
		wh, _ := json.Marshal(w.Header)
		ph, _ := json.Marshal(p.Header)
		if !bytes.Equal(wh, ph) {
			t.Errorf("%s headers differ:\nwebhook %s\npoller  %s", w.Path, wh, ph)
		}
	}
	for _, r := range viaPoller {
		if r.Path == "/api/v1/events" && !bytes.Contains(r.Body, []byte(`"team:checkout"`)) {
			t.Errorf("Datadog body lacks the flag's custom-property tags:\n%s", r.Body)
		}
	}
}
