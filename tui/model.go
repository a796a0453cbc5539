package tui

import (
	"context"
	"time"

	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"github.com/auditrelay/auditrelay/core/engine/api"
	"github.com/auditrelay/auditrelay/tui/internal/feed"
	"github.com/auditrelay/auditrelay/tui/internal/filter"
	"github.com/auditrelay/auditrelay/tui/internal/keys"
	"github.com/auditrelay/auditrelay/tui/internal/panes/deliveries"
	"github.com/auditrelay/auditrelay/tui/internal/panes/detail"
	"github.com/auditrelay/auditrelay/tui/internal/panes/events"
	"github.com/auditrelay/auditrelay/tui/internal/panes/form"
	"github.com/auditrelay/auditrelay/tui/internal/panes/header"
	"github.com/auditrelay/auditrelay/tui/internal/panes/helpview"
	"github.com/auditrelay/auditrelay/tui/internal/panes/policy"
	"github.com/auditrelay/auditrelay/tui/internal/panes/search"
	"github.com/auditrelay/auditrelay/tui/internal/panes/subs"
	"github.com/auditrelay/auditrelay/tui/internal/panes/tpledit"
	"github.com/auditrelay/auditrelay/tui/internal/panes/viewer"
	"github.com/auditrelay/auditrelay/tui/internal/ui"
)

// pane is what the root needs of each of the four panes.
type pane interface {
	Update(tea.Msg) tea.Cmd
	View() string
	SetSize(w, h int)
	SetFocused(bool)
	Title() string
	Info() string
	Selection() ui.Selection
}

type mode int

const (
	modeNormal mode = iota
	modeFilter
	modePrompt
	modePalette
	modeRange // the time range of a bulk action (B, R)
)

// Messages the root sends itself.
type (
	startedMsg struct {
		feed    *api.Feed
		history []api.EntryView
		err     error
		actions []api.Action
		subs    []api.SubscriptionInfo
	}
	statsTickMsg struct{}
	// polledMsg is a stats poll; only the ones from the tick loop
	// schedule the next tick, so a refresh after an action does not start
	// a second loop.
	polledMsg struct {
		ui.StatsMsg
		loop bool
	}
	// toastExpireMsg is the toast timer firing at its clock's time.
	toastExpireMsg struct{ at time.Time }
	actionDoneMsg  struct {
		doing, done string
		err         error
	}
	retryGoMsg struct {
		id, sub string
		resume  bool // resume the subscription first
	}
	testDoneMsg struct {
		sub    string
		result api.TestResult
		err    error
	}
	genDoneMsg struct {
		rate float64
		err  error
	}
)

type toast struct {
	level  ui.Level
	text   string
	until  time.Time // when it goes
	shown  time.Time // when it came
	notice bool      // news of what someone else did (ui.ToastMsg.Notice)
}

// ownToastFor is how long the operator's own toast stays up before a
// notice replaces it.
const ownToastFor = 2 * time.Second

// Model is the console's root: it owns focus, modes, layout, the footer,
// toasts and the full-screen views, and feeds the panes.
type Model struct {
	toastAt time.Time // when the toast shown last was asked for
	c       *ui.Common
	opts    Options
	cancel  context.CancelFunc

	colored, plain *ui.Styles
	colorOn        bool

	batcher *feed.Batcher
	header  *header.Model
	events  *events.Model
	policy  *policy.Model
	dels    *deliveries.Model
	subs    *subs.Model
	panes   [paneCount]pane

	detail *detail.Model
	form   *form.Model
	tpl    *tpledit.Model
	help   *helpview.Model
	search *search.Model
	viewer *viewer.Model
	views  []ui.View // full-screen views open, innermost last

	focus     int
	secondary int // stacked layout: which of policy/deliveries/subs is shown
	scopeFrom int // paneEvents or paneSubs: what the deliveries pane lists
	mode      mode
	filterIn  textinput.Model
	filterErr string
	palette   textinput.Model
	// paletteNote is the palette's completion list or usage line.
	paletteNote string
	prompt      ui.PromptMsg
	bulk        bulkAction // the action modeRange asks the range of
	rangeIn     textinput.Model
	rangeErr    string
	toast       toast
	width       int // the size drawn at: the terminal's, clamped
	height      int
	termW       int // the terminal's size as reported, for messages only
	termH       int
	layout      layout
	lastEntry   string
	lastVer     uint32
	lastSub     string
	genRate     float64
	hintCache   struct {
		key hintKey
		s   string
	}
	feedClosed bool

	// toastTimer is set while a toast expiry timer is pending: there is
	// at most one, however many toasts come (a key held down, or sent by
	// the thousand over SSH, would otherwise start a timer each).
	toastTimer bool
}

