package demo_test

import (
	"bytes"
	"context"
	"errors"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/auditrelay/auditrelay/core/auditlog"
	"github.com/auditrelay/auditrelay/core/demo"
)

var fixedNow = func() time.Time { return time.UnixMilli(1_700_000_000_123) }

func TestGeneratorEntriesAreValid(t *testing.T) {
	g := demo.NewGenerator(demo.Options{Seed: 42, Now: fixedNow})
	seen := map[string]int{}
	ids := map[string]bool{}
	objectID := regexp.MustCompile(`^[0-9a-f]{24}$`)
	for range 1500 {
		ev := g.Next()
		e, err := auditlog.DecodeEntry(ev.Raw)
		if err != nil {
			t.Fatalf("entry does not decode: %v\n%s", err, ev.Raw)
		}
		if len(e.Warnings) > 0 {
			t.Errorf("warnings %v\n%s", e.Warnings, ev.Raw)
		}
		if !objectID.MatchString(e.ID) || ids[e.ID] || e.ID != ev.ID {
			t.Fatalf("id %q: want a unique 24-hex id (event says %q)", e.ID, ev.ID)
		}
		ids[e.ID] = true
		if e.Date != fixedNow().UnixMilli() || e.Date != ev.Date {
			t.Errorf("date %d, want %d", e.Date, fixedNow().UnixMilli())
		}
		if e.Kind != ev.Kind || len(e.Accesses) != 1 || e.Accesses[0].Action != ev.Action {
			t.Fatalf("kind/accesses %s %v do not match the event %s/%s", e.Kind, e.Accesses, ev.Kind, ev.Action)
		}
		seen[ev.Kind+"/"+ev.Action]++
		checkShape(t, e, ev.Raw)
	}
	for _, a := range demo.Actions() {
		if seen[a] == 0 {
			t.Errorf("no %s entry in 1500 (seen %v)", a, seen)
		}
	}
	// Flag changes dominate, as in a real account.
	flags := 0
	for k, n := range seen {
		if strings.HasPrefix(k, "flag/") {
			flags += n
		}
	}
	if flags < 1500/2 {
		t.Errorf("%d flag entries of 1500, want most", flags)
	}
}

// checkShape checks the parts of an entry the relay and templates use.
func checkShape(t *testing.T, e *auditlog.Entry, raw []byte) {
	t.Helper()
	acc := e.Accesses[0].Resource
	specType := map[string]string{"project": "proj", "environment": "env"}[e.Kind]
	if specType == "" {
		specType = e.Kind
	}
	last := acc[strings.LastIndex(acc, ":")+1:]
	if !strings.HasPrefix(last, specType+"/") {
		t.Errorf("resource %q does not end in a %s segment", acc, specType)
	}
	if len(e.Target.Resources) != 1 || e.Target.Resources[0] != acc || e.Target.Name != e.Name || e.Name == "" {
		t.Errorf("target %+v, want the access resource and the name %q", e.Target, e.Name)
	}
	if e.Member == nil || !strings.HasSuffix(e.Member.Email, "@example.com") || e.Member.FirstName == "" || e.Member.ID == "" {
		t.Errorf("member %+v", e.Member)
	}
	wantTitle := "[" + e.Member.DisplayName() + "](mailto:" + e.Member.Email + ") " + e.TitleVerb + " ["
	if !strings.HasPrefix(e.Title, wantTitle) || e.TitleVerb == "" {
		t.Errorf("title %q does not start with %q", e.Title, wantTitle)
	}
	if e.Kind != "project" && e.Kind != "member" {
		if e.Parent == nil || !strings.HasPrefix(acc, e.Parent.Resource+":") {
			t.Errorf("parent %+v of %s is not the access's project", e.Parent, acc)
		}
	}
	if e.Kind == "flag" && e.Accesses[0].Action != "createFlag" && e.Accesses[0].Action != "updateGlobalArchived" {
		if !strings.Contains(acc, ":env/") || strings.Contains(acc, ":env/*") {
			t.Errorf("flag change %s not scoped to one environment: %s", e.Accesses[0].Action, acc)
		}
	}
	links := e.Value.Get("_links")
	if links.Path("self", "href").Text() != "/api/v2/auditlog/"+e.ID || links.Path("parent", "href").Text() != "/api/v2/auditlog" ||
		!strings.HasPrefix(links.Path("canonical", "href").Text(), "/api/v2/") || links.Path("site", "type").Text() != "text/html" {
		t.Errorf("_links %s", raw)
	}
	if bytes.Contains(raw, []byte(`\u0026`)) || bytes.Contains(raw, []byte(`\u003c`)) {
		t.Errorf("HTML-escaped JSON: %s", raw)
	}
}

