package render

import (
	"fmt"
	"strings"

	"github.com/auditrelay/auditrelay/core/jsonv"
)

// A template compiles once into a tree of closures; rendering calls them
// with a *run and appends to a byte slice. Helper names are resolved at
// compile time (the helper set is fixed), so a render does no name lookups
// beyond the data's own properties.

type stmtFn func(r *run, buf []byte) []byte

type exprFn func(r *run) jsonv.Value

// program is a compiled block body.
type program struct {
	stmts []stmtFn
	pos   []int // where each statement starts, for budget errors
}

type compiler struct {
	t *Template
	// scopes holds the block parameter names of each enclosing program,
	// innermost last; programs without any count as a level too, as in
	// handlebars.js.
	scopes          [][]string
	usesBlockParams bool
	static          []Issue
}

func (c *compiler) issue(pos int, severity, msg string) {
	if len(c.static) >= maxIssues {
		return
	}
	line, col := c.t.position(pos)
	c.static = append(c.static, Issue{Template: c.t.name, Line: line, Col: col, Severity: severity, Msg: msg})
}

func (c *compiler) program(p *programNode) *program {
	if p == nil {
		return nil
	}
	c.scopes = append(c.scopes, p.blockParams)
	defer func() { c.scopes = c.scopes[:len(c.scopes)-1] }()
	if len(p.blockParams) > 0 {
		c.usesBlockParams = true
	}
	prog := &program{}
	var text strings.Builder
	textPos := 0
	add := func(pos int, fn stmtFn) {
		prog.stmts = append(prog.stmts, fn)
		prog.pos = append(prog.pos, pos)
	}
	flush := func() {
		if text.Len() > 0 {
			s := text.String()
			add(textPos, func(_ *run, buf []byte) []byte { return append(buf, s...) })
			text.Reset()
		}
	}
	for _, s := range p.body {
		pos := s.stmtPos()
		switch n := s.(type) {
		case *contentNode:
			if text.Len() == 0 {
				textPos = pos
			}
			text.WriteString(n.value)
		case *mustacheNode:
			flush()
			add(pos, c.mustache(n))
		case *blockNode:
			flush()
			add(pos, c.block(n))
		}
	}
	flush()
	return prog
}

// blockParam finds name among the enclosing block parameters.
func (c *compiler) blockParam(name string) (depth, index int, ok bool) {
	for d := 0; d < len(c.scopes); d++ {
		for i, n := range c.scopes[len(c.scopes)-1-d] {
			if n == name {
				return d, i, true
			}
		}
	}
	return 0, 0, false
}

// isBlockParam reports whether a bare name refers to a block parameter.
func (c *compiler) isBlockParam(head *pathNode) bool {
	if !head.simple() {
		return false
	}
	_, _, ok := c.blockParam(head.parts[0])
	return ok
}

// helperOf returns the helper a call head names, if any.
func (c *compiler) helperOf(head *pathNode) helperID {
	if !head.simple() || c.isBlockParam(head) {
		return hNone
	}
	return lookupHelper(head.parts[0])
}

func (c *compiler) pathRef(n *pathNode, requireTerminal bool) *pathRef {
	p := &pathRef{pos: n.pos, original: n.original, requireTerminal: requireTerminal}
	switch {
	case !n.scoped && len(n.parts) > 0 && c.bpLookup(n, p):
		p.kind = pathBlockParam
	case n.data && len(n.parts) > 0:
		p.kind = pathData
		p.depth = n.depth
		p.name, p.parts = n.parts[0], n.parts[1:]
	case n.depth > 0:
		p.kind = pathDepth
		p.depth = n.depth
		p.parts = n.parts
	default:
		p.kind = pathContext
		p.parts = n.parts
	}
	return p
}

func (c *compiler) bpLookup(n *pathNode, p *pathRef) bool {
	d, i, ok := c.blockParam(n.parts[0])
	if !ok {
		return false
	}
	p.depth, p.index, p.name, p.parts = d, i, n.parts[0], n.parts[1:]
	return true
}

// refFn evaluates a path to a pointer to its value (nil for undefined);
// see run.refPath for how long the pointer stays valid.
type refFn func(r *run) *jsonv.Value

