package admin_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/auditrelay/auditrelay/core/admin"
	"github.com/auditrelay/auditrelay/core/engine"
	"github.com/auditrelay/auditrelay/core/engine/enginetest"
	"github.com/auditrelay/auditrelay/core/source"
)

func entry(id string) []byte {
	return fmt.Appendf(nil, `{"_id":%q,"date":1737540002113,"kind":"flag","name":"F","title":"turned on the flag","accesses":[{"action":"updateOn","resource":"proj/p:env/production:flag/f"}],"member":{"_id":"m1","email":"ops@example.com"}}`, id)
}

// served is an engine behind the admin API, with a client that found the
// API through a data directory, as the CLI does.
type served struct {
	eng    *engine.Engine
	client *admin.Client
	url    string
	token  string
	ok     *atomic.Bool // the endpoint accepts deliveries
}

func serve(t *testing.T) *served {
	t.Helper()
	var ok atomic.Bool
	sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		if ok.Load() {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		w.WriteHeader(http.StatusBadRequest) // fails at once, waits for an operator
	}))
	t.Cleanup(sink.Close)
	eng := enginetest.Start(t, "  - name: archive\n    integration: webhook\n    vars:\n      url: "+sink.URL+"/hook\n", nil)
	dataDir := t.TempDir()
	token, err := admin.Token(dataDir, "")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(admin.Handler(eng, token))
	t.Cleanup(srv.Close)
	if err := admin.WriteAddr(dataDir, strings.TrimPrefix(srv.URL, "http://")); err != nil {
		t.Fatal(err)
	}
	c, err := admin.NewClient("", dataDir, "")
	if err != nil {
		t.Fatal(err)
	}
	return &served{eng: eng, client: c, url: srv.URL, token: token, ok: &ok}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestClientAndServer uses every endpoint through the client and checks