// New returns the console's root model for api. It starts nothing until
// a Bubble Tea program runs it; the program's end (q, ctrl+c) or
// opts.Context ends its live feed.
func New(api api.API, opts Options) tea.Model { return newModel(api, opts) }

func newModel(api api.API, opts Options) *Model {
	opts.defaults()
	ctx, cancel := context.WithCancel(opts.Context)
	r := opts.Renderer
	if r == nil {
		r = lipgloss.NewRenderer(outputOf(opts))
	}
	m := &Model{
		opts:      opts,
		cancel:    cancel,
		colored:   ui.NewStyles(r),
		plain:     ui.NewStyles(ui.PlainRenderer()),
		colorOn:   !opts.NoColor,
		secondary: panePolicy,
		scopeFrom: paneEvents,
		genRate:   opts.GeneratorRate,
	}
	m.c = &ui.Common{
		API:   api,
		Keys:  keys.New(opts.Role),
		Role:  opts.Role,
		Actor: opts.Actor,
		Now:   opts.Now,
		Ctx:   ctx,
		After: opts.after,
	}
	m.c.Styles = m.styles()
	m.header = header.New(m.c)
	m.events = events.New(m.c, opts.Capacity)
	m.policy = policy.New(m.c)
	m.dels = deliveries.New(m.c)
	m.subs = subs.New(m.c)
	m.panes = [paneCount]pane{m.events, m.policy, m.dels, m.subs}
	m.detail = detail.New(m.c)
	m.form = form.New(m.c)
	m.tpl = tpledit.New(m.c)
	m.help = helpview.New(m.c)
	m.help.SetExtra([]keys.Section{commandSection()})
	m.search = search.New(m.c)
	m.viewer = viewer.New(m.c)
	m.filterIn = m.newFilterInput()
	m.setFocus(paneEvents)
	return m
}

func (m *Model) styles() *ui.Styles {
	if m.colorOn {
		return m.colored
	}
	return m.plain
}

func (m *Model) newFilterInput() textinput.Model {
	in := m.c.Styles.NewInput()
	in.Prompt = "/"
	in.PromptStyle = m.c.Styles.Prompt.Style
	in.Placeholder = "text kind:flag env:production proj:web status:failed sub:name"
	in.CharLimit = ui.MaxFilterLen
	return in
}

// Init subscribes to the engine, loads history and starts polling stats.
func (m *Model) Init() tea.Cmd {
	return tea.Batch(m.start(), m.pollStats(true))
}

// start subscribes first, then loads history, so nothing falls between
// the two: entries seen in both are merged by id.
func (m *Model) start() tea.Cmd {
	eng, ctx, history, now := m.c.API, m.c.Ctx, m.opts.History, m.c.Now
	return func() tea.Msg {
		f := eng.Subscribe(ctx, feed.DefaultBuffer)
		cctx, cancel := context.WithTimeout(ctx, ui.CallTimeout)
		defer cancel()
		entries, err := eng.Entries(cctx, api.EntryQuery{Limit: history})
		if err != nil {
			err = errorf("load history", err)
		}
		acts, _ := eng.Actions(cctx, now().Add(-time.Hour), 50)
		return startedMsg{feed: f, history: entries, err: err, actions: acts, subs: eng.Subscriptions()}
	}
}

// pollStats reads rates and subscriptions; loop marks the periodic poll.
func (m *Model) pollStats(loop bool) tea.Cmd {
	return m.c.Call(func(ctx context.Context, c *ui.Common) tea.Msg {
		return polledMsg{ui.StatsMsg{Stats: c.API.Stats(), Subs: c.API.Subscriptions()}, loop}
	})
}

// Update is the root of all message handling.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	cmd := m.update(msg)
	return m, tea.Batch(cmd, m.syncSelection())
}

