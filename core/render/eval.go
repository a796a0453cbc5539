package render

import (
	"github.com/auditrelay/auditrelay/core/jsonv"
)

// run is the mutable state of one Execute or Lint call. Templates keep a
// pool of them so that a render allocates nothing but its output.
type run struct {
	t    *Template
	root jsonv.Value
	ctx  jsonv.Value // "this"
	// ctxTop records that ctx is the very value on top of depths.
	ctxTop bool
	// depths is Handlebars' stack of block contexts for ../ paths: a program
	// called with a context that differs (JavaScript !=) from the top pushes
	// it; "../" is one below the top.
	depths []jsonv.Value
	frames []dataFrame // @data frames; frames[0] is the root frame
	bps    []bpFrame   // block parameters, one frame per program call
	args   []jsonv.Value
	// scratch holds the string form of a value about to be escaped.
	scratch []byte
	// tmp holds a computed value (a length, a character, an @data value)
	// that a path lookup returns a pointer to; the caller uses it at once.
	tmp  jsonv.Value
	out  []byte
	err  *Error
	lint *lintState
	// trace, when set (ExecuteTrace), collects what each statement wrote.
	trace *[]Span
	// budget is this render's Budget (defaults filled in); limit is the
	// output length past which it is exceeded, steps how many are left.
	budget Budget
	limit  int
	steps  int
}

// dataFrame is one @data frame. Only #each creates frames, and it sets all
// of index, key, first and last; @root is visible in every frame.
type dataFrame struct {
	each        bool
	first, last bool
	index       int
	key         jsonv.Value
}

// bpFrame holds the block parameters a helper passed to a program call.
// set is false when the helper passed none (then using one fails, as the
// lookup throws a TypeError in handlebars.js).
type bpFrame struct {
	vals [2]jsonv.Value
	n    int
	set  bool
}

func (r *run) reset(t *Template, root jsonv.Value) {
	r.t = t
	r.root = root
	r.ctx = root
	r.ctxTop = true
	r.depths = append(r.depths[:0], root)
	r.frames = append(r.frames[:0], dataFrame{})
	r.bps = r.bps[:0]
	if t.usesBlockParams {
		r.bps = append(r.bps, bpFrame{})
	}
	r.args = r.args[:0]
	r.err = nil
	r.lint = nil
	r.trace = nil
}

// release drops references to the caller's values before the run goes back
// to the pool.
func (r *run) release() {
	clear(r.depths[:cap(r.depths)])
	clear(r.bps[:cap(r.bps)])
	clear(r.args[:cap(r.args)])
	clear(r.frames[:cap(r.frames)])
	r.root, r.ctx, r.tmp = jsonv.Value{}, jsonv.Value{}, jsonv.Value{}
	r.t, r.lint, r.err, r.trace = nil, nil, nil, nil
	if cap(r.out) > 1<<16 {
		r.out = nil
	}
	if cap(r.scratch) > 1<<16 {
		r.scratch = nil
	}
}

// fail records a render error at pos. Rendering stops at the first error;
// a lint run records it and goes on.
func (r *run) fail(pos int, msg string) {
	if r.lint != nil {
		r.lint.add(r.t, pos, "error", msg)
		return
	}
	if r.err == nil {
		line, col := r.t.position(pos)
		r.err = &Error{Template: r.t.name, Line: line, Col: col, Msg: msg}
	}
}

// callProgram renders p with the new context c, as a helper's
// options.fn(c) does. A nil program renders nothing.
func (r *run) callProgram(p *program, buf []byte, c jsonv.Value, bp bpFrame) []byte {
	return r.invoke(p, buf, c, false, bp)
}

// callThis renders p as a helper's options.fn(this) does: with the current
// context, or an empty object when that is null or undefined.
func (r *run) callThis(p *program, buf []byte) []byte {
	return r.invoke(p, buf, r.this(), true, bpFrame{})
}

// callRawThis renders p with the current context as it is, as
// blockHelperMissing does (it receives the context itself as "this").
func (r *run) callRawThis(p *program, buf []byte) []byte {
	return r.invoke(p, buf, r.ctx, true, bpFrame{})
}