func TestGeneratorTagsInAccesses(t *testing.T) {
	g := demo.NewGenerator(demo.Options{Seed: 7, Now: fixedNow})
	tagged := regexp.MustCompile(`^proj/mobile-app;mobile:env/production;critical:flag/[a-z0-9-]+(;[a-z,-]+)?$`)
	for range 2000 {
		e, _ := auditlog.DecodeEntry(g.Next().Raw)
		if r := e.Accesses[0].Resource; strings.HasPrefix(r, "proj/mobile-app;mobile:env/production;") && strings.Contains(r, ":flag/") {
			if !tagged.MatchString(r) {
				t.Fatalf("resource %q", r)
			}
			return
		}
	}
	t.Fatal("no flag change in mobile-app production")
}

func TestGeneratorIsDeterministic(t *testing.T) {
	a := demo.NewGenerator(demo.Options{Seed: 9, Now: fixedNow})
	b := demo.NewGenerator(demo.Options{Seed: 9, Now: fixedNow})
	c := demo.NewGenerator(demo.Options{Seed: 10, Now: fixedNow})
	same := true
	for range 200 {
		x, y, z := a.Next(), b.Next(), c.Next()
		if !bytes.Equal(x.Raw, y.Raw) {
			t.Fatalf("same seed, different entries:\n%s\n%s", x.Raw, y.Raw)
		}
		same = same && bytes.Equal(x.Raw, z.Raw)
	}
	if same {
		t.Error("different seeds gave the same entries")
	}
}

func TestGeneratorRunRate(t *testing.T) {
	g := demo.NewGenerator(demo.Options{Seed: 1})
	events := make(chan demo.Event)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- g.Run(ctx, 0, func(ev demo.Event) error {
			select {
			case events <- ev:
			case <-ctx.Done():
			}
			return nil
		})
	}()
	expectNone := func(what string) {
		t.Helper()
		select {
		case ev := <-events:
			t.Fatalf("%s: got %s", what, ev.ID)
		case <-time.After(100 * time.Millisecond):
		}
	}
	expectNone("paused at rate 0")

	g.SetRate(500)
	if g.Rate() != 500 {
		t.Fatalf("Rate %v", g.Rate())
	}
	for range 20 {
		select {
		case <-events:
		case <-time.After(10 * time.Second):
			t.Fatal("no entries at rate 500")
		}
	}

	g.SetRate(0)
	// At most the entry being handed over when the rate changed follows.
	select {
	case <-events:
	case <-time.After(50 * time.Millisecond):
	}
	expectNone("paused again")

	if err := g.Run(ctx, 1, nil); err == nil {
		t.Error("a second Run was allowed")
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run returned %v after cancel, want nil", err)
	}
}

func TestGeneratorRunStopsOnCallbackError(t *testing.T) {
	g := demo.NewGenerator(demo.Options{Seed: 1})
	boom := errors.New("sink full")
	n := 0
	err := g.Run(context.Background(), 1000, func(demo.Event) error {
		n++
		if n == 3 {
			return boom
		}
		return nil
	})
	if err != boom || n != 3 {
		t.Errorf("Run = %v after %d entries, want the callback's error after 3", err, n)
	}
}

func TestActionsAreUnique(t *testing.T) {
	a := demo.Actions()
	if len(slices.Compact(slices.Sorted(slices.Values(a)))) != len(a) {
		t.Errorf("duplicate actions: %v", a)
	}
}
