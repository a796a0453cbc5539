package render

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/auditrelay/auditrelay/core/jsonv"
)

// The parser is a recursive-descent parser for the Handlebars grammar
// (handlebars.js 4.x). raymond's parser is not used: its lexer runs in a
// goroutine that the parser abandons on a syntax error (one leaked
// goroutine per bad template, and a live-preview editor produces one on
// every keystroke), it applies a whitespace pass with known bugs, and it
// keeps no columns.

// parseError is the panic value that unwinds the parser; parse converts it
// into an *Error.
type parseError struct {
	pos int
	msg string
}

type parser struct {
	src   string
	toks  []token
	i     int
	depth int // nesting of blocks and subexpressions
}

// maxNesting bounds block and subexpression nesting, so that a hostile
// template cannot make the parser and evaluator recurse without limit.
const maxNesting = 500

func (p *parser) enter(pos int) {
	if p.depth++; p.depth > maxNesting {
		p.failf(pos, "blocks and subexpressions nested deeper than %d levels", maxNesting)
	}
}

func parseTemplate(src string) (prog *programNode, perr *parseError) {
	p := &parser{src: src, toks: lex(src)}
	defer func() {
		if r := recover(); r != nil {
			e, ok := r.(*parseError)
			if !ok {
				panic(r)
			}
			prog, perr = nil, e
		}
	}()
	prog = p.program()
	if t := p.peek(); t.kind != tEOF {
		p.unexpectedStatement(t)
	}
	return prog, nil
}

func (p *parser) failf(pos int, format string, args ...any) {
	panic(&parseError{pos: pos, msg: fmt.Sprintf(format, args...)})
}

func (p *parser) peek() *token { return p.peekAt(0) }

func (p *parser) peekAt(n int) *token {
	if p.i+n < len(p.toks) {
		return &p.toks[p.i+n]
	}
	// The token list always ends with EOF or an error; repeat it.
	return &p.toks[len(p.toks)-1]
}

func (p *parser) next() *token {
	t := p.peek()
	if t.kind == tError {
		p.lexError(t)
	}
	if p.i < len(p.toks) {
		p.i++
	}
	return t
}

func (p *parser) lexError(t *token) {
	p.failf(t.pos, "%s", t.val)
}

// tokenPos is where a token starts; for the end of input, the end of src.
func (p *parser) tokenPos(t *token) int {
	if t.kind == tEOF {
		return len(p.src)
	}
	return t.pos
}

// describe names a token in an error message.
func describe(t *token) string {
	switch t.kind {
	case tEOF:
		return "end of template"
	case tContent:
		return "text"
	case tString:
		return "string " + strconv.Quote(t.val)
	case tNumber:
		return "number " + t.val
	case tBoolean:
		return t.val
	case tID:
		return "name " + strconv.Quote(t.val)
	case tComment:
		return "comment"
	case tInvalid:
		return "character " + strconv.Quote(t.val)
	case tUndefined, tNull:
		return t.val
	}
	return strconv.Quote(strings.TrimSpace(t.val))
}

func (p *parser) expect(kind tokenKind, what string) *token {
	t := p.peek()
	if t.kind == tError {
		p.lexError(t)
	}
	if t.kind == tOpenDecorator && kind != tOpenDecorator {
		p.failf(t.pos, "decorators ({{* …}}) are not supported")
	}
	if t.kind != kind {
		p.failf(p.tokenPos(t), "expected %s, found %s", what, describe(t))
	}
	return p.next()
}

func (p *parser) unexpectedStatement(t *token) {
	switch t.kind {
	case tError:
		p.lexError(t)
	case tInverse, tOpenChain:
		p.failf(t.pos, "{{else}} outside of a block")
	case tOpenEndBlock:
		p.failf(t.pos, "closing tag %s without an opening {{#...}}", strings.TrimSpace(p.tagText(t)))
	}
	p.failf(p.tokenPos(t), "unexpected %s", describe(t))
}

// tagText returns the source of the tag starting at token t, for messages.
func (p *parser) tagText(t *token) string {
	rest := p.src[t.pos:]
	if end := strings.Index(rest, "}}"); end >= 0 && end < 80 {
		return rest[:end+2]
	}
	if len(rest) > 40 {
		rest = rest[:40] + "…"
	}
	return rest
}

