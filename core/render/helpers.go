package render

import (
	"fmt"

	"github.com/auditrelay/auditrelay/core/jsonv"
)

// The helper set is fixed: Handlebars' built-ins and the integration
// framework's helpers (helpers/index.js). Templates cannot register more.

type helperID uint8

const (
	hNone helperID = iota
	// Handlebars built-ins.
	hIf
	hUnless
	hEach
	hWith
	hLookup
	hLog
	// Integration framework helpers.
	hEqual
	hEqualWithElse
	hPathEncode
	hQueryEncode
	hBasicAuth
	hFormatWithOffset
)

func lookupHelper(name string) helperID {
	switch name {
	case "if":
		return hIf
	case "unless":
		return hUnless
	case "each":
		return hEach
	case "with":
		return hWith
	case "lookup":
		return hLookup
	case "log":
		return hLog
	case "equal":
		return hEqual
	case "equalWithElse":
		return hEqualWithElse
	case "pathEncode":
		return hPathEncode
	case "queryEncode":
		return hQueryEncode
	case "basicAuthHeaderValue":
		return hBasicAuth
	case "formatWithOffset":
		return hFormatWithOffset
	}
	return hNone
}

// blockOnly reports helpers that render options.fn/inverse and so fail
// when not used as a block.
func (h helperID) blockOnly() bool {
	switch h {
	case hIf, hUnless, hEach, hWith, hEqual, hEqualWithElse:
		return true
	}
	return false
}

// providesBlockParams reports helpers that pass block parameters to their
// block (as |x| or as |item key|).
func (h helperID) providesBlockParams() bool { return h == hEach || h == hWith }

// arityError is the message for a call of h with n positional arguments
// that fails before the helper does anything, or "".
func arityError(h helperID, name string, n int) string {
	switch h {
	case hIf, hUnless, hWith:
		if n != 1 {
			return fmt.Sprintf("#%s requires exactly one argument", name)
		}
	case hEach:
		if n == 0 {
			return "Must pass iterator to #each"
		}
		if n > 1 {
			return "#each requires exactly one argument"
		}
	case hEqual, hEqualWithElse:
		if n != 2 {
			return fmt.Sprintf("%s requires exactly two arguments", name)
		}
	case hPathEncode, hQueryEncode:
		if n < 1 {
			return fmt.Sprintf("%s requires one argument", name)
		}
	case hBasicAuth:
		if n < 2 {
			return "basicAuthHeaderValue requires two arguments (user, password)"
		}
	case hFormatWithOffset:
		if n < 2 {
			return "formatWithOffset requires a timestamp, an offset in seconds and optionally a format"
		}
	}
	return ""
}

// helperCall is a compiled call of a known helper.
type helperCall struct {
	id      helperID
	name    string
	pos     int
	args    []exprFn // parameters, then hash values
	nparams int
	hash    []string
}

func (c *compiler) helperCall(h helperID, call *callNode) *helperCall {
	hc := &helperCall{id: h, name: call.head.parts[0], pos: call.head.pos, nparams: len(call.params)}
	hc.args = c.compileArgs(call)
	for _, p := range call.hash {
		hc.hash = append(hc.hash, p.key)
	}
	return hc
}

// hashIndex returns where the value of hash key lives in the evaluated
// arguments, or -1. A repeated key keeps its last value, as in a
// JavaScript object literal.
func (hc *helperCall) hashIndex(key string) int {
	for i := len(hc.hash) - 1; i >= 0; i-- {
		if hc.hash[i] == key {
			return hc.nparams + i
		}
	}
	return -1
}

// eval evaluates the arguments onto the run's argument stack; the caller
// truncates r.args back to base when done with them.
func (hc *helperCall) eval(r *run) (args []jsonv.Value, base int) {
	base = len(r.args)
	for _, a := range hc.args {
		v := a(r)
		r.args = append(r.args, v)
	}
	return r.args[base:], base
}

func (c *compiler) failing(hc *helperCall, msg string) func(r *run) {
	c.issue(hc.pos, "error", msg)
	return func(r *run) {
		_, base := hc.eval(r)
		r.args = r.args[:base]
		r.fail(hc.pos, msg)
	}
}

