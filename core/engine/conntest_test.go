package engine

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/auditrelay/auditrelay/core/manifest"
	"github.com/auditrelay/auditrelay/templates"
)

// customIntegration writes an integration whose hook uses deliveryMethod
// custom (LaunchDarkly delivers it through its own sink) into dir.
func customIntegration(t *testing.T, dir string) {
	t.Helper()
	root := filepath.Join(dir, "customsink")
	if err := os.MkdirAll(filepath.Join(root, "templates"), 0o755); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"manifest.json": `{
  "name": "Custom sink", "version": "1.0.0", "overview": "A sink LaunchDarkly delivers to itself.",
  "description": "Audit-log entries for a sink that LaunchDarkly delivers to through its own code.", "author": "test", "supportEmail": "test@example.com",
  "links": {"site": "https://example.com", "privacyPolicy": "https://example.com/privacy"},
  "categories": ["monitoring"], "icons": {"square": "assets/square.svg", "horizontal": "assets/horizontal.svg"},
  "formVariables": [{"key": "token", "name": "Token", "type": "string", "description": "API token", "isSecret": true}],
  "capabilities": {"auditLogEventsHook": {
    "templates": {"default": "templates/default.json.hbs"},
    "deliveryMethod": "custom",
    "defaultPolicy": [{"effect": "allow", "resources": ["proj/*:env/*:flag/*"], "actions": ["*"]}]
  }}
}`,
		"templates/default.json.hbs": `{"title": "{{{title.plainText}}}"}`,
		"assets/square.svg":          `<svg xmlns="http://www.w3.org/2000/svg"/>`,
		"assets/horizontal.svg":      `<svg xmlns="http://www.w3.org/2000/svg"/>`,
	}
	for name, body := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestConnectionTestEveryKind: a connection test reports what really
// happened for a templated integration (its validation template), a
// standard-payload one (a sample flag-toggle entry), a custom-delivery
// one (rendered, not sent), and with an entry the operator picked.
func TestConnectionTestEveryKind(t *testing.T) {
	s := newSink(t, func(n int, r *http.Request) int {
		if strings.HasSuffix(r.URL.Path, "/broken") {
			return http.StatusServiceUnavailable
		}
		return http.StatusOK
	})
	intDir := t.TempDir()
	customIntegration(t, intDir)
	cfg := testConfig(t, "  - name: chat\n    integration: slack\n    vars:\n      webhookUrl: "+s.URL+"/slack\n"+
		webhookSub("archive", s.URL+"/archive", "")+
		webhookSub("down", s.URL+"/broken", "")+
		"  - name: sink\n    integration: customsink\n    vars:\n      token: tok-123456789\n")
	h := startEngineWith(t, cfg, func(o *Options) {
		cat := manifest.NewCatalog()
		probs := cat.AddBuiltins(templates.FS())
		probs = append(probs, cat.AddDir(intDir)...)
		if probs.HasErrors() {
			t.Fatal(probs.Errors())
		}
		o.Catalog = cat
	})
	ctx := context.Background()

	chat, err := h.eng.Test(ctx, "alice", TestParams{Subscription: "chat"})
	if err != nil || !chat.OK || chat.What != "validation template" || chat.Outcome != "endpoint answered 200 OK in "+chat.Duration.Round(1e6).String() {
		t.Errorf("templated: %+v, %v", chat, err)
	}
	if chat.Sent == nil || !strings.Contains(headerValue(chat.Sent.Headers, "X-Auditrelay-Attempt"), "1") {
		t.Errorf("templated: the result does not show the request as sent: %+v", chat.Sent)
	}

	// The webhook integration sends the standard payload: a sample entry.
	std, err := h.eng.Test(ctx, "alice", TestParams{Subscription: "archive"})
	if err != nil || !std.OK || std.What != "sample flag-toggle entry" {
		t.Fatalf("standard payload: %+v, %v", std, err)
	}
	_, bodies := s.received()
	last := string(bodies[len(bodies)-1])
	if !strings.Contains(last, `"_id": "auditrelay-connection-test"`) || std.Sent == nil || std.Sent.Body != last {
		t.Errorf("standard payload: sink received %.200s; result shows %+v", last, std.Sent)
	}

	// A failing endpoint: the outcome says so.
	down, err := h.eng.Test(ctx, "alice", TestParams{Subscription: "down"})
	if err != nil || down.OK || down.StatusCode != 503 || !strings.HasPrefix(down.Outcome, "endpoint answered 503 Service Unavailable in ") {
		t.Errorf("failing endpoint: %+v, %v", down, err)
	}

	// Custom delivery: rendered, and the result says it is not sent.
	_, bodies = s.received()
	n := len(bodies)
	custom, err := h.eng.Test(ctx, "alice", TestParams{Subscription: "sink"})
	if err != nil || custom.OK || custom.Sent != nil || !strings.HasPrefix(custom.Outcome, "not sent: deliveryMethod custom") ||
		!strings.Contains(custom.Request.Body, "Connection Test turned on the flag") {
		t.Errorf("custom delivery: %+v, %v", custom, err)
	}
	if _, bodies = s.received(); len(bodies) != n {
		t.Errorf("custom delivery sent something")
	}

	// The entry the operator selected.
	h.ingest(entryJSON("sel1", "updateOn", "proj/checkout:env/production:flag/new-checkout"))
	h.waitState(DeliveryID("archive", "sel1"), Delivered)
	picked, err := h.eng.Test(ctx, "alice", TestParams{Subscription: "archive", EntryID: "sel1"})
	if err != nil || !picked.OK || picked.What != "entry sel1" || !strings.Contains(picked.Sent.Body, `"_id": "sel1"`) {
		t.Errorf("selected entry: %+v, %v", picked, err)
	}
	if _, err := h.eng.Test(ctx, "alice", TestParams{Subscription: "archive", EntryID: "nope"}); err == nil {
		t.Error("an unknown entry: no error")
	}
	// Each test is recorded with its outcome.
	acts, err := h.eng.Actions(ctx, time.Time{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	var tests []string
	for _, a := range acts {
		if a.Kind == "test" {
			tests = append(tests, a.Target+": "+a.Detail)
		}
	}
	if len(tests) != 5 || !strings.Contains(strings.Join(tests, "\n"), "sink: not sent: deliveryMethod custom") {
		t.Errorf("test actions:\n%s", strings.Join(tests, "\n"))
	}
}

func headerValue(hs []Header, name string) string {
	for _, h := range hs {
		if strings.EqualFold(h.Name, name) {
			return h.Value
		}
	}
	return ""
}
