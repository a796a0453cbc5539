package tui

import (
	"context"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"

	"github.com/auditrelay/auditrelay/core/engine/api"
	"github.com/auditrelay/auditrelay/tui/internal/fakeapi"
	"github.com/auditrelay/auditrelay/tui/internal/ui"
)

// footer is the last line of the screen.
func footer(d *driver) string {
	lines := strings.Split(d.view(), "\n")
	return lines[len(lines)-1]
}

func hasCall(fake *fakeapi.API, prefix string) bool {
	return slices.ContainsFunc(fake.Calls(), func(c string) bool { return strings.HasPrefix(c, prefix) })
}

func TestRetryWithConfirmation(t *testing.T) {
	fake := demo(t)
	d := newDriver(t, fake, 120, 40)
	// The entry with the failed Slack delivery is one up from the newest.
	d.keys(keyOf(tea.KeyUp), runeKey('r'))
	if f := footer(d); !strings.Contains(f, "? retry failed delivery dlv_e0028_slack-prod to slack-prod now? (y/N)") {
		t.Fatalf("prompt: %q", f)
	}
	if hasCall(fake, "Retry") {
		t.Fatal("retried before the answer")
	}
	d.keys(runeKey('y'))
	if !hasCall(fake, "Retry "+fakeapi.FailedDelivery) {
		t.Fatalf("calls %v", fake.Calls())
	}
	dl, _ := fake.Delivery(context.Background(), fakeapi.FailedDelivery)
	if dl.State != api.Delivered {
		t.Fatalf("engine state %s", dl.State)
	}
	v := d.view()
	if !strings.Contains(footer(d), "retry of dlv_e0028_s… queued") {
		t.Errorf("toast: %q", footer(d))
	}
	// The deliveries pane (this entry) shows it delivered, and the
	// subscriptions pane, refreshed after the action, no longer failing.
	if !strings.Contains(v, "✓ delivered  slack-prod              #6  200   42ms") {
		t.Errorf("deliveries pane not updated:\n%s", v)
	}
	if !strings.Contains(v, "✗ failed              slack-prod             5      1") {
		t.Errorf("subscriptions pane not refreshed:\n%s", v)
	}
}

func TestRetryDefaultsToNo(t *testing.T) {
	for _, k := range []tea.KeyMsg{runeKey('n'), keyOf(tea.KeyEnter), keyOf(tea.KeyEsc), runeKey('x')} {
		fake := demo(t)
		d := newDriver(t, fake, 120, 40)
		d.keys(keyOf(tea.KeyUp), runeKey('r'), k)
		if hasCall(fake, "Retry") {
			t.Fatalf("%q retried", k.String())
		}
		if !strings.Contains(footer(d), "cancelled") {
			t.Errorf("%q: footer %q", k.String(), footer(d))
		}
	}
}

func TestRetryExplainsWhyNot(t *testing.T) {
	fake := demo(t)
	d := newDriver(t, fake, 120, 40)
	// Newest entry: nothing failed.
	d.keys(runeKey('r'))
	if !strings.Contains(footer(d), "retry: select a failed delivery") {
		t.Errorf("footer %q", footer(d))
	}
	// A pending delivery in the deliveries pane.
	d.keys(runeKey('3'), keyOf(tea.KeyEnd), runeKey('r'))
	if !strings.Contains(footer(d), "is pending, not failed") && !strings.Contains(footer(d), "is filtered, not failed") && !strings.Contains(footer(d), "select a failed delivery") {
		t.Errorf("footer %q", footer(d))
	}
	if hasCall(fake, "Retry") {
		t.Fatal("retried something that is not failed")
	}
}

func TestViewerIsToldWhatItCannotDo(t *testing.T) {
	fake := demo(t)
	fake.EnableGenerator(10)
	d := newDriver(t, fake, 120, 40, func(o *Options) { o.Role = Viewer; o.Actor = "key:bob" })
	cases := []struct {
		keys []tea.KeyMsg
		want string
	}{
		{[]tea.KeyMsg{keyOf(tea.KeyUp), runeKey('r')}, "viewer role cannot retry"},
		{[]tea.KeyMsg{runeKey('4'), runeKey('R')}, "viewer role cannot retry"},
		{[]tea.KeyMsg{runeKey('p')}, "viewer role cannot pause or resume"},
		{[]tea.KeyMsg{runeKey('v')}, "viewer role cannot send connection tests"},
		{[]tea.KeyMsg{runeKey('+')}, "viewer role cannot change the demo rate"},
	}
	for _, c := range cases {
		d.keys(c.keys...)
		if !strings.Contains(footer(d), c.want) {
			t.Errorf("after %v: footer %q, want %q", c.keys, footer(d), c.want)
		}
	}
	if calls := fake.Calls(); len(calls) != 0 {
		t.Fatalf("a viewer reached the engine: %v", calls)
	}
	// Viewers still see the form, read-only.
	d.keys(runeKey('e'))
	if !strings.Contains(d.view(), "read-only: viewer role cannot edit") {
		t.Errorf("viewer form:\n%s", d.view())
	}
	if !strings.Contains(d.view(), "key:bob · viewer") {
		t.Error("header should say who is at the console")
	}
}

