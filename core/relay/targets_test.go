package relay_test

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/auditrelay/auditrelay/core/config"
	"github.com/auditrelay/auditrelay/core/engine"
	"github.com/auditrelay/auditrelay/core/relay"
	"github.com/spf13/viper"
)

// TestRelayKnowsItsOwnListeners runs a relay as serve does, with the HTTP
// and admin listeners on ports chosen when bound and an SSH listener
// registered as the commands register the console's, and points a
// subscription at each through the console's form save: each is refused,
// naming the listener.
func TestRelayKnowsItsOwnListeners(t *testing.T) {
	sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	defer sink.Close()
	dir := t.TempDir()
	file := filepath.Join(dir, "auditrelay.yaml")
	if err := os.WriteFile(file, []byte(`data_dir: `+dir+`
instance: targets-test
http: {listen: "127.0.0.1:0"}
admin: {listen: "127.0.0.1:0"}
retention: {interval: 0s}
subscriptions:
  - name: archive
    integration: webhook
    vars:
      url: `+sink.URL+`/hook
`), 0o600); err != nil {
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
	defer rt.Close()
	ssh, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ssh.Close()
	if err := rt.SetSSHListener(ssh.Addr()); err != nil {
		t.Fatal(err)
	}
	sshAddr := ssh.Addr().String()

	for _, tc := range []struct {
		url, want string
	}{
		{"http://" + rt.Addr().String() + "/metrics", rt.Addr().String() + " is this relay's HTTP listener (webhook receiver, /metrics)"},
		{"http://" + rt.Addr().String() + "/v1/launchdarkly", rt.Addr().String() + " is this relay's HTTP listener"},
		{"http://" + rt.AdminAddr().String() + "/admin/v1/deliveries", rt.AdminAddr().String() + " is this relay's admin listener"},
		{"http://" + sshAddr + "/", sshAddr + " is this relay's SSH listener"},
	} {
		err := rt.Engine().SaveForm(context.Background(), "alice", "archive", map[string]any{"url": tc.url})
		var fe *engine.FormError
		if !errors.As(err, &fe) || !strings.Contains(fe.Fields["url"], "target refused: "+tc.want) {
			t.Errorf("SaveForm(%s) = %v (%+v), want url: target refused: %s", tc.url, err, fe, tc.want)
		}
	}
}