// invoke runs a program call. handlebars.js pushes the context onto the
// ../ stack unless it is == the current top; sameCtx says c is the current
// context, which counts as identical to the top when it was pushed as the
// top (JavaScript compares object identity, which jsonv cannot for empty
// arrays).
func (r *run) invoke(p *program, buf []byte, c jsonv.Value, sameCtx bool, bp bpFrame) []byte {
	if p == nil {
		return buf
	}
	savedCtx, savedTop := r.ctx, r.ctxTop
	nd, nb := len(r.depths), len(r.bps)
	top := r.depths[nd-1]
	same := sameCtx && r.ctxTop && !r.ctx.IsNullish()
	push := false
	switch {
	case same:
	case top.Kind() == jsonv.Null && jsonv.StrictEqual(c, r.t.nullContext):
	default:
		push = !looseEqual(c, top)
	}
	if push {
		r.depths = append(r.depths, c)
	}
	r.ctxTop = push || same || identical(c, top)
	if r.t.usesBlockParams {
		r.bps = append(r.bps, bp)
	}
	r.ctx = c
	// stmts' loop, written out: this runs once per block call, and the
	// call would cost more than the budget checks.
	for i, s := range p.stmts {
		start := len(buf)
		buf = s(r, buf)
		if r.trace != nil {
			r.span(p.pos[i], start, len(buf))
		}
		if r.err != nil {
			break
		}
		if r.steps--; r.steps < 0 || len(buf) > r.limit {
			r.overBudget(p.pos[i], len(buf))
			break
		}
	}
	r.ctx, r.ctxTop = savedCtx, savedTop
	r.depths = r.depths[:nd]
	r.bps = r.bps[:nb]
	return buf
}

// stmts runs the statements of p. Each costs a step; the statement that
// takes the output past the budget's limit, or finds the steps used up
// (by itself or by a loop inside it), stops the render at its position.
func (r *run) stmts(p *program, buf []byte) []byte {
	for i, s := range p.stmts {
		start := len(buf)
		buf = s(r, buf)
		if r.trace != nil {
			r.span(p.pos[i], start, len(buf))
		}
		if r.err != nil {
			break
		}
		if r.steps--; r.steps < 0 || len(buf) > r.limit {
			r.overBudget(p.pos[i], len(buf))
			break
		}
	}
	return buf
}

// this is the context helpers hand to their blocks (fn(this)): in
// handlebars.js a helper's "this" is an empty object when the context is
// null or undefined.
func (r *run) this() jsonv.Value {
	if r.ctx.IsNullish() {
		return r.t.nullContext
	}
	return r.ctx
}

// prop is Handlebars' lookupProperty: an own property of the value, or
// undefined. Arrays and strings have their indices and length.
func prop(v jsonv.Value, key string) jsonv.Value {
	if p := step(&v, key, &v); p != nil {
		return *p
	}
	return jsonv.Value{}
}

// step is prop without copying values: it returns a pointer to the
// property (nil for undefined). Properties that are computed (a string's
// characters, a length) are stored in *tmp, which may be v itself.
func step(v *jsonv.Value, key string, tmp *jsonv.Value) *jsonv.Value {
	switch v.Kind() {
	case jsonv.Object:
		return v.GetPtr(key)
	case jsonv.Array:
		if i, ok := arrayIndex(key); ok {
			return v.IndexPtr(i)
		}
		if key == "length" {
			*tmp = jsonv.Int(int64(v.Len()))
			return tmp
		}
	case jsonv.String:
		if key == "length" {
			*tmp = jsonv.Int(int64(utf16Len(v.Text())))
			return tmp
		}
		if i, ok := arrayIndex(key); ok {
			if c := utf16At(v.Text(), i); !c.IsUndefined() {
				*tmp = c
				return tmp
			}
		}
	}
	return nil
}

// walk follows keys from *v leniently: a null or undefined value ends the
// walk with that value.
func walk(v *jsonv.Value, keys []string, tmp *jsonv.Value) *jsonv.Value {
	for _, k := range keys {
		if v == nil || v.IsNullish() {
			return v
		}
		v = step(v, k, tmp)
	}
	return v
}

func deref(p *jsonv.Value) jsonv.Value {
	if p == nil {
		return jsonv.Value{}
	}
	return *p
}