func TestRetryAllStatesTheCount(t *testing.T) {
	fake := demo(t)
	d := newDriver(t, fake, 120, 40)
	d.keys(runeKey('4'), runeKey('R'))
	// R asks for the range first; the default, all, is every failed one.
	if f := footer(d); !strings.Contains(f, "retry failed deliveries of slack-prod since all") {
		t.Fatalf("range prompt %q", f)
	}
	d.keys(keyOf(tea.KeyEnter))
	if !strings.Contains(footer(d), "retry all 2 failed deliveries of slack-prod? (y/N)") {
		t.Fatalf("prompt %q", footer(d))
	}
	d.keys(runeKey('y'))
	if !hasCall(fake, "RetryAll slack-prod") || !strings.Contains(footer(d), "retrying 2 failed deliveries of slack-prod") {
		t.Fatalf("calls %v footer %q", fake.Calls(), footer(d))
	}
	// Nothing left to retry: say so instead of asking.
	d.keys(runeKey('R'))
	if !strings.Contains(footer(d), "slack-prod has no failed deliveries") {
		t.Errorf("footer %q", footer(d))
	}
}

func TestPauseResumeAndTest(t *testing.T) {
	fake := demo(t)
	d := newDriver(t, fake, 120, 40)
	d.keys(runeKey('4'), keyOf(tea.KeyDown), keyOf(tea.KeyDown), runeKey('p')) // teams-oncall is paused
	if !hasCall(fake, "SetPaused teams-oncall false") || !strings.Contains(footer(d), "resumed teams-oncall") {
		t.Fatalf("resume: %v %q", fake.Calls(), footer(d))
	}
	if strings.Contains(d.view(), "‖ paused") {
		t.Error("the subscriptions pane still shows it paused")
	}
	d.keys(keyOf(tea.KeyDown), runeKey('p')) // legacy-webhook is disabled by a 410
	if !strings.Contains(footer(d), "re-enabled legacy-webhook (was 410 Gone)") {
		t.Errorf("footer %q", footer(d))
	}
	d.keys(keyOf(tea.KeyHome), runeKey('p'))
	if !hasCall(fake, "SetPaused slack-prod true") {
		t.Errorf("pause: %v", fake.Calls())
	}
	d.keys(runeKey('v'))
	v := d.view()
	if !strings.Contains(v, "Connection test · slack-prod") || !strings.Contains(v, "✓ endpoint answered 200 OK in 48ms") {
		t.Fatalf("test result:\n%s", v)
	}
	// The status line says the same as the result.
	if f := footer(d); !strings.Contains(f, "test of slack-prod: endpoint answered 200 OK in 48ms") {
		t.Errorf("status line %q disagrees with the result", f)
	}
	d.keys(keyOf(tea.KeyEsc))
	if strings.Contains(d.view(), "Connection test") {
		t.Error("esc should return to the panes")
	}
}

func TestGeneratorRate(t *testing.T) {
	fake := demo(t)
	d := newDriver(t, fake, 120, 40)
	d.keys(runeKey('+'))
	if !strings.Contains(footer(d), "no demo generator") {
		t.Errorf("footer %q", footer(d))
	}
	fake.EnableGenerator(10)
	d.keys(runeKey('+'), runeKey('+'))
	if got := fake.GeneratorRate(); got != 50 {
		t.Errorf("rate %v after two +, want 50", got)
	}
	d.keys(runeKey('-'))
	if got := fake.GeneratorRate(); got != 20 || !strings.Contains(footer(d), "demo generator: 20.0 entries/s") {
		t.Errorf("rate %v footer %q", got, footer(d))
	}
}

