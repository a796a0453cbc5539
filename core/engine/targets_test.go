package engine

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/auditrelay/auditrelay/core/delivery"
	"github.com/auditrelay/auditrelay/core/manifest"
	"github.com/auditrelay/auditrelay/core/store/sqlite"
	"github.com/auditrelay/auditrelay/templates"
)

// fakeListener stands in for one of the relay's own listeners: a real
// HTTP server answering what the admin API or /metrics would, counting
// requests.
func fakeListener(t *testing.T, body string) (*httptest.Server, *atomic.Int64) {
	var hits atomic.Int64
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, body)
	}))
	t.Cleanup(s.Close)
	return s, &hits
}

// TestDeliveryToOwnListenerRefused: subscriptions aimed at the relay's
// admin listener and its receiver are refused when dialled, fail at once
// (no retry) with the address and the listener named, and store no
// response body.
func TestDeliveryToOwnListenerRefused(t *testing.T) {
	admin, adminHits := fakeListener(t, `{"deliveries":[{"id":"dlv_secret"}]}`)
	recv, recvHits := fakeListener(t, `# HELP auditrelay_received_total`)
	cfg := testConfig(t, webhookSub("to-admin", admin.URL+"/admin/v1/deliveries", "")+
		webhookSub("to-receiver", recv.URL+"/metrics", ""))
	h := startEngine(t, cfg)
	// As cmd does once its listeners are bound (configured with port 0,
	// they were unknown when the configuration was checked).
	for _, l := range []delivery.Listener{
		{Name: "admin listener", Addr: admin.Listener.Addr().String()},
		{Name: "HTTP listener (webhook receiver, /metrics)", Addr: recv.Listener.Addr().String()},
	} {
		if err := h.eng.SetListener(l); err != nil {
			t.Fatal(err)
		}
	}
	h.ingest(entryJSON("e1", "updateOn", "proj/p:env/production:flag/f"))

	for _, tc := range []struct {
		sub, addr, what string
	}{
		{"to-admin", admin.Listener.Addr().String(), "admin listener"},
		{"to-receiver", recv.Listener.Addr().String(), "HTTP listener (webhook receiver, /metrics)"},
	} {
		d := h.waitState(DeliveryID(tc.sub, "e1"), Failed)
		want := tc.addr + " is this relay's " + tc.what
		if !strings.Contains(d.Reason, "not sent: target refused: "+want) {
			t.Errorf("%s: reason %q, want %q", tc.sub, d.Reason, want)
		}
		if len(d.Attempts) != 1 {
			t.Fatalf("%s: %d attempts, want 1 (a refused target is not retried)", tc.sub, len(d.Attempts))
		}
		a := d.Attempts[0]
		if a.ErrorClass != string(delivery.ClassTarget) || !strings.Contains(a.Error, want) {
			t.Errorf("%s: attempt class %q error %q", tc.sub, a.ErrorClass, a.Error)
		}
		if a.StatusCode != 0 || a.ResponseBody != "" || len(a.ResponseHeaders) != 0 {
			t.Errorf("%s: stored status %d, body %q, headers %v: want nothing", tc.sub, a.StatusCode, a.ResponseBody, a.ResponseHeaders)
		}
	}
	if n, m := adminHits.Load(), recvHits.Load(); n != 0 || m != 0 {
		t.Errorf("the listeners received %d and %d requests", n, m)
	}
}

// TestConfigRefusesStaticTargets: at load, a URL whose host is an address
// the rules refuse is reported with the file, the subscription, the form
// variable and the rule; names wait for the dialer.
func TestConfigRefusesStaticTargets(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "auditrelay.yaml")
	text := `data_dir: ` + dir + `
delivery:
  denied_targets: [10.0.0.0/8]
subscriptions:
  - name: to-admin
    integration: webhook
    vars:
      url: http://127.0.0.1:8081/admin/v1/deliveries
  - name: to-metadata
    integration: webhook
    vars:
      url: http://169.254.169.254/latest/meta-data/iam/
  - name: to-private
    integration: slack
    vars:
      webhookUrl: https://10.20.30.40/services/T0/B0/secret-path-xyz
  - name: by-name
    integration: webhook
    vars:
      url: https://hooks.example.com/in
`
	if err := os.WriteFile(file, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := loadConfig(file)
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(context.Background(), sqlite.Options{Path: filepath.Join(dir, "auditrelay.db"), Instance: "t"})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	cat := manifest.NewCatalog()
	if probs := cat.AddBuiltins(templates.FS()); probs.HasErrors() {
		t.Fatal(probs)
	}
	_, err = New(Options{Config: cfg, Store: st, Catalog: cat,
		Listeners: []delivery.Listener{{Name: "admin listener", Addr: "127.0.0.1:8081"}, {Name: "HTTP listener", Addr: ":8080"}}})
	var ce *ConfigError
	if !errors.As(err, &ce) {
		t.Fatalf("New: %v, want a ConfigError", err)
	}
	want := []string{
		file + `:5: subscription "to-admin": vars.url: target refused: 127.0.0.1:8081 is this relay's admin listener`,
		file + `:9: subscription "to-metadata": vars.url: target refused: 169.254.169.254 is in a link-local/metadata range (169.254.0.0/16, delivery.denied_targets default)`,
		file + `:13: subscription "to-private": vars.webhookUrl: target refused: 10.20.30.40 is in 10.0.0.0/8 (delivery.denied_targets)`,
	}
	if len(ce.Problems) != len(want) {
		t.Errorf("problems:\n%s", strings.Join(ce.Problems, "\n"))
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("missing %q in:\n%s", w, err)
		}
	}
	if strings.Contains(err.Error(), "secret-path-xyz") {
		t.Errorf("the error shows the secret URL:\n%s", err)
	}
}

// TestFormSaveRefusesTarget: the console's URL edit goes through the same
// rules and says why, against the field; nothing is written.
func TestFormSaveRefusesTarget(t *testing.T) {
	s := newSink(t, nil)
	admin, _ := fakeListener(t, `{}`)
	cfg := testConfig(t, webhookSub("hook", s.URL, ""))
	h := startEngine(t, cfg)
	if err := h.eng.SetListener(delivery.Listener{Name: "admin listener", Addr: admin.Listener.Addr().String()}); err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(cfg.File)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ url, want string }{
		{admin.URL + "/admin/v1/deliveries", "target refused: " + admin.Listener.Addr().String() + " is this relay's admin listener"},
		{"http://[::ffff:169.254.169.254]/latest/", "target refused: 169.254.169.254 is in a link-local/metadata range"},
	} {
		err := h.eng.SaveForm(context.Background(), "alice", "hook", map[string]any{"url": tc.url})
		var fe *FormError
		if !errors.As(err, &fe) || !strings.Contains(fe.Fields["url"], tc.want) {
			t.Errorf("SaveForm(%s): %v (%+v), want url: %q", tc.url, err, fe, tc.want)
		}
	}
	after, _ := os.ReadFile(cfg.File)
	if string(after) != string(before) {
		t.Errorf("config file changed by a refused save:\n%s", after)
	}
	if err := h.eng.SaveForm(context.Background(), "alice", "hook", map[string]any{"url": s.URL + "/v2"}); err != nil {
		t.Fatalf("an allowed URL: %v", err)
	}
}
