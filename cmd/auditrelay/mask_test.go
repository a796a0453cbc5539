package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/spf13/viper"

	"github.com/auditrelay/auditrelay/cmd/auditrelay/internal/show"
	"github.com/auditrelay/auditrelay/core/config"
	"github.com/auditrelay/auditrelay/core/engine"
	"github.com/auditrelay/auditrelay/core/mask"
	"github.com/auditrelay/auditrelay/core/relay"
	"github.com/auditrelay/auditrelay/tui/tuitest"
)

// An integration whose secret form variables are inlined into the URL (a
// path segment and a query value), into headers (one with a credential
// name, one without) and into the body.
const inlineSecretManifest = `{
  "name": "Inline secrets",
  "version": "1.0.0",
  "overview": "Puts its secrets in the URL, headers and body.",
  "description": "A fixture for the masking tests: every secret form variable shows up in the request.",
  "author": "auditrelay tests",
  "supportEmail": "tests@example.com",
  "links": {"site": "https://example.com", "privacyPolicy": "https://example.com/privacy"},
  "categories": ["monitoring"],
  "icons": {"square": "a.svg", "horizontal": "b.svg"},
  "formVariables": [
    {"key": "endpoint", "name": "Endpoint", "type": "uri", "description": "Where."},
    {"key": "token", "name": "Token", "type": "string", "description": "API token.", "isSecret": true},
    {"key": "pin", "name": "PIN", "type": "string", "description": "A short secret.", "isSecret": true}
  ],
  "capabilities": {"auditLogEventsHook": {
    "endpoint": {
      "url": "{{{endpoint}}}/in/{{token}}?team=ops&p={{pin}}",
      "method": "POST",
      "headers": [
        {"name": "Content-Type", "value": "application/json"},
        {"name": "X-Relay-Context", "value": "team=ops; token={{token}}"},
        {"name": "Authorization", "value": "Bearer {{token}}"}
      ]
    },
    "templates": {"default": "templates/default.json.hbs"}
  }}
}
`

const inlineSecretTemplate = `{
  "text": "{{{title.plainText}}}",
  "auth": "{{formVariables.token}}"
}
`