func (c *compiler) pathRefFn(n *pathNode, requireTerminal bool) refFn {
	p := c.pathRef(n, requireTerminal)
	// Specialised closures for the common shapes keep a lookup to one
	// indirect call.
	if p.kind == pathContext {
		switch len(p.parts) {
		case 0:
			return func(r *run) *jsonv.Value { return &r.ctx }
		case 1:
			k := p.parts[0]
			return func(r *run) *jsonv.Value {
				if r.lint == nil && r.ctx.Kind() == jsonv.Object {
					return r.ctx.GetPtr(k)
				}
				return r.refPath(p)
			}
		}
	}
	return func(r *run) *jsonv.Value { return r.refPath(p) }
}

func (c *compiler) pathExpr(n *pathNode, requireTerminal bool) exprFn {
	ref := c.pathRefFn(n, requireTerminal)
	return func(r *run) jsonv.Value { return deref(ref(r)) }
}

func (c *compiler) expr(e exprNode) exprFn { return e.compile(c) }

func (n *literalNode) compile(*compiler) exprFn {
	v := n.value
	return func(*run) jsonv.Value { return v }
}

func (n *pathNode) compile(c *compiler) exprFn    { return c.pathExpr(n, false) }
func (n *subExprNode) compile(c *compiler) exprFn { return c.subExpr(n) }

func hasArgs(call *callNode) bool { return len(call.params) > 0 || len(call.hash) > 0 }

func (c *compiler) mustache(n *mustacheNode) stmtFn {
	call := n.call
	escaped := n.escaped
	if h := c.helperOf(call.head); h != hNone {
		return c.helperMustache(h, n)
	}
	if hasArgs(call) && !c.isBlockParam(call.head) {
		return c.unknownHelper(call)
	}
	ref := c.pathRefFn(call.head, true)
	pos := call.head.pos
	return func(r *run, buf []byte) []byte {
		v := ref(r)
		if r.lint != nil && escaped {
			r.lintEscape(pos, deref(v))
		}
		return r.appendValue(buf, v, escaped)
	}
}

// missingHelper compiles a call with arguments of a name that is no
// helper. handlebars.js then calls the context value of that name (which
// fails: JSON holds no functions) or, when that is falsy, helperMissing,
// which fails when given positional arguments and otherwise returns
// undefined.
func (c *compiler) missingHelper(call *callNode) exprFn {
	pos := call.head.pos
	msg := fmt.Sprintf("unknown helper %q", call.head.original)
	switch {
	case len(call.params) > 0:
		c.issue(pos, "error", msg)
	case len(call.hash) > 0:
		c.issue(pos, "warning", msg+": it renders nothing")
	}
	args := c.compileArgs(call)
	get := c.pathExpr(call.head, true)
	nparams := len(call.params)
	return func(r *run) jsonv.Value {
		v := get(r)
		base := len(r.args)
		for _, a := range args {
			r.args = append(r.args, a(r))
		}
		r.args = r.args[:base]
		switch {
		case jsTruthy(v):
			r.fail(pos, msg+" (the value of that name is not a function)")
		case nparams > 0, r.lint != nil:
			// In strict mode there is no helperMissing: any such call fails.
			r.fail(pos, msg)
		}
		return jsonv.Value{}
	}
}

func (c *compiler) unknownHelper(call *callNode) stmtFn {
	call0 := c.missingHelper(call)
	return func(r *run, buf []byte) []byte {
		call0(r)
		return buf
	}
}

// compileArgs compiles the parameters then the hash values of a call, in
// the order handlebars.js evaluates them.
func (c *compiler) compileArgs(call *callNode) []exprFn {
	var out []exprFn
	for _, p := range call.params {
		out = append(out, c.expr(p))
	}
	for _, h := range call.hash {
		out = append(out, c.expr(h.value))
	}
	return out
}

func (c *compiler) block(n *blockNode) stmtFn {
	call := n.call
	h := c.helperOf(call.head)
	var ref refFn
	var unknown stmtFn
	switch {
	case h != hNone:
	case hasArgs(call) && !c.isBlockParam(call.head):
		unknown = c.unknownHelper(call)
	default:
		ref = c.pathRefFn(call.head, true)
	}
	prog := c.program(n.prog)
	inv := c.program(n.inv)
	if h != hNone {
		return c.helperBlock(h, n, prog, inv)
	}
	if unknown != nil {
		return unknown
	}
	return func(r *run, buf []byte) []byte {
		return r.blockMissing(deref(ref(r)), prog, inv, buf)
	}
}

