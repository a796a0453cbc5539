package relay

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/auditrelay/auditrelay/core/config"
	"github.com/auditrelay/auditrelay/core/engine"
	"github.com/spf13/viper"
)

// TestRelayKnowsItsOwnListeners runs a relay as serve does, with the HTTP,
// admin and SSH listeners on ports chosen when bound, and points a
// subscription at each through the console's form save: each is refused,
// naming the listener.
func TestRelayKnowsItsOwnListeners(t *testing.T) {
	sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	defer sink.Close()
	dir := t.TempDir()
	_, keyLine := sshKey(t, "operator", "alice")
	keys := filepath.Join(dir, "keys")
	if err := os.WriteFile(keys, []byte(keyLine), 0o600); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "auditrelay.yaml")
	if err := os.WriteFile(file, []byte(`data_dir: `+dir+`
instance: targets-test
http: {listen: "127.0.0.1:0"}
admin: {listen: "127.0.0.1:0"}
ssh: {listen: "127.0.0.1:0", authorized_keys: `+keys+`}
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
	var logs lockedBuffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	rt, err := openRuntime(context.Background(), cfg, log, runtimeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.close()
	a := &app{ctx: context.Background()}
	stopSSH, err := a.startSSH(context.Background(), cfg, rt, log)
	if err != nil {
		t.Fatal(err)
	}
	defer stopSSH()
	sshAddr := ""
	waitFor(t, "the ssh: listening line", func() bool {
		sc := bufio.NewScanner(strings.NewReader(logs.String()))
		for sc.Scan() {
			var line struct{ Msg, Addr string }
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "ssh: listening" {
				sshAddr = line.Addr
				return true
			}
		}
		return false
	})

	for _, tc := range []struct {
		url, want string
	}{
		{"http://" + rt.publicLn.Addr().String() + "/metrics", rt.publicLn.Addr().String() + " is this relay's HTTP listener (webhook receiver, /metrics)"},
		{"http://" + rt.publicLn.Addr().String() + "/v1/launchdarkly", rt.publicLn.Addr().String() + " is this relay's HTTP listener"},
		{"http://" + rt.adminLn.Addr().String() + "/admin/v1/deliveries", rt.adminLn.Addr().String() + " is this relay's admin listener"},
		{"http://" + sshAddr + "/", sshAddr + " is this relay's SSH listener"},
	} {
		err := rt.eng.SaveForm(context.Background(), "alice", "archive", map[string]any{"url": tc.url})
		var fe *engine.FormError
		if !errors.As(err, &fe) || !strings.Contains(fe.Fields["url"], "target refused: "+tc.want) {
			t.Errorf("SaveForm(%s) = %v (%+v), want url: target refused: %s", tc.url, err, fe, tc.want)
		}
	}
}

// TestServeRefusesStaticTargetAtStart: serve does not start when a
// subscription's URL is one of its own listeners, and says which field.
func TestServeRefusesStaticTargetAtStart(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	adminAddr := ln.Addr().String()
	ln.Close() // only its number is needed: the check comes before listening
	dir := t.TempDir()
	file := filepath.Join(dir, "auditrelay.yaml")
	if err := os.WriteFile(file, []byte(`data_dir: `+dir+`
http: {listen: "127.0.0.1:0"}
admin: {listen: "`+adminAddr+`"}
subscriptions:
  - name: peek
    integration: webhook
    vars:
      url: http://`+adminAddr+`/admin/v1/deliveries
`), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out, errOut lockedBuffer
	code := run(ctx, []string{"serve", "--config", file}, strings.NewReader(""), &out, &errOut)
	if code == 0 {
		t.Fatalf("serve started (exit 0)")
	}
	want := file + `:5: subscription "peek": vars.url: target refused: ` + adminAddr + ` is this relay's admin listener`
	if !strings.Contains(errOut.String(), want) {
		t.Errorf("exit %d, stderr:\n%s\nwant %q", code, errOut.String(), want)
	}
}
