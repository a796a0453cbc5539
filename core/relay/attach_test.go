package relay_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/auditrelay/auditrelay/core/config"
	"github.com/auditrelay/auditrelay/core/engine"
	"github.com/auditrelay/auditrelay/core/relay"
	"github.com/auditrelay/auditrelay/core/source"
)

func entry(id string) []byte {
	return fmt.Appendf(nil, `{"_id":%q,"date":1737540002113,"kind":"flag","name":"F","title":"turned on the flag","accesses":[{"action":"updateOn","resource":"proj/p:env/production:flag/f"}],"member":{"_id":"m1","email":"ops@example.com"}}`, id)
}

// failingConfig is relayConfig with one subscription whose endpoint
// answers 400: its deliveries fail at once and wait for an operator.
func failingConfig(t *testing.T, dir string) config.Config {
	t.Helper()
	sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusBadRequest) }))
	t.Cleanup(sink.Close)
	cfg := relayConfig(dir)
	cfg.Subscriptions = []config.Subscription{{Name: "archive", Integration: "webhook", Enabled: true, Concurrency: 1,
		Vars: map[string]config.Var{"url": {Value: sink.URL + "/hook"}}}}
	return cfg
}

// TestAttachRunningInstance: with an instance running on the data
// directory, Attach goes through its admin API, and what it does is
// recorded as done through the API by the user.
func TestAttachRunningInstance(t *testing.T) {
	cfg := failingConfig(t, t.TempDir())
	r := startTestRelay(t, cfg)
	ctx := context.Background()

	in, err := relay.Attach(ctx, cfg, relay.AttachOptions{User: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	if !in.Remote() || !strings.Contains(in.Where(), r.rt.AdminAddr().String()) {
		t.Fatalf("Attach to a running instance: remote %v, where %q", in.Remote(), in.Where())
	}
	if res, err := in.Ingest(ctx, []source.Item{{Raw: entry("r1")}}, nil); err != nil || len(res) != 1 || res[0].Err != nil {
		t.Fatalf("Ingest through the admin API = %+v, %v", res, err)
	}
	id := engine.DeliveryID("archive", "r1")
	waitFor(t, "the delivery to fail", func() bool {
		d, err := in.Delivery(ctx, id)
		return err == nil && d.State == engine.Failed
	})
	if err := in.Retry(ctx, id); err != nil {
		t.Fatal(err)
	}
	assertActor(t, r.rt.Engine(), "retry", "api:alice")

	// An instance that answers and refuses (a wrong token) is an error:
	// the CLI does not open the store under it.
	wrong := cfg
	wrong.Admin.Token = config.Secret{Value: "not-the-token"}
	if in, err := relay.Attach(ctx, wrong, relay.AttachOptions{}); err == nil {
		in.Close()
		t.Fatal("Attach with a wrong token succeeded")
	} else if !strings.Contains(err.Error(), "missing or wrong admin token") {
		t.Errorf("Attach with a wrong token: %v", err)
	}
}

// TestAttachDataDirectory: with no instance running, Attach opens the data
// directory's store itself (refusing an empty directory unless asked to
// create), and records actions as done from the CLI by the user.
func TestAttachDataDirectory(t *testing.T) {
	dir := t.TempDir()
	cfg := failingConfig(t, dir)
	ctx := context.Background()

	if in, err := relay.Attach(ctx, cfg, relay.AttachOptions{}); err == nil {
		in.Close()
		t.Fatal("Attach opened a data directory without a database")
	} else if want := "no running instance answered and " + dir + " holds no database"; err.Error() != want {
		t.Errorf("Attach on an empty data directory: %v, want %q", err, want)
	}

	in, err := relay.Attach(ctx, cfg, relay.AttachOptions{Create: true, User: "bob"})
	if err != nil {
		t.Fatal(err)
	}
	if in.Remote() || in.Where() != filepath.Join(dir, "auditrelay.db") {
		t.Errorf("Attach on the data directory: remote %v, where %q", in.Remote(), in.Where())
	}
	if res, err := in.Ingest(ctx, []source.Item{{Raw: entry("l1")}}, nil); err != nil || len(res) != 1 || res[0].Err != nil {
		t.Fatalf("Ingest into the data directory = %+v, %v", res, err)
	}
	in.Close()

	// A relay runs on the directory until the delivery failed, then
	// stops, leaving its admin.addr behind: Attach finds no one there and
	// falls back to the store.
	rt, err := relay.Open(ctx, cfg, slog.New(slog.DiscardHandler), relay.Options{})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- rt.Run(runCtx) }()
	id := engine.DeliveryID("archive", "l1")
	waitFor(t, "the delivery to fail", func() bool {
		d, err := rt.Engine().Delivery(ctx, id)
		return err == nil && d.State == engine.Failed
	})
	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	rt.Close()
	if _, err := os.Stat(filepath.Join(dir, "admin.addr")); err != nil {
		t.Fatal(err)
	}

	in, err = relay.Attach(ctx, cfg, relay.AttachOptions{User: "bob"})
	if err != nil {
		t.Fatal(err)
	}
	if in.Remote() {
		t.Fatalf("Attach went to %s, where no instance runs", in.Where())
	}
	ds, err := in.Deliveries(ctx, engine.DeliveryQuery{States: []engine.State{engine.Failed}})
	if err != nil || len(ds) != 1 || ds[0].ID != id {
		t.Fatalf("failed deliveries on the data directory = %+v, %v", ds, err)
	}
	if err := in.Retry(ctx, id); err != nil {
		t.Fatal(err)
	}
	in.Close()
	rt, err = relay.Open(ctx, cfg, slog.New(slog.DiscardHandler), relay.Options{NoListeners: true})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
	assertActor(t, rt.Engine(), "retry", "cli:bob")
	if d, err := rt.Engine().Delivery(ctx, id); err != nil || d.State != engine.Pending {
		t.Errorf("the retried delivery: %v %v, want pending for the next serve", d.State, err)
	}
}

// assertActor checks that the latest action of kind was recorded as done
// by actor.
func assertActor(t *testing.T, eng *engine.Engine, kind, actor string) {
	t.Helper()
	acts, err := eng.Actions(context.Background(), time.Time{}, 20)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range acts {
		if a.Kind == kind {
			if a.Actor != actor {
				t.Errorf("%s recorded as done by %q, want %q", kind, a.Actor, actor)
			}
			return
		}
	}
	t.Errorf("no %s action recorded: %+v", kind, acts)
}