func (m *Model) update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		// The one place a terminal size enters: everything below sees
		// the clamped size.
		m.termW, m.termH = msg.Width, msg.Height
		m.width, m.height = clampSize(msg.Width, msg.Height)
		m.resize()
		return nil
	case startedMsg:
		return m.started(msg)
	case feed.BatchMsg:
		return m.batch(msg)
	case polledMsg:
		m.header.SetStats(msg.Stats)
		hadSubs := m.subs.Len()
		m.subs.SetSubs(msg.Subs)
		if hadSubs != m.subs.Len() {
			m.resize()
		}
		if !msg.loop {
			return nil
		}
		return m.c.Tick(m.opts.StatsInterval, func(time.Time) tea.Msg { return statsTickMsg{} })
	case statsTickMsg:
		return m.pollStats(true)
	case ui.ToastMsg:
		if msg.At.Before(m.toastAt) {
			return nil // overtaken by a toast asked for later
		}
		if msg.Notice && m.toast.text != "" && !m.toast.notice {
			if wait := m.toast.shown.Add(ownToastFor).Sub(m.c.Now()); wait > 0 {
				return m.c.Tick(wait, func(time.Time) tea.Msg { return msg })
			}
		}
		m.toastAt = msg.At
		cmd := m.showToast(msg.Level, msg.Text)
		m.toast.notice = msg.Notice
		return cmd
	case toastExpireMsg:
		m.toastTimer = false
		if m.toast.text == "" {
			return nil
		}
		if rest := m.toast.until.Sub(msg.at); rest > 0 {
			return m.toastAfter(rest) // a newer toast: wait for its time
		}
		m.toast = toast{}
		return nil
	case ui.PromptMsg:
		m.mode, m.prompt = modePrompt, msg
		return nil
	case ui.OpenMsg:
		return m.open(msg)
	case ui.CloseMsg:
		m.closeView()
		return nil
	case ui.ScopeMsg:
		return m.scope(msg)
	case retryGoMsg:
		m.dels.MarkRetrying(msg.id)
		return m.retryNow(msg.id, msg.sub, msg.resume)
	case ui.RetryDoneMsg:
		m.dels.Update(msg)
		if msg.Err != nil {
			return ui.ErrorToast("retry "+ui.ShortID(msg.DeliveryID), msg.Err)
		}
		// Counts changed: refresh now rather than at the next poll.
		return tea.Batch(ui.Toastf("retry of %s queued", ui.ShortID(msg.DeliveryID)), m.pollStats(false))
	case actionDoneMsg:
		if msg.err != nil {
			return ui.ErrorToast(msg.doing, msg.err)
		}
		return tea.Batch(ui.Toastf("%s", msg.done), m.pollStats(false))
	case resendCountMsg:
		return m.resendAsk(msg)
	case testDoneMsg:
		// The status line says what the result view says.
		toast := ui.Toast(ui.LevelError, "test of "+msg.sub+": "+msg.result.Outcome)
		switch {
		case msg.err != nil:
			toast = ui.ErrorToast("test of "+msg.sub, msg.err)
		case msg.result.OK:
			toast = ui.Toastf("test of %s: %s", msg.sub, msg.result.Outcome)
		}
		return tea.Batch(toast, m.open(ui.OpenMsg{View: ui.ViewTestResult, Subscription: msg.sub,
			Test: &ui.TestOutcome{Subscription: msg.sub, Result: msg.result, Err: msg.err}}))
	case genDoneMsg:
		return m.genDone(msg)
	case viewerTextMsg:
		return m.viewerText(msg)
	case pagerDoneMsg:
		// Bubble Tea v1 may leave the screen stale after an exec.
		return tea.Batch(tea.ClearScreen, ui.Toastf("closed the pager (%s)", msg.title))
	case tea.MouseMsg:
		return m.mouse(msg)
	case tea.KeyMsg:
		return m.key(msg)
	}
	// Everything else is a pane's own message (fetch results, debounce
	// ticks): each pane ignores the ones that are not its own.
	cmds := make([]tea.Cmd, 0, 8)
	for _, p := range m.panes {
		cmds = append(cmds, p.Update(msg))
	}
	cmds = append(cmds, m.detail.Update(msg), m.form.Update(msg), m.tpl.Update(msg), m.search.Update(msg))
	return tea.Batch(cmds...)
}