func TestFocusKeys(t *testing.T) {
	d := newDriver(t, demo(t), 120, 40)
	if d.m.focus != paneEvents {
		t.Fatal("events start focused")
	}
	d.keys(keyOf(tea.KeyTab))
	if d.m.focus != panePolicy {
		t.Errorf("tab → %d", d.m.focus)
	}
	d.keys(keyOf(tea.KeyShiftTab), keyOf(tea.KeyShiftTab))
	if d.m.focus != paneSubs {
		t.Errorf("shift+tab twice → %d", d.m.focus)
	}
	d.keys(runeKey('3'))
	if d.m.focus != paneDeliveries || !strings.Contains(d.view(), "┏━ 3 Deliveries") {
		t.Errorf("3 → %d", d.m.focus)
	}
	// Focusing subscriptions makes the deliveries pane list its deliveries.
	d.keys(runeKey('4'))
	if !strings.Contains(d.view(), "3 Deliveries · slack-prod") {
		t.Error("deliveries should follow the subscription")
	}
	d.keys(runeKey('1'))
	if !strings.Contains(d.view(), "3 Deliveries · entry e0029") {
		t.Error("deliveries should follow the entry again")
	}
}

func TestFilterMode(t *testing.T) {
	d := newDriver(t, demo(t), 120, 40)
	d.keys(runeKey('/'))
	d.typeText("colour:red")
	if !strings.Contains(footer(d), `✗ filter term "colour:red": unknown key "colour"`) {
		t.Errorf("footer %q", footer(d))
	}
	d.keys(keyOf(tea.KeyEnter))
	if d.m.mode != modeFilter {
		t.Error("enter must not accept an invalid filter")
	}
	for range "colour:red" {
		d.send(keyOf(tea.KeyBackspace))
	}
	d.typeText("status:failed")
	d.keys(keyOf(tea.KeyEnter))
	if d.m.mode != modeNormal || d.m.events.Visible() != 5 {
		t.Fatalf("mode %d visible %d", d.m.mode, d.m.events.Visible())
	}
	if !strings.Contains(d.view(), "/status:failed · 5 of 30") {
		t.Errorf("events info missing:\n%s", d.view())
	}
	d.keys(keyOf(tea.KeyEsc))
	if d.m.events.Visible() != 30 || !strings.Contains(footer(d), "filter cleared") {
		t.Errorf("esc: visible %d footer %q", d.m.events.Visible(), footer(d))
	}
}

func TestLiveEventsAndOtherOperators(t *testing.T) {
	fake := demo(t)
	d := newDriver(t, fake, 120, 40)
	fake.Ingest(api.EntryView{ID: "live1", Kind: "flag", Title: "Turned on flag live-one", Member: "eve@example.com",
		Decisions: []api.Decision{{Subscription: fakeapi.SubDatadog, Sent: true, State: api.Pending}}}, "", nil)
	fake.RecordAction("bob", "retry", "dlv_e0020_slack-prod", "")
	d.settle()
	v := d.view()
	if !strings.Contains(v, "› 15:09:26 flag        ⟳   Turned on flag live-one") {
		t.Errorf("the live entry should be selected at the bottom:\n%s", v)
	}
	if !strings.Contains(v, "bob retried dlv_e0020_s… just now") {
		t.Errorf("header should show bob's action:\n%s", v)
	}
	if !strings.Contains(footer(d), "bob retried dlv_e0020_s…") {
		t.Errorf("toast %q", footer(d))
	}
}

func TestFeedClosedIsShown(t *testing.T) {
	fake := demo(t)
	d := newDriver(t, fake, 120, 40)
	fake.Close()
	d.settle()
	if !strings.Contains(d.view(), "engine feed closed") || !d.m.feedClosed {
		t.Fatalf("view:\n%s", d.view())
	}
}

func TestQuitEndsTheFeed(t *testing.T) {
	d := newDriver(t, demo(t), 120, 40)
	_, cmd := d.m.Update(runeKey('q'))
	if cmd == nil {
		t.Fatal("q returned no command")
	}
	if _, ok := cmd().(tea.QuitMsg); !ok {
		// Update batches the quit with the selection sync.
		found := false
		if b, ok := cmd().(tea.BatchMsg); ok {
			for _, c := range b {
				if c != nil {
					if _, ok := c().(tea.QuitMsg); ok {
						found = true
					}
				}
			}
		}
		if !found {
			t.Fatal("q does not quit")
		}
	}
	if d.m.c.Ctx.Err() == nil {
		t.Fatal("quitting must end the console's context (and so its feed)")
	}
}