// openTilde and closeTilde read the "~" markers of a tag's delimiters.
func openTilde(val string) bool  { return len(val) > 2 && val[2] == '~' }
func closeTilde(val string) bool { return len(val) > 2 && val[len(val)-3] == '~' }

func (p *parser) program() *programNode {
	prog := &programNode{}
	for {
		t := p.peek()
		switch t.kind {
		case tContent:
			p.next()
			prog.body = append(prog.body, &contentNode{pos: t.pos, original: t.val, value: t.val})
		case tComment:
			p.next()
			prog.body = append(prog.body, &commentNode{
				pos:   t.pos,
				strip: stripFlags{open: openTilde(t.val), close: closeTilde(t.val)},
			})
		case tOpen, tOpenUnescaped:
			prog.body = append(prog.body, p.mustache())
		case tOpenBlock, tOpenInverse:
			prog.body = append(prog.body, p.block())
		case tOpenRawBlock:
			prog.body = append(prog.body, p.rawBlock())
		case tOpenPartial:
			p.failf(t.pos, "partials ({{> name}}) are not supported")
		case tOpenDecorator:
			p.failf(t.pos, "decorators ({{* …}}) are not supported")
		case tError:
			p.lexError(t)
		default:
			return prog
		}
	}
}

func (p *parser) mustache() *mustacheNode {
	open := p.next()
	n := &mustacheNode{pos: open.pos}
	n.escaped = open.kind == tOpen && !strings.HasSuffix(open.val, "&")
	n.call = p.call()
	var cl *token
	if open.kind == tOpenUnescaped {
		cl = p.expect(tCloseUnescaped, `"}}}" to close "{{{"`)
	} else {
		cl = p.expect(tClose, `"}}"`)
	}
	n.strip = stripFlags{open: openTilde(open.val), close: closeTilde(cl.val)}
	return n
}

// inversePart is what follows a block's program: {{else}} program, or an
// {{else if …}} chain wrapped in a chained program.
type inversePart struct {
	pos   int
	strip stripFlags
	prog  *programNode
	chain bool
}

func (p *parser) block() *blockNode {
	open := p.next()
	p.enter(open.pos)
	defer func() { p.depth-- }()
	inverted := open.kind == tOpenInverse
	call := p.call()
	params := p.blockParams()
	cl := p.expect(tClose, `"}}"`)
	openStrip := stripFlags{open: openTilde(open.val), close: closeTilde(cl.val)}
	body := p.program()
	body.blockParams = params

	var inv *inversePart
	switch t := p.peek(); {
	case t.kind == tInverse:
		inv = p.inverseAndProgram()
	case t.kind == tOpenChain && !inverted:
		inv = p.inverseChain()
	}

	end := p.peek()
	if end.kind != tOpenEndBlock {
		if end.kind == tError {
			p.lexError(end)
		}
		line, col := jsonv.LineCol(p.src, open.pos)
		p.failf(p.tokenPos(end), "expected {{/%s}} to close the block opened at %d:%d, found %s",
			call.head.original, line, col, describe(end))
	}
	p.next()
	closeName := p.helperName(false)
	closeTok := p.expect(tClose, `"}}"`)
	if closeName.original != call.head.original {
		line, col := jsonv.LineCol(p.src, open.pos)
		p.failf(end.pos, "{{/%s}} does not match {{%s%s}} opened at %d:%d",
			closeName.original, map[bool]string{false: "#", true: "^"}[inverted], call.head.original, line, col)
	}
	closeStrip := stripFlags{open: openTilde(end.val), close: closeTilde(closeTok.val)}
	b := assembleBlock(open.pos, call, openStrip, body, inv, closeStrip, inverted)
	return b
}

// assembleBlock arranges a block's parts the way Handlebars does. For a
// chain, the first chained block takes the closing tag's strip flags.
func assembleBlock(pos int, call *callNode, openStrip stripFlags, body *programNode, inv *inversePart, closeStrip stripFlags, inverted bool) *blockNode {
	b := &blockNode{pos: pos, call: call, openStrip: openStrip, closeStrip: closeStrip, elsePos: -1}
	var inverse *programNode
	if inv != nil {
		if inv.chain {
			inv.prog.body[0].(*blockNode).closeStrip = closeStrip
		}
		b.invStrip = inv.strip
		b.elsePos = inv.pos
		inverse = inv.prog
	}
	if inverted {
		b.prog, b.inv = inverse, body
	} else {
		b.prog, b.inv = body, inverse
	}
	return b
}