func (c *compiler) helperMustache(h helperID, n *mustacheNode) stmtFn {
	hc := c.helperCall(h, n.call)
	if msg := c.nonBlockError(hc); msg != "" {
		fail := c.failing(hc, msg)
		return func(r *run, buf []byte) []byte {
			fail(r)
			return buf
		}
	}
	escaped := n.escaped
	return func(r *run, buf []byte) []byte {
		args, base := hc.eval(r)
		v := r.valueHelper(hc, args)
		r.args = r.args[:base]
		if r.lint != nil && escaped {
			r.lintEscape(hc.pos, v)
		}
		return r.appendValue(buf, &v, escaped)
	}
}

func (c *compiler) helperValue(h helperID, call *callNode) exprFn {
	hc := c.helperCall(h, call)
	if msg := c.nonBlockError(hc); msg != "" {
		fail := c.failing(hc, msg)
		return func(r *run) jsonv.Value {
			fail(r)
			return jsonv.Value{}
		}
	}
	return func(r *run) jsonv.Value {
		args, base := hc.eval(r)
		v := r.valueHelper(hc, args)
		r.args = r.args[:base]
		return v
	}
}

// nonBlockError is the error of a helper used outside a block: its arity
// error, or for block helpers the failure to call options.fn.
func (c *compiler) nonBlockError(hc *helperCall) string {
	if !hc.id.blockOnly() {
		return ""
	}
	if msg := arityError(hc.id, hc.name, hc.nparams); msg != "" {
		return msg
	}
	return fmt.Sprintf("%s is a block helper: use {{#%s …}}…{{/%s}}", hc.name, hc.name, hc.name)
}

func (c *compiler) helperBlock(h helperID, n *blockNode, prog, inv *program) stmtFn {
	hc := c.helperCall(h, n.call)
	if msg := arityError(h, hc.name, hc.nparams); msg != "" && h.blockOnly() {
		fail := c.failing(hc, msg)
		return func(r *run, buf []byte) []byte {
			fail(r)
			return buf
		}
	}
	if !h.providesBlockParams() {
		if bp := blockParamsOf(n); len(bp) > 0 {
			c.issue(hc.pos, "warning", fmt.Sprintf("{{#%s}} passes no block parameters; using %q fails", hc.name, bp[0]))
		}
	}
	// The usual shapes, {{#if path}}, {{#each path}} and {{#with path}},
	// read the argument in place instead of through the argument stack.
	var ref refFn
	if len(n.call.params) == 1 && len(n.call.hash) == 0 {
		if pn, ok := n.call.params[0].(*pathNode); ok {
			ref = c.pathRefFn(pn, false)
		}
	}
	switch h {
	case hIf, hUnless:
		fn, inverse := prog, inv
		if h == hUnless {
			fn, inverse = inv, prog
		}
		if ref != nil {
			return func(r *run, buf []byte) []byte {
				if v := ref(r); v != nil && v.Truthy() {
					return r.callThis(fn, buf)
				}
				return r.callThis(inverse, buf)
			}
		}
		iz := hc.hashIndex("includeZero")
		return func(r *run, buf []byte) []byte {
			args, base := hc.eval(r)
			v := args[0]
			includeZero := iz >= 0 && args[iz].Truthy()
			r.args = r.args[:base]
			if (!includeZero && !v.Truthy()) || isEmpty(v) {
				return r.callThis(inverse, buf)
			}
			return r.callThis(fn, buf)
		}
	case hWith:
		return func(r *run, buf []byte) []byte {
			var v jsonv.Value
			if ref != nil {
				v = deref(ref(r))
			} else {
				args, base := hc.eval(r)
				v = args[0]
				r.args = r.args[:base]
			}
			if isEmpty(v) {
				return r.callThis(inv, buf)
			}
			return r.callProgram(prog, buf, v, bpFrame{vals: [2]jsonv.Value{v}, n: 1, set: true})
		}
	case hEach:
		return func(r *run, buf []byte) []byte {
			if ref != nil {
				return r.each(deref(ref(r)), prog, inv, buf)
			}
			args, base := hc.eval(r)
			v := args[0]
			r.args = r.args[:base]
			return r.each(v, prog, inv, buf)
		}
	case hEqual, hEqualWithElse:
		if h == hEqual && n.elsePos >= 0 {
			c.issue(n.elsePos, "warning", "equal ignores {{else}} (LaunchDarkly renders with Go's built-in equal); use equalWithElse for an else branch")
			inv = nil
		}
		return func(r *run, buf []byte) []byte {
			args, base := hc.eval(r)
			eq := r.sameString(args[0], args[1])
			r.args = r.args[:base]
			if eq {
				return r.callThis(prog, buf)
			}
			return r.callThis(inv, buf)
		}
	}
	// A value helper used as a block: its result is appended as is.
	return func(r *run, buf []byte) []byte {
		args, base := hc.eval(r)
		v := r.valueHelper(hc, args)
		r.args = r.args[:base]
		return r.appendValue(buf, &v, false)
	}
}