func TestColorToggleAndNoColor(t *testing.T) {
	r := lipgloss.NewRenderer(io.Discard)
	r.SetColorProfile(termenv.ANSI256)
	d := newDriver(t, demo(t), 120, 40, func(o *Options) { o.Renderer = r })
	if !strings.Contains(d.view(), "\x1b[") {
		t.Fatal("expected color with an ANSI256 renderer")
	}
	d.keys(runeKey('C'))
	if strings.Contains(d.view(), "\x1b[") {
		t.Fatal("C should turn color off")
	}
	d.keys(runeKey('C'))
	if !strings.Contains(d.view(), "\x1b[") {
		t.Fatal("C again should turn color on")
	}
	n := newDriver(t, demo(t), 120, 40, func(o *Options) { o.Renderer = r; o.NoColor = true })
	if strings.Contains(n.view(), "\x1b[") {
		t.Fatal("NoColor must draw without escapes")
	}
}

func TestResizeReflows(t *testing.T) {
	d := newDriver(t, demo(t), 120, 40)
	for _, sz := range []struct{ w, h int }{{80, 24}, {99, 30}, {100, 30}, {61, 16}, {120, 15}, {100, 22}, {100, 23}, {250, 70}, {30, 10}, {120, 40}} {
		d.send(tea.WindowSizeMsg{Width: sz.w, Height: sz.h})
		checkScreen(t, d.view(), sz.w, sz.h)
	}
}

func TestRedrawKey(t *testing.T) {
	d := newDriver(t, demo(t), 120, 40)
	_, cmd := d.m.Update(tea.KeyMsg{Type: tea.KeyCtrlL})
	if cmd == nil {
		t.Fatal("ctrl+l should clear the screen")
	}
}

// Keys that arrive together (fast typing, a slow SSH link) act one by one
// outside text inputs.
func TestKeysArrivingTogetherActOneByOne(t *testing.T) {
	d := newDriver(t, demo(t), 120, 40)
	d.keys(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("2")})
	if !strings.Contains(d.view(), "┏━ 2 Policy") {
		t.Fatalf("focus did not move to pane 2:\n%s", d.view())
	}
	d.keys(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("41")})
	if !strings.Contains(d.view(), "┏━ 1 Events") {
		t.Errorf("after \"41\" arrived as one event, focus should be on pane 1:\n%s", d.view())
	}
}

// TestRetryIntoADisabledSubscriptionAsksToResume: retrying into a
// subscription a 410 disabled asks whether to resume it first; no queues
// nothing, yes retries and then resumes it, in one call.
func TestRetryIntoADisabledSubscriptionAsksToResume(t *testing.T) {
	fake := demo(t)
	d := newDriver(t, fake, 120, 40)
	d.keys(runeKey('4'), keyOf(tea.KeyDown), keyOf(tea.KeyDown), keyOf(tea.KeyDown), runeKey('R'), keyOf(tea.KeyEnter))
	if f := footer(d); !strings.Contains(f, "legacy-webhook is disabled (410 Gone): resume it and retry all") || !strings.Contains(f, "(y/N)") {
		t.Fatalf("prompt %q", f)
	}
	d.keys(runeKey('n'))
	if hasCall(fake, "RetryAll") || hasCall(fake, "SetPaused") {
		t.Fatalf("declining queued something: %v", fake.Calls())
	}
	before := 0
	for _, s := range fake.Subscriptions() {
		if s.Name == fakeapi.SubLegacy {
			before = s.Counts[api.Failed]
		}
	}
	if before == 0 {
		t.Fatal("legacy-webhook has no failed deliveries in the demo")
	}
	d.keys(runeKey('R'), keyOf(tea.KeyEnter), runeKey('y'))
	calls := strings.Join(fake.Calls(), "\n")
	if !strings.Contains(calls, "ResumeAndRetryAll legacy-webhook") || strings.Contains(calls, "SetPaused") {
		t.Fatalf("yes should retry, then resume, in one call: %v", fake.Calls())
	}
	for _, s := range fake.Subscriptions() {
		if s.Name == fakeapi.SubLegacy && (s.Disabled || s.Counts[api.Failed] != 0) {
			t.Errorf("after yes: %+v, want resumed with nothing failed", s)
		}
	}
	if f := footer(d); !strings.Contains(f, "resumed legacy-webhook; retrying") {
		t.Errorf("footer %q", f)
	}
}

