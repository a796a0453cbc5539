package render

import (
	"fmt"

	"github.com/auditrelay/auditrelay/core/jsonv"
)

type pathKind uint8

const (
	pathContext    pathKind = iota // name, this.name, ./name
	pathDepth                      // ../name: a block context further out
	pathData                       // @name
	pathBlockParam                 // a name declared with "as |name|"
)

// pathRef is a compiled path expression.
type pathRef struct {
	pos      int
	original string
	kind     pathKind
	depth    int      // ../ levels, @../ levels, or program levels up to the block parameters
	index    int      // which block parameter
	name     string   // the @data name (pathData) or the block parameter
	parts    []string // property lookups after the base
	// requireTerminal marks a path printed by a mustache or used as a bare
	// block name: strict mode requires its last segment to exist, while
	// helper arguments may be missing.
	requireTerminal bool
}

// refPath resolves the path to a pointer to its value (nil for
// undefined), without copying values on the way; a computed value is
// stored in r.tmp. The caller must use the pointer before evaluating
// anything else. Without lint it resolves leniently, as handlebars.js does
// without strict: a missing property yields undefined, and a null or
// undefined value (the context itself included) ends the walk with that
// value; for @data paths any falsy value does.
func (r *run) refPath(p *pathRef) *jsonv.Value {
	if r.lint != nil {
		r.tmp = r.evalPathStrict(p)
		return &r.tmp
	}
	switch p.kind {
	case pathContext:
		return walk(&r.ctx, p.parts, &r.tmp)
	case pathDepth:
		i := len(r.depths) - 1 - p.depth
		if i < 0 {
			return nil
		}
		return walk(&r.depths[i], p.parts, &r.tmp)
	case pathData:
		r.tmp = r.dataValue(p.depth, p.name)
		v := &r.tmp
		for _, k := range p.parts {
			if !v.Truthy() {
				return v
			}
			if v = step(v, k, &r.tmp); v == nil {
				return nil
			}
		}
		return v
	case pathBlockParam:
		bp, ok := r.blockParam(p)
		if !ok {
			return nil
		}
		r.tmp = bp
		return walk(&r.tmp, p.parts, &r.tmp)
	}
	return nil
}

func (r *run) blockParam(p *pathRef) (jsonv.Value, bool) {
	i := len(r.bps) - 1 - p.depth
	if i < 0 || !r.bps[i].set {
		r.fail(p.pos, fmt.Sprintf("block parameter %q has no value: the helper of its block passes no block parameters", p.original))
		return jsonv.Value{}, false
	}
	f := &r.bps[i]
	if p.index < f.n {
		return f.vals[p.index], true
	}
	return jsonv.Value{}, true
}

// dataValue looks up @name in the data frame depth levels out.
func (r *run) dataValue(depth int, name string) jsonv.Value {
	i := len(r.frames) - 1 - depth
	if i < 0 {
		return jsonv.Value{}
	}
	f := &r.frames[i]
	switch name {
	case "root":
		return r.root
	case "index":
		if f.each {
			return jsonv.Int(int64(f.index))
		}
	case "key":
		if f.each {
			return f.key
		}
	case "first":
		if f.each {
			return jsonv.Boolean(f.first)
		}
	case "last":
		if f.each {
			return jsonv.Boolean(f.last)
		}
	}
	return jsonv.Value{}
}

// dataHas is JavaScript's "name in frame" for a data frame.
func dataHas(f *dataFrame, isRoot bool, name string) bool {
	switch name {
	case "root":
		return true
	case "_parent":
		return !isRoot
	case "index", "key", "first", "last":
		return f.each
	}
	return objectProtoName(name)
}

// evalPathStrict resolves the path as handlebars.js does with strict:true,
// recording each failure as a lint issue and continuing with undefined.
func (r *run) evalPathStrict(p *pathRef) jsonv.Value {
	var v jsonv.Value
	parts := p.parts
	requireTerminal := p.requireTerminal
	switch p.kind {
	case pathContext:
		if len(parts) == 0 {
			return r.ctx
		}
		v = r.ctx
	case pathDepth:
		if i := len(r.depths) - 1 - p.depth; i >= 0 {
			v = r.depths[i]
		}
		if len(parts) == 0 {
			return v
		}
	case pathData:
		i := len(r.frames) - 1 - p.depth
		if i < 0 {
			if len(parts) == 0 && requireTerminal {
				r.strictFail(p.pos, fmt.Sprintf("%q not defined in undefined", p.name))
			} else {
				r.strictFail(p.pos, fmt.Sprintf("Cannot read properties of undefined (reading '%s')", p.name))
			}
			return jsonv.Value{}
		}
		if len(parts) == 0 && requireTerminal && !dataHas(&r.frames[i], i == 0, p.name) {
			r.strictFail(p.pos, fmt.Sprintf("%q not defined in [object Object]", p.name))
			return jsonv.Value{}
		}
		v = r.dataValue(p.depth, p.name)
	case pathBlockParam:
		var ok bool
		if v, ok = r.blockParam(p); !ok {
			return jsonv.Value{}
		}
		// handlebars.js 4.7.7 in strict mode looks the parameter's own
		// name up on its value (so block parameters never work there).
		parts = append([]string{p.name}, parts...)
		requireTerminal = false
	}
	n := len(parts)
	if requireTerminal && n > 0 {
		n--
	}
	for _, k := range parts[:n] {
		if v.IsNullish() {
			r.strictFail(p.pos, fmt.Sprintf("Cannot read properties of %s (reading '%s')", v.Kind(), k))
			return jsonv.Value{}
		}
		v = prop(v, k)
	}
	if n == len(parts) {
		return v
	}
	k := parts[n]
	switch {
	case !v.Truthy() && v.Kind() != jsonv.Array && v.Kind() != jsonv.Object:
		r.strictFail(p.pos, fmt.Sprintf("%q not defined in %s", k, jsString(v)))
		return jsonv.Value{}
	case v.Kind() != jsonv.Array && v.Kind() != jsonv.Object:
		r.strictFail(p.pos, fmt.Sprintf("Cannot use 'in' operator to search for '%s' in %s", k, jsString(v)))
		return jsonv.Value{}
	case !hasProperty(v, k):
		r.strictFail(p.pos, fmt.Sprintf("%q not defined in %s", k, jsString(v)))
		return jsonv.Value{}
	}
	return prop(v, k)
}

// hasProperty is JavaScript's "k in v" for an object or array.
func hasProperty(v jsonv.Value, k string) bool {
	if v.Kind() == jsonv.Object && v.Has(k) {
		return true
	}
	if v.Kind() == jsonv.Array {
		if k == "length" {
			return true
		}
		if i, ok := arrayIndex(k); ok && i < v.Len() {
			return true
		}
	}
	return objectProtoName(k)
}

// objectProtoName reports whether every object inherits a property k from
// Object.prototype.
func objectProtoName(k string) bool {
	switch k {
	case "constructor", "hasOwnProperty", "isPrototypeOf", "propertyIsEnumerable",
		"toLocaleString", "toString", "valueOf", "__proto__",
		"__defineGetter__", "__defineSetter__", "__lookupGetter__", "__lookupSetter__":
		return true
	}
	return false
}

func (r *run) strictFail(pos int, msg string) {
	if r.lint != nil {
		r.lint.add(r.t, pos, "error", msg)
	}
}