// started takes the feed and the history the start command got.
func (m *Model) started(msg startedMsg) tea.Cmd {
	m.events.Update(events.HistoryMsg{Entries: msg.history})
	for i := len(msg.actions) - 1; i >= 0; i-- {
		m.header.Observe(msg.actions[i])
	}
	if len(msg.subs) > 0 && m.subs.Len() == 0 {
		m.subs.SetSubs(msg.subs)
		m.resize()
	}
	var cmds []tea.Cmd
	if msg.feed != nil {
		m.batcher = feed.New(msg.feed, m.opts.BatchInterval, 0)
		cmds = append(cmds, m.batcher.Next())
	}
	if msg.err != nil {
		cmds = append(cmds, ui.Toast(ui.LevelError, msg.err.Error()))
	}
	return tea.Batch(cmds...)
}

// batch folds a batch of live events into every pane that shows them.
func (m *Model) batch(msg feed.BatchMsg) tea.Cmd {
	m.header.SetDropped(msg.Dropped)
	m.events.Apply(msg.Events)
	m.dels.Apply(msg.Events)
	m.subs.Apply(msg.Events)
	var cmds []tea.Cmd
	if m.view() == ui.ViewDeliveryDetail {
		cmds = append(cmds, m.detail.Apply(msg.Events))
	}
	var other *api.Action
	for i := range msg.Events {
		if a := msg.Events[i].Action; msg.Events[i].Kind == api.ActionRecorded && a != nil {
			m.header.Observe(*a)
			if a.Actor != m.c.Actor {
				other = a
			}
		}
	}
	if other != nil {
		cmds = append(cmds, ui.Notice(header.Describe(*other)))
	}
	if msg.Closed {
		m.feedClosed = true
		m.header.SetClosed()
		cmds = append(cmds, ui.Toast(ui.LevelError, "the engine's live feed ended; restart the console to resume"))
	} else if m.batcher != nil {
		cmds = append(cmds, m.batcher.Next())
	}
	return tea.Batch(cmds...)
}

// syncSelection tells the dependent panes when the selected entry or
// subscription changed. It runs after every message instead of the panes
// sending selection messages, which would double the redraws while the
// stream is followed.
func (m *Model) syncSelection() tea.Cmd {
	var cmds []tea.Cmd
	e, ver := m.events.Selected()
	id := ""
	if e != nil {
		id = e.ID
	}
	if id != m.lastEntry || ver != m.lastVer {
		m.lastEntry, m.lastVer = id, ver
		cmds = append(cmds, m.policy.SetEntry(e, ver))
		if m.scopeFrom == paneEvents {
			cmds = append(cmds, m.dels.SetEntry(e))
		}
	}
	if sub := m.subs.Selected(); sub != m.lastSub {
		m.lastSub = sub
		if m.scopeFrom == paneSubs && sub != "" {
			cmds = append(cmds, m.dels.SetSubscription(sub))
		}
	}
	return tea.Batch(cmds...)
}

func (m *Model) scope(msg ui.ScopeMsg) tea.Cmd {
	var cmd tea.Cmd
	switch {
	case msg.Subscription != "":
		m.scopeFrom = paneSubs
		cmd = m.dels.SetSubscription(msg.Subscription)
	case msg.EntryID != "":
		m.scopeFrom = paneEvents
		e, _ := m.events.Selected()
		cmd = m.dels.SetEntry(e)
	}
	if msg.Focus {
		m.setFocus(paneDeliveries)
	}
	return cmd
}

func (m *Model) setFocus(i int) tea.Cmd {
	m.focus = (i + paneCount) % paneCount
	for j, p := range m.panes {
		p.SetFocused(j == m.focus)
	}
	if m.focus != paneEvents {
		m.secondary = m.focus
	}
	// Focusing the events or subscriptions pane makes it drive the
	// deliveries list.
	switch m.focus {
	case paneEvents:
		if m.scopeFrom != paneEvents {
			m.scopeFrom = paneEvents
			e, _ := m.events.Selected()
			return m.dels.SetEntry(e)
		}
	case paneSubs:
		if m.scopeFrom != paneSubs {
			m.scopeFrom = paneSubs
			if sub := m.subs.Selected(); sub != "" {
				return m.dels.SetSubscription(sub)
			}
		}
	}
	return nil
}

