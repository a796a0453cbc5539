package render

import (
	"errors"
	"fmt"

	"github.com/auditrelay/auditrelay/core/jsonv"
)

// This file lets another renderer be compared with this one (core/prodcheck
// compares with raymond, the Go Handlebars library LaunchDarkly's
// production renderer is built on): what whitespace control left of each
// text run, what each statement wrote, and the framework helpers as plain
// functions. None of it is on the delivery path.

// Content is one run of literal text of a template, as written and as
// whitespace control (standalone lines, "~") leaves it.
type Content struct {
	Pos      int    // byte offset of the text in the source
	Original string // as written (an escaped \{{ without its backslash)
	Value    string // what is printed
}

// Contents lists the template's text runs in source order. It parses the
// source again: the compiled template keeps no syntax tree.
func (t *Template) Contents() []Content {
	tree, perr := parseTemplate(t.src)
	if perr != nil {
		return nil // t parsed once, so it parses again
	}
	applyWhitespaceControl(tree)
	var out []Content
	var walk func(p *programNode)
	walk = func(p *programNode) {
		if p == nil {
			return
		}
		for _, s := range p.body {
			switch n := s.(type) {
			case *contentNode:
				out = append(out, Content{Pos: n.pos, Original: n.original, Value: n.value})
			case *blockNode:
				// Source order: a {{^x}} section keeps its body in inv.
				first, second := n.prog, n.inv
				if second != nil && first != nil && len(second.body) > 0 && len(first.body) > 0 &&
					second.body[0].stmtPos() < first.body[0].stmtPos() {
					first, second = second, first
				}
				walk(first)
				walk(second)
			}
		}
	}
	walk(tree)
	return out
}

// Span is what one statement wrote: output bytes [Start, End) came from the
// statement at Line:Col (a merged run of text counts as one statement; a
// block's span holds its body's).
type Span struct {
	Start, End int
	Line, Col  int
	Pos        int // byte offset of the statement in the source
}

func (r *run) span(pos, start, end int) {
	line, col := r.t.position(pos)
	*r.trace = append(*r.trace, Span{Start: start, End: end, Line: line, Col: col, Pos: pos})
}

// ExecuteTrace is ExecuteBudget that also returns, for every statement that
// ran, the part of the output it wrote: innermost statements come before
// the blocks holding them.
func (t *Template) ExecuteTrace(root jsonv.Value, b Budget) (string, []Span, error) {
	r := t.runs.Get().(*run)
	r.reset(t, root)
	r.start(b, 0)
	var spans []Span
	r.trace = &spans
	out := string(r.exec(nil))
	err := r.err
	r.release()
	t.runs.Put(r)
	if err != nil {
		return "", spans, err
	}
	return out, spans, nil
}

// CallHelper runs one of the framework's value helpers (pathEncode,
// queryEncode, basicAuthHeaderValue, formatWithOffset) on args, as a
// template would, so that another renderer can be given the same helpers.
func CallHelper(name string, args ...jsonv.Value) (jsonv.Value, error) {
	arg := func(i int) jsonv.Value {
		if i < len(args) {
			return args[i]
		}
		return jsonv.Value{} // undefined
	}
	switch name {
	case "pathEncode", "queryEncode":
		out, ok := appendURIEncoded(nil, jsString(arg(0)), name == "queryEncode")
		if !ok {
			return jsonv.Value{}, fmt.Errorf("%s: URI malformed (the value contains a lone UTF-16 surrogate)", name)
		}
		return jsonv.Str(string(out)), nil
	case "basicAuthHeaderValue":
		return jsonv.Str(basicAuth(arg(0), arg(1))), nil
	case "formatWithOffset":
		v, msg := formatWithOffset(arg(0), arg(1), arg(2), false)
		if msg != "" {
			return jsonv.Value{}, errors.New(msg)
		}
		return v, nil
	}
	return jsonv.Value{}, fmt.Errorf("unknown helper %q", name)
}
