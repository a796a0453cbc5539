package render

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/auditrelay/auditrelay/core/jsonv"
)

// Options adjust rendering. The zero value renders like the goldens:
// handlebars.js 4.7.7 with the framework's helpers and LaunchDarkly's
// production escaping.
type Options struct {
	// SimpleDate24h makes formatWithOffset's "simple" format print
	// "2006-01-02 15:04:05" (24-hour, UTC), the recommendation of
	// ld-semantics §7 A1, instead of the framework's dateformat mask
	// "yyyy-mm-dd h:MM:ss" (12-hour, unpadded hour, no AM/PM).
	SimpleDate24h bool
	// Log receives the arguments of {{log …}} with its level ("info" unless
	// level= is given). Nil discards them. It must be safe for concurrent
	// use and must not keep args. Arguments may hold secrets.
	Log func(level string, args []jsonv.Value)
	// Budget bounds Execute, AppendExecute and Lint; the zero value means
	// DefaultMaxOutput and DefaultMaxSteps.
	Budget Budget
}

// Template is a compiled template. It is immutable and safe for concurrent
// use by any number of goroutines.
type Template struct {
	name, src       string
	opts            Options
	root            *program
	usesBlockParams bool
	static          []Issue
	sizeHint        int
	// nullContext is the empty object helpers use as "this" when the
	// context is null (its identity matters for the ../ stack).
	nullContext jsonv.Value
	lineStarts  []int     // offsets where lines begin, for positions
	runs        sync.Pool // *run
}

// Error is a template parse or render error with its position (1-based
// line and column, the column counted in characters).
type Error struct {
	Template  string
	Line, Col int
	Msg       string
	// Budget marks a render stopped by its Budget; the error then wraps
	// ErrBudget.
	Budget bool
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s:%d:%d: %s", e.Template, e.Line, e.Col, e.Msg)
}

// Unwrap returns ErrBudget for a budget error, nil otherwise.
func (e *Error) Unwrap() error {
	if e.Budget {
		return ErrBudget
	}
	return nil
}

// Issue is a lint finding.
type Issue struct {
	Template  string
	Line, Col int
	Severity  string // "error" or "warning"
	Msg       string
}

func (i Issue) String() string {
	return fmt.Sprintf("%s:%d:%d: %s: %s", i.Template, i.Line, i.Col, i.Severity, i.Msg)
}

// Parse compiles src. name identifies the template in errors (usually its
// file path). The error, if any, is an *Error.
func Parse(name, src string) (*Template, error) {
	return ParseOptions(name, src, Options{})
}

// ParseOptions is Parse with options.
func ParseOptions(name, src string, opts Options) (*Template, error) {
	t := &Template{name: name, src: src, opts: opts, nullContext: jsonv.Obj(nil)}
	t.lineStarts = append(t.lineStarts, 0)
	for i := 0; i < len(src); i++ {
		if src[i] == '\n' {
			t.lineStarts = append(t.lineStarts, i+1)
		}
	}
	tree, perr := parseTemplate(src)
	if perr != nil {
		line, col := t.position(perr.pos)
		return nil, &Error{Template: name, Line: line, Col: col, Msg: perr.msg}
	}
	applyWhitespaceControl(tree)
	c := &compiler{t: t}
	t.root = c.program(tree)
	t.usesBlockParams = c.usesBlockParams
	t.static = append(c.static, staticLint(t, tree)...)
	t.static = append(t.static, nestedIterationLint(t, tree)...)
	t.sizeHint = len(src) + len(src)/2 + 64
	t.runs.New = func() any { return new(run) }
	return t, nil
}

// position converts a byte offset into a 1-based line and column (in
// characters).
func (t *Template) position(pos int) (line, col int) {
	pos = min(max(pos, 0), len(t.src))
	i, _ := slices.BinarySearch(t.lineStarts, pos+1)
	start := t.lineStarts[i-1]
	return i, utf8.RuneCountInString(t.src[start:pos]) + 1
}

// Name returns the name given to Parse.
func (t *Template) Name() string { return t.name }

// Source returns the template text.
func (t *Template) Source() string { return t.src }

// Execute renders the template with root as the context, within the
// template's Options.Budget.
func (t *Template) Execute(root jsonv.Value) (string, error) {
	return t.ExecuteBudget(root, t.opts.Budget)
}

// ExecuteBudget is Execute within budget b.
func (t *Template) ExecuteBudget(root jsonv.Value, b Budget) (string, error) {
	r := t.runs.Get().(*run)
	r.reset(t, root)
	r.start(b, 0)
	if cap(r.out) < t.sizeHint {
		r.out = make([]byte, 0, min(t.sizeHint, r.limit))
	}
	out := r.exec(r.out[:0])
	err := r.err
	var s string
	if err == nil {
		s = string(out)
	}
	r.out = out[:0]
	r.release()
	t.runs.Put(r)
	if err != nil {
		return "", err
	}
	return s, nil
}

// AppendExecute renders the template with root as the context and appends
// the output to dst, within the template's Options.Budget (which bounds
// what is appended, not dst). On error dst is returned unchanged.
func (t *Template) AppendExecute(dst []byte, root jsonv.Value) ([]byte, error) {
	return t.AppendExecuteBudget(dst, root, t.opts.Budget)
}

// AppendExecuteBudget is AppendExecute within budget b.
func (t *Template) AppendExecuteBudget(dst []byte, root jsonv.Value, b Budget) ([]byte, error) {
	r := t.runs.Get().(*run)
	r.reset(t, root)
	r.start(b, len(dst))
	out := r.exec(dst)
	err := r.err
	r.release()
	t.runs.Put(r)
	if err != nil {
		return dst, err
	}
	return out, nil
}

func (r *run) exec(buf []byte) []byte {
	return r.stmts(r.t.root, buf)
}

// IsJSONTemplate reports whether a template file is a JSON template (its
// lower-cased name ends in .json or .json.hbs): the framework JSON-escapes
// the event's strings for those and expects JSON output.
func IsJSONTemplate(path string) bool {
	p := strings.ToLower(path)
	return strings.HasSuffix(p, ".json") || strings.HasSuffix(p, ".json.hbs")
}

func isHTMLTemplate(path string) bool {
	p := strings.ToLower(strings.TrimSuffix(strings.ToLower(path), ".hbs"))
	return strings.HasSuffix(p, ".html") || strings.HasSuffix(p, ".htm")
}