// TestDeliveryMaskedAlikeInCLIAndConsole shows one failed delivery of such
// a subscription (real engine, real SQLite store, a real endpoint that
// echoes the token back) through `deliveries show`, `deliveries show
// --json` (from the running instance and from the data directory) and the
// console's detail view: each shows the same masked URL, headers, body and
// response, none shows a secret, and the one-letter secret "q" leaves the
// words around it alone.
func TestDeliveryMaskedAlikeInCLIAndConsole(t *testing.T) {
	const token, pin = "tok-5f3a9c1e7b", "q"
	sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		w.Header().Set("X-Request-Id", "req-"+tok)
		w.WriteHeader(http.StatusBadRequest) // not retried: fails at once
		fmt.Fprintf(w, "invalid request: token %s is not quite right", tok)
	}))
	defer sink.Close()

	dir := t.TempDir()
	writeIntegration(t, filepath.Join(dir, "integrations", "inline"), map[string]string{
		"manifest.json":              inlineSecretManifest,
		"templates/default.json.hbs": inlineSecretTemplate,
	})
	cfgFile := filepath.Join(dir, "auditrelay.yaml")
	yaml := fmt.Sprintf(`data_dir: %s
integrations_dirs: [%s]
instance: mask-test
http:
  listen: 127.0.0.1:0
admin:
  listen: 127.0.0.1:0
subscriptions:
  - name: inline
    integration: inline
    vars:
      endpoint: %s
      token: %s
      pin: %s
`, filepath.Join(dir, "data"), filepath.Join(dir, "integrations"), sink.URL, token, pin)
	if err := os.WriteFile(cfgFile, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(viper.New(), cfgFile, nil)
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
	stopped := false
	stop := func() {
		if !stopped {
			cancel()
			<-done
			rt.Close()
			stopped = true
		}
	}
	defer stop()

	resp, err := http.Post("http://"+rt.Addr().String()+"/v1/launchdarkly", "application/json", strings.NewReader(adminEntry("m1")))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	id := engine.DeliveryID("inline", "m1")
	waitFor(t, "the delivery to fail", func() bool {
		d, err := rt.Engine().Delivery(context.Background(), id)
		return err == nil && d.State == engine.Failed && len(d.Attempts) == 1
	})

	// What every view must show, masked by the one policy.
	M := mask.Masked
	wantURL := sink.URL + "/in/" + M + "?team=ops&p=" + M
	wantHeaders := []string{"Content-Type: application/json", "X-Relay-Context: team=ops; token=" + M, "Authorization: Bearer " + M}
	wantBody := `"auth": "` + M + `"`
	wantResponse := "invalid request: token " + M + " is not quite right"
	wantRequestID := "req-" + M

	showDelivery := func(args ...string) (text string, d show.DeliveryDetailJSON) {
		t.Helper()
		code, out, errOut := runMain(t, "", append([]string{"deliveries", "show", id, "--config", cfgFile}, args...)...)
		if code != 0 {
			t.Fatalf("deliveries show %v: exit %d: %s", args, code, errOut)
		}
		code, js, errOut := runMain(t, "", append([]string{"deliveries", "show", id, "--config", cfgFile, "--json"}, args...)...)
		if code != 0 {
			t.Fatalf("deliveries show --json %v: exit %d: %s", args, code, errOut)
		}
		if err := json.Unmarshal([]byte(js), &d); err != nil {
			t.Fatalf("deliveries show --json: %v\n%s", err, js)
		}
		for _, s := range []string{out, js} {
			if strings.Contains(s, token) || strings.Contains(s, "p="+pin) {
				t.Errorf("a secret is shown:\n%s", s)
			}
		}
		return out, d
	}
	checkJSON := func(where string, d show.DeliveryDetailJSON) {
		t.Helper()
		var hs []string
		for _, h := range d.RequestNow.Headers {
			hs = append(hs, h.Name+": "+h.Value)
		}
		if d.RequestNow.URL != wantURL || strings.Join(hs, "\n") != strings.Join(wantHeaders, "\n") || !strings.Contains(d.RequestNow.Body, wantBody) {
			t.Errorf("%s: request shown as\n%s\n%s\n%s", where, d.RequestNow.URL, strings.Join(hs, "\n"), d.RequestNow.Body)
		}
		if len(d.AttemptList) != 1 || d.Attempts != 1 {
			t.Fatalf("%s: %d attempts listed, count %d", where, len(d.AttemptList), d.Attempts)
		}
		a := d.AttemptList[0]
		if a.ResponseBody != wantResponse || a.Request == nil || a.Request.URL != wantURL {
			t.Errorf("%s: attempt request %+v, response body %q", where, a.Request, a.ResponseBody)
		}
		// The request as sent is masked alike: the same headers (and those
		// auditrelay adds), the same body.
		var sent []string
		for _, h := range a.Request.Headers {
			sent = append(sent, h.Name+": "+h.Value)
		}
		for _, want := range wantHeaders {
			if !strings.Contains(strings.Join(sent, "\n"), want) {
				t.Errorf("%s: the stored request lacks %q: %v", where, want, sent)
			}
		}
		found := false
		for _, h := range a.ResponseHeaders {
			found = found || h.Name == "X-Request-Id" && h.Value == wantRequestID
		}
		if !found {
			t.Errorf("%s: response headers %v", where, a.ResponseHeaders)
		}
	}
	checkText := func(where, out string, d show.DeliveryDetailJSON) {
		t.Helper()
		if !strings.Contains(d.Reason, wantResponse) {
			t.Errorf("%s: reason %q", where, d.Reason)
		}
		for _, want := range append([]string{"POST " + wantURL, wantBody, wantResponse, "< X-Request-Id: " + wantRequestID, d.Reason}, wantHeaders...) {
			if !strings.Contains(out, want) {
				t.Errorf("%s lacks %q:\n%s", where, want, out)
			}
		}
	}

	// The running instance, through its admin API.
	text, d := showDelivery()
	checkJSON("show --json (admin API)", d)
	checkText("show (admin API)", text, d)

	// The console, on the same engine.
	c := tuitest.Start(t, tuitest.Fixture{API: rt.Engine(), Width: 160, Height: 60})
	c.Type("3")
	c.WaitFor("the failed delivery", func(s string) bool { return strings.Contains(s, "✗ failed") })
	c.Press(tea.KeyEnter)
	screen := c.WaitText("Attempts (1)")
	if strings.Contains(screen, token) {
		t.Errorf("the console shows the token:\n%s", screen)
	}
	for _, want := range append([]string{"POST " + wantURL, wantBody, wantResponse, "< X-Request-Id", wantRequestID, d.Reason}, wantHeaders...) {
		if !strings.Contains(screen, want) {
			t.Errorf("the console's detail view lacks %q:\n%s", want, screen)
		}
	}

	// The data directory once the instance has stopped: the CLI runs its
	// own engine on the store, with the same result.
	stop()
	text, d = showDelivery()
	checkJSON("show --json (data directory)", d)
	checkText("show (data directory)", text, d)
}