// that it answers what the engine answers: ingest with its per-entry
// results, lists and details, retries recorded with the actor, and the
// engine's errors as errors.
func TestClientAndServer(t *testing.T) {
	s := serve(t)
	ctx := context.Background()

	subs, err := s.client.Subscriptions(ctx)
	if err != nil || len(subs) != 1 || subs[0].Name != "archive" {
		t.Fatalf("Subscriptions = %+v, %v", subs, err)
	}

	res, err := s.client.Ingest(ctx, []source.Item{
		{Raw: entry("a1")},
		{Raw: []byte(`{"kind":"flag"}`)},      // no _id: refused by the engine
		{Err: errors.New("line 3: not JSON")}, // refused by the reader: not sent
		{Raw: entry("a1")},                    // the same entry again
		{Raw: entry("a2")},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 5 || res[4].ID != "a2" || res[0].ID != "a1" || res[0].Err != nil || res[0].Duplicate ||
		res[1].Err == nil || res[2].Err == nil || res[2].Err.Error() != "line 3: not JSON" || !res[3].Duplicate {
		t.Fatalf("Ingest results %+v", res)
	}

	id, id2 := engine.DeliveryID("archive", "a1"), engine.DeliveryID("archive", "a2")
	waitFor(t, "the deliveries to fail", func() bool {
		ds, err := s.client.Deliveries(ctx, engine.DeliveryQuery{States: []engine.State{engine.Failed}})
		return err == nil && len(ds) == 2
	})
	local, err := s.eng.Delivery(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	remote, err := s.client.Delivery(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if remote.Request.URL != local.Request.URL || remote.Reason != local.Reason || len(remote.Attempts) != len(local.Attempts) || remote.Attempts[0].StatusCode != http.StatusBadRequest {
		t.Errorf("Delivery through the API = %+v\nengine = %+v", remote, local)
	}

	for _, tc := range []struct {
		q    engine.DeliveryQuery
		want int
	}{
		{engine.DeliveryQuery{}, 2},
		{engine.DeliveryQuery{Subscription: "archive", States: []engine.State{engine.Failed}}, 2},
		{engine.DeliveryQuery{Limit: 1}, 1},
		{engine.DeliveryQuery{States: []engine.State{engine.Delivered, engine.Pending}}, 0},
		{engine.DeliveryQuery{EntryID: "a1"}, 1},
		{engine.DeliveryQuery{EntryID: "other"}, 0},
		{engine.DeliveryQuery{Subscription: "nope"}, 0},
	} {
		ds, err := s.client.Deliveries(ctx, tc.q)
		if err != nil || len(ds) != tc.want || (tc.q.EntryID != "" && tc.want == 1 && ds[0].ID != id) {
			t.Errorf("Deliveries(%+v) = %+v, %v; want %d", tc.q, ds, err, tc.want)
		}
	}

	if _, err := s.client.Delivery(ctx, "dlv_nope"); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Errorf("Delivery of an unknown id: %v", err)
	}
	if _, err := s.client.RetryAll(ctx, "alice", "nope"); err == nil || !strings.Contains(err.Error(), engine.ErrUnknownSub.Error()) {
		t.Errorf("RetryAll of an unknown subscription: %v", err)
	}

	s.ok.Store(true)
	if err := s.client.Retry(ctx, "alice", id); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the retried delivery", func() bool {
		d, err := s.eng.Delivery(ctx, id)
		return err == nil && d.State == engine.Delivered
	})
	if err := s.client.Retry(ctx, "alice", id); err == nil || !strings.Contains(err.Error(), engine.ErrNotRetryable.Error()) {
		t.Errorf("retrying a delivered delivery: %v", err)
	}
	if n, err := s.client.RetryAll(ctx, "", "archive"); err != nil || n != 1 {
		t.Errorf("RetryAll with one failed = %d, %v", n, err)
	}
	waitFor(t, "the deliveries retried together", func() bool {
		d, err := s.eng.Delivery(ctx, id2)
		return err == nil && d.State == engine.Delivered
	})
	acts, err := s.eng.Actions(ctx, time.Time{}, 10)
	if err != nil {
		t.Fatal(err)
	}
	actors := map[string]string{}
	for _, a := range acts {
		actors[a.Kind] = a.Actor
	}
	if actors["retry"] != "api:alice" || actors["retry-all"] != "api" {
		t.Errorf("actions recorded as %v; want retry by api:alice, retry-all by api", actors)
	}
	// The same actions through the API (what `auditrelay config history` reads).
	remoteActs, err := s.client.Actions(ctx, time.Now().Add(-time.Hour), 10)
	if err != nil || len(remoteActs) != len(acts) || remoteActs[0].Kind != acts[0].Kind || remoteActs[0].Actor != acts[0].Actor {
		t.Errorf("Actions through the API = %+v, %v; engine = %+v", remoteActs, err, acts)
	}
}

// TestServerRefuses: a wrong token gets 401 through the client too, and an
// ingest body that is not a JSON array gets 400; neither reaches the
// engine.
func TestServerRefuses(t *testing.T) {
	s := serve(t)
	c, err := admin.NewClient(s.url, t.TempDir(), s.token+"x")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Subscriptions(t.Context()); err == nil || !strings.Contains(err.Error(), "missing or wrong admin token") {
		t.Errorf("wrong token: %v", err)
	}
	for _, body := range []string{`{"_id":"x"}`, `[{"_id":"x"}`, ``} {
		req, _ := http.NewRequest(http.MethodPost, s.url+admin.Prefix+"/ingest", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+s.token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("ingest %q: %s, want 400", body, resp.Status)
		}
	}
	if ds, err := s.eng.Deliveries(t.Context(), engine.DeliveryQuery{}); err != nil || len(ds) != 0 {
		t.Errorf("refused requests reached the engine: %v %v", ds, err)
	}
}

// TestTokenAndAddressFiles: a configured token is used as is and nothing
// is written; otherwise one is generated once, private, and kept; a short
// one left in the file is replaced. Without the files the client says
// what to do.
func TestTokenAndAddressFiles(t *testing.T) {
	dir := t.TempDir()
	if tok, err := admin.Token(dir, "configured"); err != nil || tok != "configured" {
		t.Fatalf("Token with admin.token = %q, %v", tok, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "admin.token")); !os.IsNotExist(err) {
		t.Errorf("a configured token was written to the data directory: %v", err)
	}

	tok, err := admin.Token(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(tok) != 64 || strings.Trim(tok, "0123456789abcdef") != "" {
		t.Errorf("generated token %q: want 64 hex characters", tok)
	}
	fi, err := os.Stat(filepath.Join(dir, "admin.token"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("token file: %v, mode %v; want 0600", err, fi.Mode().Perm())
	}
	if again, err := admin.Token(dir, ""); err != nil || again != tok {
		t.Errorf("second Token = %q, %v; want the kept %q", again, err, tok)
	}
	if err := os.WriteFile(filepath.Join(dir, "admin.token"), []byte("short\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if fresh, err := admin.Token(dir, ""); err != nil || fresh == "short" || len(fresh) != 64 {
		t.Errorf("Token over a short one = %q, %v", fresh, err)
	}

	empty := t.TempDir()
	if _, err := admin.NewClient("", empty, ""); err == nil || !strings.Contains(err.Error(), "pass --admin-url or run serve with admin.listen set") {
		t.Errorf("NewClient without admin.addr: %v", err)
	}
	if err := admin.WriteAddr(empty, "127.0.0.1:1"); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.NewClient("", empty, ""); err == nil || !strings.Contains(err.Error(), filepath.Join(empty, "admin.token")) {
		t.Errorf("NewClient without admin.token: %v", err)
	}
	c, err := admin.NewClient("", empty, "t")
	if err != nil || c.Base() != "http://127.0.0.1:1" {
		t.Fatalf("NewClient from admin.addr: %v, %v", c, err)
	}
}

// TestPprofBehindToken: the profiler answers on the admin listener with the
// token, and not without it.
func TestPprofBehindToken(t *testing.T) {
	s := serve(t)
	get := func(path, auth string) (*http.Response, []byte) {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, s.url+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp, body
	}
	if resp, _ := get(admin.PprofPrefix+"goroutine?debug=1", ""); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("without a token: %d, want 401", resp.StatusCode)
	}
	resp, body := get(admin.PprofPrefix+"goroutine?debug=1", "Bearer "+s.token)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "goroutine profile:") {
		t.Fatalf("goroutine profile: %d %q", resp.StatusCode, body[:min(len(body), 200)])
	}
	if ct := resp.Header.Get("Content-Type"); strings.Contains(ct, "json") {
		t.Errorf("profile served as %q", ct)
	}
	resp, body = get(admin.PprofPrefix+"heap", "Bearer "+s.token)
	if resp.StatusCode != http.StatusOK || len(body) == 0 {
		t.Fatalf("heap profile: %d, %d bytes", resp.StatusCode, len(body))
	}
}