// arrayIndex parses a canonical array index ("0", "17"; not "01" or "-1").
func arrayIndex(key string) (int, bool) {
	if key == "" || len(key) > 10 || (len(key) > 1 && key[0] == '0') {
		return 0, false
	}
	n := 0
	for i := 0; i < len(key); i++ {
		c := key[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	if n >= 1<<32-1 {
		return 0, false
	}
	return n, true
}

// isEmpty is Handlebars' Utils.isEmpty: falsy but not 0, or an empty array.
func isEmpty(v jsonv.Value) bool {
	if v.Kind() == jsonv.Array {
		return v.Len() == 0
	}
	if v.Kind() == jsonv.Number && v.Float() == 0 {
		return false
	}
	return !v.Truthy()
}

// looseEqual is JavaScript's a == b, which decides whether a program call
// pushes a new ../ level.
func looseEqual(a, b jsonv.Value) bool {
	ka, kb := a.Kind(), b.Kind()
	if ka == kb {
		return identical(a, b)
	}
	if a.IsNullish() || b.IsNullish() {
		return a.IsNullish() && b.IsNullish()
	}
	switch {
	case ka == jsonv.Bool:
		return looseEqual(jsonv.Num(boolNum(a)), b)
	case kb == jsonv.Bool:
		return looseEqual(a, jsonv.Num(boolNum(b)))
	case ka == jsonv.Number && kb == jsonv.String:
		return a.Float() == toNumber(b)
	case ka == jsonv.String && kb == jsonv.Number:
		return toNumber(a) == b.Float()
	case ka >= jsonv.Array && kb < jsonv.Array:
		return looseEqual(b, a)
	case kb == jsonv.Object:
		// An object becomes "[object Object]", which is no number.
		return ka == jsonv.String && a.Text() == "[object Object]"
	case kb == jsonv.Array:
		return looseEqualArray(a, b)
	}
	return false
}

// looseEqualArray is a == b for an array b and a primitive a, which
// JavaScript compares with String(b). Every program call inside a loop
// makes this comparison (the ../ stack), so String(b) of a large array is
// never built whole: only as much as a's text could match.
func looseEqualArray(a, b jsonv.Value) bool {
	switch a.Kind() {
	case jsonv.String:
		s := a.Text()
		// String(b) has a comma between every two elements.
		if b.Len()-1 > len(s) {
			return false
		}
		printed, ok := appendJSStringMax(nil, b, len(s))
		return ok && string(printed) == s
	case jsonv.Number:
		// Two or more elements print a comma, which no number reads.
		if b.Len() > 1 {
			return false
		}
	}
	return looseEqual(a, jsonv.Str(string(jsonv.AppendJSString(nil, b))))
}

// identical is JavaScript's a === b. Empty arrays have no element address
// to compare, so two of them are the same array when they were decoded
// from the same offset of the input.
func identical(a, b jsonv.Value) bool {
	if a.Kind() == jsonv.Array && b.Kind() == jsonv.Array && a.Len() == 0 && b.Len() == 0 {
		return a.Offset() >= 0 && a.Offset() == b.Offset()
	}
	return jsonv.StrictEqual(a, b)
}

func boolNum(v jsonv.Value) float64 {
	if v.Bool() {
		return 1
	}
	return 0
}

// appendValue appends what {{v}} ({{{v}}} when !escaped) prints; nil is
// undefined.
func (r *run) appendValue(buf []byte, v *jsonv.Value, escaped bool) []byte {
	if v == nil {
		return buf
	}
	switch v.Kind() {
	case jsonv.String:
		if escaped {
			return appendHTMLEscaped(buf, v.Text())
		}
		return append(buf, v.Text()...)
	case jsonv.Undefined, jsonv.Null:
		return buf
	case jsonv.Number, jsonv.Bool:
		return jsonv.AppendJSString(buf, *v)
	}
	if !escaped {
		return jsonv.AppendJSString(buf, *v)
	}
	r.scratch = jsonv.AppendJSString(r.scratch[:0], *v)
	return appendHTMLEscaped(buf, r.scratch)
}

// appendHTMLEscaped escapes with LaunchDarkly's production table (raymond's):
// & < > " ' only, ' as &apos;.
func appendHTMLEscaped[S ~string | ~[]byte](buf []byte, s S) []byte {
	start := 0
	for i := 0; i < len(s); i++ {
		var rep string
		switch s[i] {
		case '&':
			rep = "&amp;"
		case '<':
			rep = "&lt;"
		case '>':
			rep = "&gt;"
		case '"':
			rep = "&quot;"
		case '\'':
			rep = "&apos;"
		default:
			continue
		}
		buf = append(buf, s[start:i]...)
		buf = append(buf, rep...)
		start = i + 1
	}
	return append(buf, s[start:]...)
}

// needsHTMLEscape reports whether appendHTMLEscaped would change s.
func needsHTMLEscape[S ~string | ~[]byte](s S) bool {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '&', '<', '>', '"', '\'':
			return true
		}
	}
	return false
}