// blockMissing renders a block whose name is not a helper
// ({{#section}}…{{/section}}), as Handlebars' blockHelperMissing does:
// true renders the block in the current context, false/null/undefined and
// empty arrays the inverse, other arrays iterate like #each, and any other
// value (objects, strings, numbers, even 0 and "") becomes the context.
func (r *run) blockMissing(v jsonv.Value, prog, inv *program, buf []byte) []byte {
	switch v.Kind() {
	case jsonv.Bool:
		if v.Bool() {
			return r.callRawThis(prog, buf)
		}
		return r.callRawThis(inv, buf)
	case jsonv.Undefined, jsonv.Null:
		return r.callRawThis(inv, buf)
	case jsonv.Array:
		if v.Len() > 0 {
			return r.each(v, prog, inv, buf)
		}
		return r.callRawThis(inv, buf)
	}
	return r.callProgram(prog, buf, v, bpFrame{})
}

func (c *compiler) subExpr(n *subExprNode) exprFn {
	call := n.call
	if h := c.helperOf(call.head); h != hNone {
		return c.helperValue(h, call)
	}
	if c.isBlockParam(call.head) {
		return c.pathExpr(call.head, true)
	}
	return c.missingHelper(call)
}

// each iterates arrays and objects (in their JavaScript key order) with a
// data frame for @index, @key, @first and @last and block parameters
// [item, key]; nothing to iterate renders the inverse.
func (r *run) each(v jsonv.Value, prog, inv *program, buf []byte) []byte {
	n := 0
	switch v.Kind() {
	case jsonv.Array:
		elems := v.Elems()
		n = len(elems)
		if n == 0 {
			break
		}
		r.frames = append(r.frames, dataFrame{each: true})
		fi := len(r.frames) - 1
		for i, e := range elems {
			// An iteration costs a step even when its body prints
			// nothing; the statement holding the loop reports it.
			if r.steps--; r.steps < 0 {
				break
			}
			f := &r.frames[fi]
			key := jsonv.Int(int64(i))
			f.index, f.key, f.first, f.last = i, key, i == 0, i == n-1
			buf = r.callProgram(prog, buf, e, bpFrame{vals: [2]jsonv.Value{e, key}, n: 2, set: true})
			if r.err != nil {
				break
			}
		}
		r.frames = r.frames[:fi]
	case jsonv.Object:
		members := v.Members()
		n = len(members)
		if n == 0 {
			break
		}
		r.frames = append(r.frames, dataFrame{each: true})
		fi := len(r.frames) - 1
		for i := range members {
			if r.steps--; r.steps < 0 {
				break
			}
			m := &members[i]
			f := &r.frames[fi]
			key := jsonv.Str(m.Key)
			f.index, f.key, f.first, f.last = i, key, i == 0, i == n-1
			buf = r.callProgram(prog, buf, m.Value, bpFrame{vals: [2]jsonv.Value{m.Value, key}, n: 2, set: true})
			if r.err != nil {
				break
			}
		}
		r.frames = r.frames[:fi]
	}
	if n == 0 {
		buf = r.callThis(inv, buf)
	}
	return buf
}

// lintEscape warns when {{x}} changes the value by HTML-escaping it, which
// in JSON bodies, URLs and headers is almost never wanted.
func (r *run) lintEscape(pos int, v jsonv.Value) {
	var changed bool
	switch v.Kind() {
	case jsonv.String:
		changed = needsHTMLEscape(v.Text())
	case jsonv.Array, jsonv.Object:
		text := jsonv.AppendJSString(nil, v)
		r.steps -= len(text) / stepBytes
		changed = needsHTMLEscape(text)
	}
	if changed && !isHTMLTemplate(r.t.name) {
		r.lint.add(r.t, pos, "warning", "{{…}} HTML-escapes this value (& < > \" ' become entities); use {{{…}}} to insert it unchanged")
	}
}
