package render

import (
	"fmt"
	"slices"
	"strings"
)

// nestedIterationLint warns about a loop over an array inside a loop over
// the same array ({{#each tags}}{{#each ../tags}}…): its output grows with
// the square of the array's length, and the entry, not the template, sets
// that length. 20,000 tags make 400 million iterations.
//
// It follows the contexts blocks push as the evaluator does (#each pushes
// the element, #with and sections their value, #if and the other helpers
// nothing), so ../ and @root paths resolve to the array they name. Paths it
// cannot resolve (block parameters, subexpressions, @data other than
// @root) are left alone: the check never warns about different arrays.
func nestedIterationLint(t *Template, root *programNode) []Issue {
	w := nestWalker{t: t}
	w.program(root, []ctxPath{{known: true}}, nil, nil)
	return w.issues
}

// ctxPath is where a block context lives in the template's root context:
// segments of property names, "[]" for "an element of". Unknown contexts
// have known false.
type ctxPath struct {
	segs  []string
	known bool
}

type loopAt struct {
	array ctxPath
	pos   int
}

type nestWalker struct {
	t      *Template
	issues []Issue
}

func (w *nestWalker) program(p *programNode, stack []ctxPath, loops []loopAt, params []string) {
	if p == nil {
		return
	}
	params = append(slices.Clip(params), p.blockParams...)
	for _, st := range p.body {
		if b, ok := st.(*blockNode); ok {
			w.block(b, stack, loops, params)
		}
	}
}

func (w *nestWalker) block(b *blockNode, stack []ctxPath, loops []loopAt, params []string) {
	call := b.call
	h := hNone
	if call.head.simple() && !slices.Contains(params, call.head.parts[0]) {
		h = lookupHelper(call.head.parts[0])
	}
	var arg *pathNode
	if len(call.params) > 0 {
		arg, _ = call.params[0].(*pathNode)
	}
	push := func(c ctxPath) []ctxPath { return append(slices.Clip(stack), c) }
	switch h {
	case hEach:
		array := w.resolve(arg, stack, params)
		inner, innerLoops := ctxPath{}, loops
		if array.known {
			w.check(array, arg.pos, loops)
			inner = ctxPath{segs: append(slices.Clip(array.segs), "[]"), known: true}
			innerLoops = append(slices.Clip(loops), loopAt{array: array, pos: arg.pos})
		}
		w.program(b.prog, push(inner), innerLoops, params)
		w.program(b.inv, stack, loops, params)
	case hWith:
		w.program(b.prog, push(w.resolve(arg, stack, params)), loops, params)
		w.program(b.inv, stack, loops, params)
	case hNone:
		// A section ({{#tags}}…{{/tags}}) iterates its value when that is
		// an array; what its body sees otherwise depends on the value.
		if !hasArgs(call) {
			if v := w.resolve(call.head, stack, params); v.known {
				w.check(v, call.head.pos, loops)
			}
		}
		w.program(b.prog, push(ctxPath{}), loops, params)
		w.program(b.inv, stack, loops, params)
	default:
		// #if, #unless, #equal…: the blocks keep the current context.
		w.program(b.prog, stack, loops, params)
		w.program(b.inv, stack, loops, params)
	}
}

// check warns when array is already iterated by an enclosing loop.
func (w *nestWalker) check(array ctxPath, pos int, loops []loopAt) {
	for _, l := range loops {
		if !slices.Equal(l.array.segs, array.segs) {
			continue
		}
		if len(w.issues) >= maxIssues {
			return
		}
		line, col := w.t.position(pos)
		oline, ocol := w.t.position(l.pos)
		name := displayPath(array.segs)
		w.issues = append(w.issues, Issue{Template: w.t.name, Line: line, Col: col, Severity: "warning",
			Msg: fmt.Sprintf("nested iteration over the same array: %s is already iterated by the loop at %d:%d, so the output grows with the square of its length (an entry with thousands of items exceeds the render budget); iterate it once", name, oline, ocol)})
		return
	}
}

// resolve finds where path p points in the root context, given the stack
// of block contexts (innermost last).
func (w *nestWalker) resolve(p *pathNode, stack []ctxPath, params []string) ctxPath {
	switch {
	case p == nil:
		return ctxPath{}
	case p.data:
		if p.depth == 0 && len(p.parts) > 0 && p.parts[0] == "root" {
			return ctxPath{segs: slices.Clone(p.parts[1:]), known: true}
		}
		return ctxPath{}
	case !p.scoped && p.depth == 0 && len(p.parts) > 0 && slices.Contains(params, p.parts[0]):
		return ctxPath{} // a block parameter
	}
	i := len(stack) - 1 - p.depth
	if i < 0 || !stack[i].known {
		return ctxPath{}
	}
	return ctxPath{segs: append(slices.Clone(stack[i].segs), p.parts...), known: true}
}

// displayPath prints a context path as a template author reads it:
// "tags", "accesses[].resources", "the context itself" for the root.
func displayPath(segs []string) string {
	if len(segs) == 0 {
		return "the root context"
	}
	var b strings.Builder
	for i, s := range segs {
		switch {
		case s == "[]":
			b.WriteString("[]")
		case i > 0:
			b.WriteString("." + s)
		default:
			b.WriteString(s)
		}
	}
	return b.String()
}
