package tui

import (
	"bufio"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/auditrelay/auditrelay/core/engine/api"
	"github.com/auditrelay/auditrelay/tui/internal/fakeapi"
)

// tailUntil runs Tail until want appears in its output (or 5s pass).
func tailUntil(t *testing.T, fake *fakeapi.API, jsonLines bool, produce func(), want string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var out lockedBuffer
	done := make(chan error, 1)
	go func() { done <- Tail(ctx, fake, &out, jsonLines) }()
	deadline := time.Now().Add(5 * time.Second)
	waitSubscribed(t, fake, deadline)
	produce()
	for !strings.Contains(out.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("output lacks %q:\n%s", want, out.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Tail: %v", err)
	}
	return out.String()
}

func TestTailPlainLines(t *testing.T) {
	fake := fakeapi.Demo(fixedNow)
	out := tailUntil(t, fake, false, func() {
		fake.Ingest(api.EntryView{ID: "t1", Kind: "flag", Title: `Turned on "beta"`, Member: "a@example.com", Project: "web", Environment: "production",
			Decisions: []api.Decision{
				{Subscription: fakeapi.SubSlack, Sent: true, State: api.Pending, Summary: "statement 1 allows it"},
				{Subscription: fakeapi.SubTeams, Sent: false, Summary: "no statement matched"},
			}}, "", nil)
		if err := fake.Retry(context.Background(), "alice", fakeapi.FailedDelivery); err != nil {
			t.Error(err)
		}
	}, "attempt")
	for _, want := range []string{
		`entry        t1 flag "Turned on \"beta\"" a@example.com web/production sent=1/2`,
		`decision     t1 slack-prod sent "statement 1 allows it"`,
		`decision     t1 teams-oncall filtered "no statement matched"`,
		`action       "alice retried dlv_e0028_s…"`,
		`delivery     dlv_e0028_slack-prod slack-prod pending`,
		`attempt      dlv_e0028_slack-prod slack-prod #6 200 42ms "delivered"`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	// Every line starts with an RFC 3339 time.
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		if _, err := time.Parse(time.RFC3339, strings.Fields(sc.Text())[0]); err != nil {
			t.Errorf("line without a time: %q", sc.Text())
		}
	}
}

func TestTailJSONLines(t *testing.T) {
	fake := fakeapi.Demo(fixedNow)
	out := tailUntil(t, fake, true, func() {
		fake.SetPaused(context.Background(), "bob", fakeapi.SubSlack, true)
	}, `"type":"subscription"`)
	sc := bufio.NewScanner(strings.NewReader(out))
	types := map[string]bool{}
	for sc.Scan() {
		var rec map[string]any
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatalf("not JSON: %q: %v", sc.Text(), err)
		}
		types[rec["type"].(string)] = true
		if rec["type"] == "subscription" {
			sub := rec["subscription"].(map[string]any)
			if sub["Name"] != fakeapi.SubSlack || sub["Paused"] != true {
				t.Errorf("subscription record %v", sub)
			}
		}
	}
	if !types["action"] || !types["subscription"] {
		t.Errorf("types %v", types)
	}
}

func TestTailReportsDropsAndEngineStop(t *testing.T) {
	fake := fakeapi.New(fixedNow)
	var out lockedBuffer
	done := make(chan error, 1)
	// A writer that blocks until released makes Tail fall behind.
	release := make(chan struct{})
	w := writerFunc(func(p []byte) (int, error) {
		<-release
		return out.Write(p)
	})
	go func() { done <- Tail(context.Background(), fake, w, false) }()
	waitSubscribed(t, fake, time.Now().Add(5*time.Second))
	// More than the feed buffers while the writer is stuck: the engine
	// side drops (never blocks) and Tail reports it once unstuck.
	for i := 0; i < 20_000; i++ {
		fake.Publish(api.Event{Kind: api.ActionRecorded})
	}
	close(release)
	fake.Close()
	err := <-done
	if err == nil || !strings.Contains(err.Error(), "live feed ended") {
		t.Fatalf("Tail after the engine stopped: %v", err)
	}
	if !strings.Contains(out.String(), "# dropped ") {
		t.Fatalf("no drop report in %d bytes", len(out.String()))
	}
}

// waitSubscribed waits until Tail listens, so nothing is published before.
func waitSubscribed(t *testing.T, fake *fakeapi.API, deadline time.Time) {
	t.Helper()
	for fake.Feeds() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("Tail never subscribed")
		}
		time.Sleep(2 * time.Millisecond)
	}
}

type writerFunc func(p []byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