// TestStatusFailedFilterLandsOnFailedRows: with status:failed, the
// deliveries of the selected entry open on its failed delivery, so r
// retries that one; r on a row that is not failed says so and queues
// nothing.
func TestStatusFailedFilterLandsOnFailedRows(t *testing.T) {
	fake := demo(t)
	// The newest entry: delivered to one subscription, failed at another.
	fake.Ingest(api.EntryView{ID: "mix1", Kind: "flag", Title: "Turned on flag mixed", Decisions: []api.Decision{
		{Subscription: fakeapi.SubDatadog, Sent: true, State: api.Delivered},
		{Subscription: fakeapi.SubSlack, Sent: true, State: api.Failed},
	}}, "", nil)
	d, sel := filterToDeliveries(t, fake, "status:failed")
	if sel.EntryID != "mix1" || sel.DeliveryState != api.Failed {
		t.Fatalf("with status:failed the cursor is on a %s delivery, want failed:\n%s", sel.DeliveryState, d.view())
	}
	d.keys(runeKey('r'))
	if f := footer(d); !strings.Contains(f, "retry failed delivery "+sel.DeliveryID) && !strings.Contains(f, "resume it and retry") {
		t.Errorf("prompt %q", f)
	}
	d.keys(runeKey('n'))
	// Another row of the entry that is not failed: r says so.
	for i := 0; i < 10 && d.m.dels.Selection().DeliveryState == api.Failed; i++ {
		d.keys(keyOf(tea.KeyDown))
	}
	if st := d.m.dels.Selection().DeliveryState; st != api.Failed {
		d.keys(runeKey('r'))
		if f := footer(d); !strings.Contains(f, "not failed") && !strings.Contains(f, "select a failed delivery") {
			t.Errorf("r on a %s row: footer %q", st, f)
		}
	}
	if hasCall(fake, "Retry") {
		t.Fatalf("queued something: %v", fake.Calls())
	}
}

// TestResendLastDayAsksWithTheCount: B asks for the range (24h by
// default), counts the entries of it the subscription has not had, asks
// with the count, and sends only on yes.
func TestResendLastDayAsksWithTheCount(t *testing.T) {
	fake := demo(t)
	fake.Ingest(api.EntryView{ID: "only-slack", Kind: "flag", Title: "Turned on flag new", Decisions: []api.Decision{
		{Subscription: fakeapi.SubSlack, Sent: true, State: api.Delivered},
	}}, "", nil)
	d := newDriver(t, fake, 120, 40)
	d.keys(runeKey('4'), keyOf(tea.KeyDown), runeKey('B')) // datadog-events
	if f := footer(d); !strings.Contains(f, "backfill datadog-events with entries since 24h") {
		t.Fatalf("range prompt %q", f)
	}
	if hasCall(fake, "Resend") {
		t.Fatal("counted before the range was given")
	}
	d.keys(keyOf(tea.KeyEnter))
	f := footer(d)
	if !strings.Contains(f, "send 1 entries received in the last 24h to datadog-events") || !strings.Contains(f, "(y/N)") {
		t.Fatalf("prompt %q", f)
	}
	since := fixedNow().Add(-24 * time.Hour).UTC().Format(time.RFC3339)
	if !hasCall(fake, "Resend datadog-events failed=false dry=true since="+since) {
		t.Fatalf("count: calls %v", fake.Calls())
	}
	d.keys(runeKey('n'))
	if hasCall(fake, "Resend datadog-events failed=false dry=false") {
		t.Fatal("declining sent something")
	}
	d.keys(runeKey('B'), keyOf(tea.KeyEnter), runeKey('y'))
	if !hasCall(fake, "Resend datadog-events failed=false dry=false since="+since) || !strings.Contains(footer(d), "sending 1 entries received in the last 24h to datadog-events") {
		t.Fatalf("calls %v footer %q", fake.Calls(), footer(d))
	}
}

// TestToastsShowInTheOrderAskedFor: commands run concurrently, so the
// toasts of keys pressed together can arrive out of order; the footer
// keeps the one asked for last.
func TestToastsShowInTheOrderAskedFor(t *testing.T) {
	d := newDriver(t, demo(t), 120, 40)
	first := ui.Toast(ui.LevelError, "asked for first")
	second := ui.Toast(ui.LevelError, "asked for second")
	d.send(second())
	d.send(first())
	if f := footer(d); !strings.Contains(f, "asked for second") {
		t.Fatalf("footer %q, want the toast asked for last", f)
	}
	d.send(ui.Toast(ui.LevelInfo, "asked for third")())
	if f := footer(d); !strings.Contains(f, "asked for third") {
		t.Fatalf("footer %q, want a newer toast shown", f)
	}
}