func (p *parser) inverseAndProgram() *inversePart {
	tok := p.next()
	return &inversePart{
		pos:   tok.pos,
		strip: stripFlags{open: openTilde(tok.val), close: closeTilde(tok.val)},
		prog:  p.program(),
	}
}

func (p *parser) inverseChain() *inversePart {
	if p.peek().kind == tInverse {
		return p.inverseAndProgram()
	}
	open := p.next() // {{else
	p.enter(open.pos)
	defer func() { p.depth-- }()
	call := p.call()
	params := p.blockParams()
	cl := p.expect(tClose, `"}}"`)
	openStrip := stripFlags{open: openTilde(open.val), close: closeTilde(cl.val)}
	body := p.program()
	body.blockParams = params
	var rest *inversePart
	if t := p.peek(); t.kind == tInverse || t.kind == tOpenChain {
		rest = p.inverseChain()
	}
	// Inside a chain Handlebars hands the following {{else}} part to the
	// block as its "close"; the enclosing block overwrites it again.
	var closeStrip stripFlags
	if rest != nil {
		closeStrip = rest.strip
	}
	inner := assembleBlock(open.pos, call, openStrip, body, rest, closeStrip, false)
	return &inversePart{
		pos:   open.pos,
		strip: openStrip,
		prog:  &programNode{body: []stmt{inner}, chained: true},
		chain: true,
	}
}

func (p *parser) rawBlock() *blockNode {
	open := p.next()
	call := p.call()
	p.expect(tCloseRawBlock, `"}}}}" to close the raw block tag`)
	body := &programNode{}
	if t := p.peek(); t.kind == tContent {
		p.next()
		body.body = append(body.body, &contentNode{pos: t.pos, original: t.val, value: t.val})
	}
	end := p.expect(tEndRawBlock, "{{{{/"+call.head.original+"}}}}")
	if end.val != call.head.original {
		p.failf(end.pos, "{{{{/%s}}}} does not match {{{{%s}}}}", end.val, call.head.original)
	}
	return &blockNode{
		pos:     open.pos,
		call:    call,
		prog:    body,
		elsePos: -1,
	}
}

// blockParams parses an optional "as |a b|".
func (p *parser) blockParams() []string {
	if p.peek().kind != tOpenBlockParams {
		return nil
	}
	open := p.next()
	var names []string
	for p.peek().kind == tID {
		t := p.next()
		if t.val == "." || t.val == ".." || strings.HasPrefix(t.val, "[") {
			p.failf(t.pos, "invalid block parameter name %q", t.val)
		}
		names = append(names, t.val)
	}
	if len(names) == 0 {
		p.failf(p.tokenPos(p.peek()), "expected block parameter names after %q", strings.TrimSpace(open.val))
	}
	p.expect(tCloseBlockParams, `"|" to close the block parameters`)
	return names
}

// call parses "helperName param* hash?".
func (p *parser) call() *callNode {
	head := p.helperName(true)
	c := &callNode{pos: head.pos, head: head}
	for p.isParamStart() && !p.isHashStart() {
		c.params = append(c.params, p.param())
	}
	for p.isHashStart() {
		key := p.next()
		p.next() // =
		if !p.isParamStart() {
			t := p.peek()
			p.failf(p.tokenPos(t), "expected a value for %s=, found %s", key.val, describe(t))
		}
		c.hash = append(c.hash, hashPair{pos: key.pos, key: key.val, value: p.param()})
	}
	if p.isParamStart() {
		t := p.peek()
		p.failf(t.pos, "positional argument %s after hash arguments (key=value must come last)", describe(t))
	}
	return c
}

func (p *parser) isParamStart() bool {
	switch p.peek().kind {
	case tID, tData, tString, tNumber, tBoolean, tUndefined, tNull, tOpenSexpr:
		return true
	}
	return false
}

func (p *parser) isHashStart() bool {
	return p.peek().kind == tID && p.peekAt(1).kind == tEquals
}