func (m *Model) view() ui.View {
	if len(m.views) == 0 {
		return 0
	}
	return m.views[len(m.views)-1]
}

func (m *Model) open(msg ui.OpenMsg) tea.Cmd {
	// Help may open over anything, an entry over the search it was found
	// in; other views replace what is open.
	if msg.View != ui.ViewHelp && msg.View != ui.ViewViewer && (m.view() != ui.ViewSearch || msg.View != ui.ViewEntryDetail) {
		m.views = m.views[:0]
	}
	m.views = append(m.views, msg.View)
	m.resize()
	switch msg.View {
	case ui.ViewDeliveryDetail, ui.ViewEntryDetail, ui.ViewTestResult:
		m.detail.SetHighlight(m.events.Filter().Terms())
		return m.detail.Open(msg)
	case ui.ViewForm:
		return m.form.Open(msg.Subscription)
	case ui.ViewTemplates:
		e, _ := m.events.Selected()
		id := ""
		if e != nil {
			id = e.ID
		}
		return m.tpl.Open(msg.Subscription, id)
	}
	return nil
}

func (m *Model) closeView() {
	if len(m.views) > 0 {
		m.views = m.views[:len(m.views)-1]
	}
	m.resize()
}

func (m *Model) showToast(level ui.Level, text string) tea.Cmd {
	d := 4 * time.Second
	if level == ui.LevelError {
		d = 8 * time.Second
	}
	now := m.c.Now()
	m.toast = toast{level: level, text: text, until: now.Add(d), shown: now}
	return m.toastAfter(d)
}

// toastAfter starts the toast timer unless it is already pending; when it
// fires it starts again for what is left of the toast then shown. A toast
// that comes after a longer one may so stay up to that one's time.
func (m *Model) toastAfter(d time.Duration) tea.Cmd {
	if m.toastTimer {
		return nil
	}
	m.toastTimer = true
	return m.c.Tick(d, func(at time.Time) tea.Msg { return toastExpireMsg{at} })
}

// resize recomputes the layout and gives every child its size.
func (m *Model) resize() {
	m.layout = computeLayout(m.width, m.height, m.subs.Len())
	l := m.layout
	if l.tooSmall {
		return
	}
	m.header.SetWidth(m.width)
	inner := func(b box) (int, int) { return max(b.w-2, 0), max(b.h-2, 0) }
	m.events.SetSize(inner(l.events))
	if l.wide {
		m.policy.SetSize(inner(l.policy))
		m.dels.SetSize(inner(l.deliveries))
		m.subs.SetSize(inner(l.subs))
	} else {
		for _, p := range []pane{m.policy, m.dels, m.subs} {
			p.SetSize(inner(l.secondary))
		}
	}
	full := box{m.width, l.body}
	w, h := inner(full)
	m.detail.SetSize(w, h)
	m.form.SetSize(w, h)
	m.tpl.SetSize(w, h)
	m.help.SetSize(w, h)
	m.search.SetSize(w, h)
	m.viewer.SetSize(w, h)
	m.filterIn.Width = min(max(m.width-40, 10), 60)
}

func (m *Model) quit() tea.Cmd {
	m.cancel()
	return tea.Quit
}

// toggleColor switches between the renderer's styles and plain ones.
func (m *Model) toggleColor() tea.Cmd {
	m.colorOn = !m.colorOn
	m.c.Styles = m.styles()
	m.filterIn = m.newFilterInput()
	m.events.Update(ui.StylesChangedMsg{})
	m.resize()
	if m.colorOn {
		return ui.Toastf("color on")
	}
	return ui.Toastf("color off")
}

// applyFilter parses the filter as typed and applies it when valid.
func (m *Model) applyFilter() {
	q, err := filter.ParseAt(m.filterIn.Value(), m.c.Now())
	if err != nil {
		m.filterErr = err.Error()
		return
	}
	m.filterErr = ""
	m.events.SetFilter(q)
	// Looking for failures: the deliveries of an entry open on the
	// failed one, so r acts on it.
	m.dels.PreferState(api.Failed, q.WantsStatus("failed"))
}