// TestBulkActionsTakeARange: the range typed at B's and R's prompt (the
// filter's since: language) is the one counted and sent; R with a range
// retries only the deliveries that failed in it, through Resend with
// Failed; declining queues nothing.
func TestBulkActionsTakeARange(t *testing.T) {
	fake := demo(t)
	d := newDriver(t, fake, 160, 40)
	// slack-prod's failed deliveries are 14s and 70s old: 30s holds one.
	d.keys(runeKey('4'), runeKey('R'), keyOf(tea.KeyCtrlU))
	d.typeText("30s")
	d.keys(keyOf(tea.KeyEnter))
	since := fixedNow().Add(-30 * time.Second).UTC().Format(time.RFC3339)
	if f := footer(d); !strings.Contains(f, "retry 1 failed deliveries of slack-prod (failed in the last 30s)? (y/N)") {
		t.Fatalf("prompt %q (calls %v)", f, fake.Calls())
	}
	if !hasCall(fake, "Resend slack-prod failed=true dry=true since="+since) {
		t.Fatalf("count: calls %v", fake.Calls())
	}
	d.keys(runeKey('n'))
	if hasCall(fake, "Resend slack-prod failed=true dry=false") || hasCall(fake, "Retry") {
		t.Fatalf("declining queued something: %v", fake.Calls())
	}
	d.keys(runeKey('R'), keyOf(tea.KeyCtrlU))
	d.typeText("30s")
	d.keys(keyOf(tea.KeyEnter), runeKey('y'))
	if !hasCall(fake, "Resend slack-prod failed=true dry=false since="+since) {
		t.Fatalf("calls %v", fake.Calls())
	}
	if f := footer(d); !strings.Contains(f, "retrying 1 deliveries of slack-prod that failed in the last 30s") {
		t.Errorf("footer %q", f)
	}
	if hasCall(fake, "RetryAll") {
		t.Fatal("a range must not retry all")
	}
	dl, _ := fake.Delivery(context.Background(), "dlv_e0020_slack-prod")
	if dl.State != api.Failed {
		t.Errorf("the delivery that failed before the range is %s, want still failed", dl.State)
	}

	// A date, and a range with nothing in it, for B.
	d.keys(runeKey('B'), keyOf(tea.KeyCtrlU))
	d.typeText("2099-01-01")
	d.keys(keyOf(tea.KeyEnter))
	if f := footer(d); !strings.Contains(f, "none of the 0 entries received since 2099-01-01 needs sending") {
		t.Errorf("footer %q", f)
	}

	// A range the filter cannot read says what it wants and stays open.
	d.keys(runeKey('B'), keyOf(tea.KeyCtrlU))
	d.typeText("yesterday")
	d.keys(keyOf(tea.KeyEnter))
	if f := footer(d); !strings.Contains(f, `"yesterday" is not a duration or a date`) || d.m.mode != modeRange {
		t.Fatalf("bad range: mode %d footer %q", d.m.mode, f)
	}
	d.keys(keyOf(tea.KeyEsc))
	if f := footer(d); !strings.Contains(f, "cancelled") || d.m.mode != modeNormal {
		t.Errorf("esc: footer %q", f)
	}
	if hasCall(fake, "Resend slack-prod failed=false dry=false") {
		t.Fatalf("queued something: %v", fake.Calls())
	}
}

// TestBulkRangeComesFromTheFilter: with since: in the events filter, B
// and R offer that range.
func TestBulkRangeComesFromTheFilter(t *testing.T) {
	fake := demo(t)
	d := newDriver(t, fake, 160, 40)
	d.keys(runeKey('/'))
	d.typeText("since:2h")
	// A time bound searches the store in a view of its own; back from it,
	// the filter stays.
	d.keys(keyOf(tea.KeyEnter), keyOf(tea.KeyEsc), runeKey('4'), runeKey('R'))
	if f := footer(d); !strings.Contains(f, "retry failed deliveries of slack-prod since 2h") {
		t.Fatalf("R prompt %q", f)
	}
	d.keys(keyOf(tea.KeyEnter))
	since := fixedNow().Add(-2 * time.Hour).UTC().Format(time.RFC3339)
	if !hasCall(fake, "Resend slack-prod failed=true dry=true since="+since) {
		t.Fatalf("calls %v", fake.Calls())
	}
	if f := footer(d); !strings.Contains(f, "retry 2 failed deliveries of slack-prod (failed in the last 2h)?") {
		t.Fatalf("prompt %q", f)
	}
	d.keys(runeKey('n'), runeKey('B'))
	if f := footer(d); !strings.Contains(f, "backfill slack-prod with entries since 2h") {
		t.Fatalf("B prompt %q", f)
	}
}

