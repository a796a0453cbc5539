package render

import (
	"errors"
	"fmt"
	"strconv"
)

// Budget bounds one render. A template's size is known when it is saved,
// but its output is not: the entry comes from LaunchDarkly, and a loop
// nested over one of its arrays ({{#each tags}}{{#each ../tags}}…) turns
// a 141 KB entry into gigabytes. A render that reaches its budget stops
// with an *Error that wraps ErrBudget, naming the template and the
// position where the limit was crossed, instead of exhausting memory or
// time.
//
// The zero value means the defaults; a field <= 0 means its default.
type Budget struct {
	// MaxOutput bounds the rendered output in bytes, and the size of any
	// text a helper builds on the way (pathEncode of pathEncode of …).
	MaxOutput int
	// MaxSteps bounds the work of one render: each statement, each loop
	// iteration, and each 64 bytes of text a helper or comparison builds
	// count one step. It stops loops that print nothing, which the output
	// limit cannot see.
	MaxSteps int
}

// Defaults of Budget. A typical integration template takes a few hundred
// steps and a few KB; a million steps take tens of milliseconds.
const (
	DefaultMaxOutput = 1 << 20
	DefaultMaxSteps  = 1_000_000
)

// stepBytes is how many bytes of intermediate text count one step.
const stepBytes = 64

// ErrBudget is wrapped by the *Error of a render that reached its Budget.
var ErrBudget = errors.New("render budget exceeded")

func (b Budget) withDefaults() Budget {
	if b.MaxOutput <= 0 {
		b.MaxOutput = DefaultMaxOutput
	}
	if b.MaxSteps <= 0 {
		b.MaxSteps = DefaultMaxSteps
	}
	return b
}

// start arms the budget for a render whose output begins at len(buf) ==
// base.
func (r *run) start(b Budget, base int) {
	r.budget = b.withDefaults()
	r.limit = base + r.budget.MaxOutput
	r.steps = r.budget.MaxSteps
}

// overBudget stops the render at pos: the statement there took the output
// past the limit or used the last step. It stops a lint run too.
func (r *run) overBudget(pos, outLen int) {
	if r.err != nil {
		return
	}
	msg := fmt.Sprintf("the template took more than %s evaluation steps (render budget); a loop nested over a large array?",
		groupDigits(r.budget.MaxSteps))
	if outLen > r.limit {
		msg = fmt.Sprintf("the template produced more than %s of output (render budget)", FormatSize(r.budget.MaxOutput))
	}
	r.stop(pos, msg)
}

// stop ends the render with a budget error at pos.
func (r *run) stop(pos int, msg string) {
	line, col := r.t.position(pos)
	r.err = &Error{Template: r.t.name, Line: line, Col: col, Msg: msg, Budget: true}
}

// chargeText counts n bytes of text a helper or a comparison built, and
// stops the render when a helper (named what, at pos) built more text than
// the output may hold: nothing that large can be printed, and nesting
// helpers would otherwise multiply it.
func (r *run) chargeText(pos, n int, what string) bool {
	r.steps -= n / stepBytes
	if n > r.budget.MaxOutput {
		if r.err == nil {
			r.stop(pos, fmt.Sprintf("%s produced more than %s (render budget)", what, FormatSize(r.budget.MaxOutput)))
		}
		return false
	}
	return true
}

// FormatSize prints a byte count the way sizes are configured: "1 MiB",
// "64 KiB", "1500 bytes".
func FormatSize(n int) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return strconv.Itoa(n>>30) + " GiB"
	case n >= 1<<20 && n%(1<<20) == 0:
		return strconv.Itoa(n>>20) + " MiB"
	case n >= 1<<10 && n%(1<<10) == 0:
		return strconv.Itoa(n>>10) + " KiB"
	}
	return strconv.Itoa(n) + " bytes"
}

// groupDigits prints n with thousands separators: 1,000,000.
func groupDigits(n int) string {
	s := strconv.Itoa(n)
	var out []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	return string(out)
}