// helperName parses the head of a mustache, block or subexpression, or the
// name in a closing tag. Literal heads become paths, as Handlebars treats
// {{"foo"}} and {{1}} as lookups of "foo" and "1".
func (p *parser) helperName(head bool) *pathNode {
	t := p.peek()
	switch t.kind {
	case tID, tData:
		return p.path()
	case tString, tNumber, tBoolean, tUndefined, tNull:
		p.next()
		return &pathNode{pos: t.pos, original: t.val, parts: []string{t.val}, scoped: scopedID(t.val)}
	case tOpenSexpr:
		p.failf(t.pos, "a subexpression cannot be used as a helper name")
	case tError:
		p.lexError(t)
	case tInvalid:
		p.failf(t.pos, "unexpected character %q", t.val)
	}
	if head {
		p.failf(p.tokenPos(t), "expected a name, path or literal, found %s", describe(t))
	}
	p.failf(p.tokenPos(t), "expected the block name, found %s", describe(t))
	return nil
}

func (p *parser) param() exprNode {
	t := p.peek()
	switch t.kind {
	case tOpenSexpr:
		p.next()
		p.enter(t.pos)
		defer func() { p.depth-- }()
		c := p.call()
		p.expect(tCloseSexpr, `")" to close the subexpression`)
		return &subExprNode{pos: t.pos, call: c}
	case tString:
		p.next()
		return &literalNode{pos: t.pos, value: jsonv.Str(t.val), original: t.val}
	case tBoolean:
		p.next()
		return &literalNode{pos: t.pos, value: jsonv.Boolean(t.val == "true"), original: t.val}
	case tNull:
		p.next()
		return &literalNode{pos: t.pos, value: jsonv.NullValue(), original: t.val}
	case tUndefined:
		p.next()
		return &literalNode{pos: t.pos, value: jsonv.Value{}, original: t.val}
	case tNumber:
		p.next()
		f, err := strconv.ParseFloat(t.val, 64)
		if err != nil {
			p.failf(t.pos, "invalid number %s", t.val)
		}
		return &literalNode{pos: t.pos, value: jsonv.Num(f), original: t.val}
	}
	return p.path()
}

// path parses "@"? segment (sep segment)* with Handlebars' treatment of
// "..", "." and "this" and of [literal] segments.
func (p *parser) path() *pathNode {
	start := p.peek()
	n := &pathNode{pos: start.pos}
	var orig strings.Builder
	if start.kind == tData {
		p.next()
		n.data = true
		orig.WriteByte('@')
	}
	sep := ""
	for {
		t := p.peek()
		if t.kind == tError {
			p.lexError(t)
		}
		if t.kind == tInvalid {
			p.failf(t.pos, "unexpected character %q", t.val)
		}
		if t.kind != tID {
			if sep == "" {
				p.failf(p.tokenPos(t), "expected a name, found %s", describe(t))
			}
			p.failf(p.tokenPos(t), "expected a name after %q, found %s", sep, describe(t))
		}
		p.next()
		part, literal := t.val, false
		if len(part) >= 2 && part[0] == '[' && part[len(part)-1] == ']' && !strings.ContainsAny(part, "\n\r\u2028\u2029") {
			part, literal = part[1:len(part)-1], true
		}
		orig.WriteString(sep)
		orig.WriteString(part)
		if !literal && (part == ".." || part == "." || part == "this") {
			if len(n.parts) > 0 {
				p.failf(t.pos, "invalid path %s: %q may only start a path", orig.String(), part)
			}
			if part == ".." {
				n.depth++
			}
		} else {
			n.parts = append(n.parts, part)
		}
		if p.peek().kind != tSep {
			break
		}
		sep = p.next().val
	}
	n.original = orig.String()
	n.scoped = scopedID(n.original)
	return n
}

// scopedID mirrors Handlebars' test for an explicitly scoped path (starting
// with "." or containing "this" at a word end): such paths are never helper
// names or block parameters.
func scopedID(original string) bool {
	if strings.HasPrefix(original, ".") {
		return true
	}
	for i := 0; ; {
		j := strings.Index(original[i:], "this")
		if j < 0 {
			return false
		}
		end := i + j + 4
		if end == len(original) || !isWordByte(original[end]) {
			return true
		}
		i = i + j + 1
	}
}

func isWordByte(c byte) bool {
	return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}