// TestBulkRangeResumesAHeldSubscriptionFirst: a range into a disabled
// subscription counts, then asks to resume; yes resumes, then retries.
func TestBulkRangeResumesAHeldSubscriptionFirst(t *testing.T) {
	fake := demo(t)
	d := newDriver(t, fake, 160, 40)
	d.keys(runeKey('4'), keyOf(tea.KeyDown), keyOf(tea.KeyDown), keyOf(tea.KeyDown), runeKey('R'), keyOf(tea.KeyCtrlU))
	d.typeText("7d")
	d.keys(keyOf(tea.KeyEnter))
	if f := footer(d); !strings.Contains(f, "legacy-webhook is disabled (410 Gone): resume it and retry") || !strings.Contains(f, "(y/N)") {
		t.Fatalf("prompt %q", f)
	}
	d.keys(runeKey('n'))
	if hasCall(fake, "SetPaused") || hasCall(fake, "Resend legacy-webhook failed=true dry=false") {
		t.Fatalf("declining queued something: %v", fake.Calls())
	}
	d.keys(runeKey('R'), keyOf(tea.KeyCtrlU))
	d.typeText("7d")
	d.keys(keyOf(tea.KeyEnter), runeKey('y'))
	calls := strings.Join(fake.Calls(), "\n")
	if !strings.Contains(calls, "Resend legacy-webhook failed=true dry=false since=") || !strings.Contains(calls, "resume=true") || strings.Contains(calls, "SetPaused") {
		t.Fatalf("yes should retry, then resume, in one call: %v", fake.Calls())
	}
	if f := footer(d); !strings.Contains(f, "resumed legacy-webhook; retrying") {
		t.Errorf("footer %q", f)
	}
}

// TestBulkActionsKeepTheFilterKind: the events filter's kind: narrows
// B and R (the engine's Resend takes one kind); R's "all" then counts
// through Resend too, since RetryAll knows no kinds.
func TestBulkActionsKeepTheFilterKind(t *testing.T) {
	fake := demo(t)
	d := newDriver(t, fake, 160, 40)
	d.keys(runeKey('/'))
	d.typeText("kind:segment")
	d.keys(keyOf(tea.KeyEnter))
	if d.m.view() != 0 {
		d.keys(keyOf(tea.KeyEsc))
	}
	d.keys(runeKey('4'), runeKey('R'))
	if f := footer(d); !strings.Contains(f, "retry failed segment deliveries of slack-prod since all") {
		t.Fatalf("R prompt %q", f)
	}
	d.keys(keyOf(tea.KeyEnter))
	if !hasCall(fake, "Resend slack-prod failed=true dry=true since=1970-01-01T00:00:00Z kind=segment") {
		t.Fatalf("calls %v", fake.Calls())
	}
	if f := footer(d); !strings.Contains(f, "slack-prod has no segment deliveries that failed at any time") {
		t.Errorf("footer %q", f)
	}
	d.keys(runeKey('/'), keyOf(tea.KeyCtrlU))
	d.typeText("kind:flag")
	d.keys(keyOf(tea.KeyEnter))
	if d.m.view() != 0 {
		d.keys(keyOf(tea.KeyEsc))
	}
	d.keys(runeKey('4'), runeKey('R'), keyOf(tea.KeyEnter))
	if f := footer(d); !strings.Contains(f, "retry 2 failed flag deliveries of slack-prod (failed at any time)? (y/N)") {
		t.Fatalf("prompt %q", f)
	}
	d.keys(runeKey('y'))
	if !hasCall(fake, "Resend slack-prod failed=true dry=false since=1970-01-01T00:00:00Z kind=flag") || hasCall(fake, "RetryAll") {
		t.Fatalf("calls %v", fake.Calls())
	}
	d.keys(runeKey('B'))
	if f := footer(d); !strings.Contains(f, "backfill slack-prod with flag entries since 24h") {
		t.Fatalf("B prompt %q", f)
	}
	d.keys(keyOf(tea.KeyEnter))
	since := fixedNow().Add(-24 * time.Hour).UTC().Format(time.RFC3339)
	if !hasCall(fake, "Resend slack-prod failed=false dry=true since="+since+" kind=flag") {
		t.Fatalf("calls %v", fake.Calls())
	}
}