func blockParamsOf(n *blockNode) []string {
	for _, p := range []*programNode{n.prog, n.inv} {
		if p != nil && len(p.blockParams) > 0 {
			return p.blockParams
		}
	}
	return nil
}

// sameString compares the values as text ({{{a}}} = {{{b}}}), the equality
// of LaunchDarkly's production equal helper.
func (r *run) sameString(a, b jsonv.Value) bool {
	if a.Kind() == jsonv.String && b.Kind() == jsonv.String {
		return a.Text() == b.Text()
	}
	r.scratch = jsonv.AppendJSString(r.scratch[:0], a)
	n := len(r.scratch)
	r.scratch = jsonv.AppendJSString(r.scratch, b)
	r.steps -= len(r.scratch) / stepBytes
	return string(r.scratch[:n]) == string(r.scratch[n:])
}

// valueHelper runs a helper that returns a value.
func (r *run) valueHelper(hc *helperCall, args []jsonv.Value) jsonv.Value {
	p := args[:hc.nparams]
	if msg := arityError(hc.id, hc.name, len(p)); msg != "" {
		r.fail(hc.pos, msg)
		return jsonv.Value{}
	}
	switch hc.id {
	case hLookup:
		// lookup(obj, field) returns a falsy obj itself before looking at
		// its arguments further.
		if len(p) >= 1 && !jsTruthy(p[0]) {
			return p[0]
		}
		if len(p) != 2 {
			r.fail(hc.pos, "lookup requires exactly two arguments (object, key)")
			return jsonv.Value{}
		}
		key := jsString(p[1])
		if !r.chargeText(hc.pos, len(key), "the key of lookup") {
			return jsonv.Value{}
		}
		return prop(p[0], key)
	case hLog:
		if r.t.opts.Log != nil {
			level := "info"
			if i := hc.hashIndex("level"); i >= 0 {
				level = jsString(args[i])
			}
			r.t.opts.Log(level, append([]jsonv.Value(nil), p...))
		}
		return jsonv.Value{}
	case hPathEncode, hQueryEncode:
		// Each byte encodes to at least one: refuse an argument that is
		// over budget already, before encoding it.
		in := jsString(p[0])
		if !r.chargeText(hc.pos, len(in), hc.name) {
			return jsonv.Value{}
		}
		out, ok := appendURIEncoded(nil, in, hc.id == hQueryEncode)
		if !ok {
			r.fail(hc.pos, fmt.Sprintf("%s: URI malformed (the value contains a lone UTF-16 surrogate)", hc.name))
			return jsonv.Value{}
		}
		if !r.chargeText(hc.pos, len(out), hc.name) {
			return jsonv.Value{}
		}
		return jsonv.Str(string(out))
	case hBasicAuth:
		v := basicAuth(p[0], p[1])
		if !r.chargeText(hc.pos, len(v), hc.name) {
			return jsonv.Value{}
		}
		return jsonv.Str(v)
	case hFormatWithOffset:
		var format jsonv.Value
		if len(p) >= 3 {
			format = p[2]
		}
		v, msg := formatWithOffset(p[0], p[1], format, r.t.opts.SimpleDate24h)
		if msg != "" {
			r.fail(hc.pos, msg)
		}
		return v
	}
	return jsonv.Value{}
}
