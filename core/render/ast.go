package render

import "github.com/auditrelay/auditrelay/core/jsonv"

// The syntax tree built by the parser. It follows the Handlebars language
// model (programs of statements; blocks holding a program and an inverse)
// because the whitespace rules and the evaluator are both defined on it.
// Positions are byte offsets into the template source.

// stripFlags records the "~" markers of one tag: open is "{{~", close "~}}".
type stripFlags struct{ open, close bool }

// stmt is a statement of a program: *contentNode, *commentNode,
// *mustacheNode or *blockNode.
type stmt interface{ stmtPos() int }

type contentNode struct {
	pos      int
	original string // text as written; standalone tests look at this
	value    string // text after whitespace control
	// leftStripped/rightStripped mark that a standalone rule already trimmed
	// the end/start of this node, so a second standalone rule does not.
	leftStripped, rightStripped bool
}

type commentNode struct {
	pos   int
	strip stripFlags
}

type mustacheNode struct {
	pos     int
	escaped bool
	call    *callNode
	strip   stripFlags
}

// blockNode is a block statement. prog is what the helper's options.fn
// renders, inv what options.inverse renders; for an inverted section
// ({{^x}}…{{/x}}) prog is nil and inv is the body, and {{^x}}A{{else}}B{{/x}}
// has prog B and inv A, exactly as Handlebars arranges it (whitespace
// control depends on that arrangement).
type blockNode struct {
	pos        int
	call       *callNode
	prog, inv  *programNode
	openStrip  stripFlags
	invStrip   stripFlags
	closeStrip stripFlags
	elsePos    int // offset of the {{else}} tag, -1 without one
}

type programNode struct {
	body        []stmt
	chained     bool     // the inverse of an {{else if}} chain: one blockNode
	blockParams []string // as |a b|
}

// callNode is "head param* hash?": a mustache, a block opening or a
// subexpression.
type callNode struct {
	pos    int
	head   *pathNode
	params []exprNode
	hash   []hashPair
}

type hashPair struct {
	pos   int
	key   string
	value exprNode
}

// exprNode is *pathNode, *literalNode or *subExprNode; each compiles
// itself (compile.go), so an expression the compiler does not know cannot
// be built.
type exprNode interface {
	compile(c *compiler) exprFn
}

type pathNode struct {
	pos      int
	original string // as Handlebars spells it: separators kept, brackets removed
	data     bool   // @name
	depth    int    // number of ../
	parts    []string
	scoped   bool // starts with ./ or this: never a helper or block parameter
}

type literalNode struct {
	pos      int
	value    jsonv.Value
	original string
}

type subExprNode struct {
	pos  int
	call *callNode
}

func (n *contentNode) stmtPos() int  { return n.pos }
func (n *commentNode) stmtPos() int  { return n.pos }
func (n *mustacheNode) stmtPos() int { return n.pos }
func (n *blockNode) stmtPos() int    { return n.pos }

// simple reports whether the path is a bare name ("foo", "@foo") that may
// name a helper or a block parameter.
func (n *pathNode) simple() bool {
	return len(n.parts) == 1 && n.depth == 0 && !n.scoped
}
