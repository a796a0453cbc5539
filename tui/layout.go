package tui

// All layout numbers live here.
const (
	// MinWidth and MinHeight are the smallest terminal the console draws
	// in; below it shows what it needs instead.
	MinWidth  = 60
	MinHeight = 15

	// MaxWidth and MaxHeight bound the size the console draws at. The
	// size comes from the terminal, which over SSH is whatever the client
	// claims (up to 65535×65535, or 2³²-1 without a real PTY), and every
	// frame, pane and line is sized from it; a bigger terminal shows the
	// console in its top-left MaxWidth×MaxHeight cells.
	MaxWidth  = 1000
	MaxHeight = 500

	// wideWidth and wideBody are where Policy and Deliveries sit side by
	// side under the events with subscriptions below; smaller, panes stack
	// and the lower one shows one of them at a time.
	wideWidth = 100
	wideBody  = 20

	headerHeight = 2
	footerHeight = 1

	// minPane is the smallest pane, borders included.
	minPane = 4
)

// Pane indexes, in focus order; the number keys are these plus one.
const (
	paneEvents = iota
	panePolicy
	paneDeliveries
	paneSubs
	paneCount
)

type box struct{ w, h int }

// clampSize is the size the console uses for a terminal of w×h: at most
// MaxWidth×MaxHeight, and never negative.
func clampSize(w, h int) (int, int) {
	return min(max(w, 0), MaxWidth), min(max(h, 0), MaxHeight)
}

// layout is where each pane goes for a terminal size.
type layout struct {
	wide             bool
	body             int // lines between header and footer
	events, policy   box
	deliveries, subs box
	secondary        box // stacked mode: the lower pane
	tooSmall         bool
	width            int
	totalHeights     int // the panes' heights add up to body (checked in tests)
}

// computeLayout splits w×h. Wide: events across the top, policy and
// deliveries side by side, subscriptions across the bottom sized to the
// subscriptions it lists. Narrow: events above one other pane.
func computeLayout(w, h, nsubs int) layout {
	l := layout{width: w}
	if w < MinWidth || h < MinHeight {
		l.tooSmall = true
		return l
	}
	l.body = h - headerHeight - footerHeight
	l.wide = w >= wideWidth && l.body >= wideBody
	if !l.wide {
		top := max(l.body/2, minPane)
		l.events = box{w, top}
		l.secondary = box{w, l.body - top}
		l.totalHeights = top + l.secondary.h
		return l
	}
	// Subscriptions: its rows + a header line + borders, at most a quarter.
	subsH := min(max(nsubs+3, minPane+1), max(l.body/4, minPane+1))
	rest := l.body - subsH
	evH := max(rest*55/100, minPane)
	midH := rest - evH
	polW := w * 45 / 100
	l.events = box{w, evH}
	l.policy = box{polW, midH}
	l.deliveries = box{w - polW, midH}
	l.subs = box{w, subsH}
	l.totalHeights = evH + midH + subsH
	return l
}