// TestPaletteBackfill: every keyed action is a command too; :backfill
// NAME opens the same range prompt as B.
func TestPaletteBackfill(t *testing.T) {
	fake := demo(t)
	d := newDriver(t, fake, 120, 40)
	d.keys(runeKey(':'))
	d.typeText("backfill datadog-events")
	d.keys(keyOf(tea.KeyEnter))
	if f := footer(d); !strings.Contains(f, "backfill datadog-events") || !strings.Contains(f, "24h") {
		t.Fatalf("footer %q, want B's range prompt for datadog-events", f)
	}
}

// TestNoticeWaitsForTheOperatorsToast: news of what someone else did (a
// subscription disabled by its endpoint) does not replace the answer to a
// key just pressed; once that answer has been up for a moment, or when
// nothing of the operator's is shown, the news shows at once.
func TestNoticeWaitsForTheOperatorsToast(t *testing.T) {
	now := fixedNow()
	var mu sync.Mutex
	clock := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return now
	}
	d := newDriver(t, demo(t), 120, 40, func(o *Options) { o.Now = clock })
	d.send(ui.Toastf("retry of dlv_1 queued")())
	d.send(ui.Notice("endpoint disabled legacy-hook")())
	if f := footer(d); !strings.Contains(f, "retry of dlv_1 queued") {
		t.Fatalf("footer %q: a notice replaced the operator's toast at once", f)
	}
	mu.Lock()
	now = now.Add(ownToastFor)
	mu.Unlock()
	d.send(ui.Notice("endpoint disabled legacy-hook")())
	if f := footer(d); !strings.Contains(f, "endpoint disabled legacy-hook") {
		t.Fatalf("footer %q: the notice did not show once the operator's toast had been up %s", f, ownToastFor)
	}
	// A notice replaces a notice at once, and the operator's next toast
	// replaces a notice at once.
	d.send(ui.Notice("alice paused slack-prod")())
	if f := footer(d); !strings.Contains(f, "alice paused slack-prod") {
		t.Fatalf("footer %q, want the newer notice", f)
	}
	d.send(ui.Toastf("copied")())
	if f := footer(d); !strings.Contains(f, "copied") {
		t.Fatalf("footer %q, want the operator's toast", f)
	}
}

// TestRetryIntoADisabledSubscriptionQueuesFirst: yes to "resume it and
// retry" is one call that queues the retry before resuming, so that a 410
// to the deliveries that waited cannot disable the subscription again
// before the retry is in; the footer says it is queued.
func TestRetryIntoADisabledSubscriptionQueuesFirst(t *testing.T) {
	fake := demo(t)
	fake.Ingest(api.EntryView{ID: "gone1", Kind: "flag", Title: "Turned on flag gone", Decisions: []api.Decision{
		{Subscription: fakeapi.SubLegacy, Sent: true, State: api.Failed},
	}}, "", nil)
	d, sel := filterToDeliveries(t, fake, "status:failed sub:"+fakeapi.SubLegacy)
	if sel.Subscription != fakeapi.SubLegacy || sel.DeliveryState != api.Failed {
		t.Fatalf("cursor on %s %s, want a failed delivery of %s:\n%s", sel.Subscription, sel.DeliveryState, fakeapi.SubLegacy, d.view())
	}
	d.keys(runeKey('r'))
	if f := footer(d); !strings.Contains(f, "resume it and retry") {
		t.Fatalf("prompt %q", f)
	}
	d.keys(runeKey('y'))
	if !hasCall(fake, "ResumeAndRetry "+sel.DeliveryID) || hasCall(fake, "SetPaused") || hasCall(fake, "Retry "+sel.DeliveryID) {
		t.Fatalf("calls %v, want one ResumeAndRetry", fake.Calls())
	}
	if f := footer(d); !strings.Contains(f, "retry of "+ui.ShortID(sel.DeliveryID)+" queued") {
		t.Errorf("footer %q", f)
	}
}

// filterToDeliveries opens a console on fake, filters the events with
// filter and moves to the deliveries pane, returning its selection.
func filterToDeliveries(t *testing.T, fake *fakeapi.API, filter string) (*driver, ui.Selection) {
	t.Helper()
	d := newDriver(t, fake, 120, 40)
	d.keys(runeKey('/'))
	d.typeText(filter)
	d.keys(keyOf(tea.KeyEnter), runeKey('3'))
	d.settle()
	return d, d.m.dels.Selection()
}
