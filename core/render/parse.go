package render

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/aymerick/raymond/lexer"

	"github.com/auditrelay/auditrelay/core/jsonv"
)

// The parser is a recursive-descent parser for the Handlebars grammar over
// the tokens of raymond's lexer. raymond's own parser is not used: its lexer
// runs in a goroutine that the parser abandons on a syntax error (one leaked
// goroutine per bad template, which a live-preview editor produces on every
// keystroke), it applies a whitespace pass with known bugs, and it keeps no
// columns. lexer.Collect drains the lexer completely, so nothing is left
// running whatever the input.

// parseError is the panic value that unwinds the parser; parse converts it
// into an *Error.
type parseError struct {
	pos int
	msg string
}

type parser struct {
	src  string
	toks []lexer.Token
	i    int
}

func parseTemplate(src string) (prog *programNode, perr *parseError) {
	p := &parser{src: src, toks: lexer.Collect(src)}
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
	if t := p.peek(); t.Kind != lexer.TokenEOF {
		p.unexpectedStatement(t)
	}
	return prog, nil
}

func (p *parser) failf(pos int, format string, args ...any) {
	panic(&parseError{pos: pos, msg: fmt.Sprintf(format, args...)})
}

func (p *parser) peek() *lexer.Token { return p.peekAt(0) }

func (p *parser) peekAt(n int) *lexer.Token {
	if p.i+n < len(p.toks) {
		return &p.toks[p.i+n]
	}
	// Collect always ends with EOF or an error token; repeat it.
	return &p.toks[len(p.toks)-1]
}

func (p *parser) next() *lexer.Token {
	t := p.peek()
	if t.Kind == lexer.TokenError {
		p.lexError(t)
	}
	if p.i < len(p.toks) {
		p.i++
	}
	return t
}

func (p *parser) lexError(t *lexer.Token) {
	msg := t.Val
	if msg != "" {
		msg = strings.ToLower(msg[:1]) + msg[1:]
	}
	p.failf(t.Pos, "%s", msg)
}

// tokenPos is where a token starts; for the end of input, the end of src.
func (p *parser) tokenPos(t *lexer.Token) int {
	if t.Kind == lexer.TokenEOF {
		return len(p.src)
	}
	return t.Pos
}

// describe names a token in an error message.
func describe(t *lexer.Token) string {
	switch t.Kind {
	case lexer.TokenEOF:
		return "end of template"
	case lexer.TokenContent:
		return "text"
	case lexer.TokenString:
		return "string " + strconv.Quote(t.Val)
	case lexer.TokenNumber:
		return "number " + t.Val
	case lexer.TokenBoolean:
		return t.Val
	case lexer.TokenID:
		return "name " + strconv.Quote(t.Val)
	case lexer.TokenComment:
		return "comment"
	}
	return strconv.Quote(strings.TrimSpace(t.Val))
}

func (p *parser) expect(kind lexer.TokenKind, what string) *lexer.Token {
	t := p.peek()
	if t.Kind == lexer.TokenError {
		p.lexError(t)
	}
	if t.Kind != kind {
		p.failf(p.tokenPos(t), "expected %s, found %s", what, describe(t))
	}
	return p.next()
}

func (p *parser) unexpectedStatement(t *lexer.Token) {
	switch t.Kind {
	case lexer.TokenError:
		p.lexError(t)
	case lexer.TokenInverse, lexer.TokenOpenInverseChain:
		p.failf(t.Pos, "{{else}} outside of a block")
	case lexer.TokenOpenEndBlock:
		p.failf(t.Pos, "closing tag %s without an opening {{#...}}", strings.TrimSpace(p.tagText(t)))
	}
	p.failf(p.tokenPos(t), "unexpected %s", describe(t))
}

// tagText returns the source of the tag starting at token t, for messages.
func (p *parser) tagText(t *lexer.Token) string {
	rest := p.src[t.Pos:]
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
		switch t.Kind {
		case lexer.TokenContent:
			p.next()
			prog.body = append(prog.body, &contentNode{pos: t.Pos, original: t.Val, value: t.Val})
		case lexer.TokenComment:
			p.next()
			prog.body = append(prog.body, &commentNode{
				pos:   t.Pos,
				text:  t.Val,
				strip: stripFlags{open: openTilde(t.Val), close: closeTilde(t.Val)},
			})
		case lexer.TokenOpen, lexer.TokenOpenUnescaped:
			prog.body = append(prog.body, p.mustache())
		case lexer.TokenOpenBlock, lexer.TokenOpenInverse:
			prog.body = append(prog.body, p.block())
		case lexer.TokenOpenRawBlock:
			prog.body = append(prog.body, p.rawBlock())
		case lexer.TokenOpenPartial:
			p.failf(t.Pos, "partials ({{> name}}) are not supported")
		case lexer.TokenError:
			p.lexError(t)
		default:
			return prog
		}
	}
}

func (p *parser) mustache() *mustacheNode {
	open := p.next()
	n := &mustacheNode{pos: open.Pos}
	n.escaped = open.Kind == lexer.TokenOpen && !strings.HasSuffix(open.Val, "&")
	n.call = p.call()
	var cl *lexer.Token
	if open.Kind == lexer.TokenOpenUnescaped {
		cl = p.expect(lexer.TokenCloseUnescaped, `"}}}" to close "{{{"`)
	} else {
		cl = p.expect(lexer.TokenClose, `"}}"`)
	}
	n.strip = stripFlags{open: openTilde(open.Val), close: closeTilde(cl.Val)}
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
	inverted := open.Kind == lexer.TokenOpenInverse
	call := p.call()
	params := p.blockParams()
	cl := p.expect(lexer.TokenClose, `"}}"`)
	openStrip := stripFlags{open: openTilde(open.Val), close: closeTilde(cl.Val)}
	body := p.program()
	body.blockParams = params

	var inv *inversePart
	switch t := p.peek(); {
	case t.Kind == lexer.TokenInverse:
		inv = p.inverseAndProgram()
	case t.Kind == lexer.TokenOpenInverseChain && !inverted:
		inv = p.inverseChain()
	}

	end := p.peek()
	if end.Kind != lexer.TokenOpenEndBlock {
		if end.Kind == lexer.TokenError {
			p.lexError(end)
		}
		line, col := jsonv.LineCol(p.src, open.Pos)
		p.failf(p.tokenPos(end), "expected {{/%s}} to close the block opened at %d:%d, found %s",
			call.head.original, line, col, describe(end))
	}
	p.next()
	closeName := p.helperName(false)
	closeTok := p.expect(lexer.TokenClose, `"}}"`)
	if closeName.original != call.head.original {
		line, col := jsonv.LineCol(p.src, open.Pos)
		p.failf(end.Pos, "{{/%s}} does not match {{%s%s}} opened at %d:%d",
			closeName.original, map[bool]string{false: "#", true: "^"}[inverted], call.head.original, line, col)
	}
	closeStrip := stripFlags{open: openTilde(end.Val), close: closeTilde(closeTok.Val)}
	b := assembleBlock(open.Pos, call, openStrip, body, inv, closeStrip, inverted)
	b.closePos = end.Pos
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
		pos:   tok.Pos,
		strip: stripFlags{open: openTilde(tok.Val), close: closeTilde(tok.Val)},
		prog:  p.program(),
	}
}

func (p *parser) inverseChain() *inversePart {
	if p.peek().Kind == lexer.TokenInverse {
		return p.inverseAndProgram()
	}
	open := p.next() // {{else
	call := p.call()
	params := p.blockParams()
	cl := p.expect(lexer.TokenClose, `"}}"`)
	openStrip := stripFlags{open: openTilde(open.Val), close: closeTilde(cl.Val)}
	body := p.program()
	body.blockParams = params
	var rest *inversePart
	if t := p.peek(); t.Kind == lexer.TokenInverse || t.Kind == lexer.TokenOpenInverseChain {
		rest = p.inverseChain()
	}
	// Inside a chain Handlebars hands the following {{else}} part to the
	// block as its "close"; the enclosing block overwrites it again.
	var closeStrip stripFlags
	if rest != nil {
		closeStrip = rest.strip
	}
	inner := assembleBlock(open.Pos, call, openStrip, body, rest, closeStrip, false)
	return &inversePart{
		pos:   open.Pos,
		strip: openStrip,
		prog:  &programNode{body: []stmt{inner}, chained: true},
		chain: true,
	}
}

func (p *parser) rawBlock() *blockNode {
	open := p.next()
	call := p.call()
	p.expect(lexer.TokenCloseRawBlock, `"}}}}" to close the raw block tag`)
	t := p.peek()
	if t.Kind != lexer.TokenContent {
		p.failf(p.tokenPos(t), "expected the content of the raw block {{{{%s}}}}, found %s", call.head.original, describe(t))
	}
	p.next()
	content := &contentNode{pos: t.Pos, original: t.Val, value: t.Val}
	end := p.expect(lexer.TokenOpenEndRawBlock, "{{{{/"+call.head.original+"}}}}")
	closeName := p.helperName(false)
	p.expect(lexer.TokenCloseRawBlock, `"}}}}"`)
	if closeName.original != call.head.original {
		p.failf(end.Pos, "{{{{/%s}}}} does not match {{{{%s}}}}", closeName.original, call.head.original)
	}
	return &blockNode{
		pos:      open.Pos,
		call:     call,
		prog:     &programNode{body: []stmt{content}},
		elsePos:  -1,
		closePos: end.Pos,
	}
}

// blockParams parses an optional "as |a b|".
func (p *parser) blockParams() []string {
	if p.peek().Kind != lexer.TokenOpenBlockParams {
		return nil
	}
	open := p.next()
	var names []string
	for p.peek().Kind == lexer.TokenID {
		t := p.next()
		if t.Val == "." || t.Val == ".." || strings.HasPrefix(t.Val, "[") {
			p.failf(t.Pos, "invalid block parameter name %q", t.Val)
		}
		names = append(names, t.Val)
	}
	if len(names) == 0 {
		p.failf(p.tokenPos(p.peek()), "expected block parameter names after %q", strings.TrimSpace(open.Val))
	}
	p.expect(lexer.TokenCloseBlockParams, `"|" to close the block parameters`)
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
			p.failf(p.tokenPos(t), "expected a value for %s=, found %s", key.Val, describe(t))
		}
		c.hash = append(c.hash, hashPair{pos: key.Pos, key: key.Val, value: p.param()})
	}
	if p.isParamStart() {
		t := p.peek()
		p.failf(t.Pos, "positional argument %s after hash arguments (key=value must come last)", describe(t))
	}
	return c
}

func (p *parser) isParamStart() bool {
	switch p.peek().Kind {
	case lexer.TokenID, lexer.TokenData, lexer.TokenString, lexer.TokenNumber,
		lexer.TokenBoolean, lexer.TokenOpenSexpr:
		return true
	}
	return false
}

func (p *parser) isHashStart() bool {
	return p.peek().Kind == lexer.TokenID && p.peekAt(1).Kind == lexer.TokenEquals
}

// jsNumber is the number syntax Handlebars accepts.
var jsNumber = regexp.MustCompile(`^-?[0-9]+(?:\.[0-9]+)?$`)

// idChars reports whether s can be a Handlebars identifier.
func idChars(s string) bool {
	return s != "" && !strings.ContainsAny(s, " \t\n\r!\"#%&'()*+,./;<=>@[\\]^`{|}~")
}

// helperName parses the head of a mustache, block or subexpression, or the
// name in a closing tag. Literal heads become paths, as Handlebars treats
// {{"foo"}} and {{1}} as lookups of "foo" and "1".
func (p *parser) helperName(head bool) *pathNode {
	t := p.peek()
	switch t.Kind {
	case lexer.TokenID, lexer.TokenData:
		return p.path()
	case lexer.TokenNumber:
		if !jsNumber.MatchString(t.Val) && idChars(t.Val) {
			return p.path()
		}
		p.next()
		return &pathNode{pos: t.Pos, original: t.Val, parts: []string{t.Val}, scoped: scopedID(t.Val)}
	case lexer.TokenString, lexer.TokenBoolean:
		p.next()
		return &pathNode{pos: t.Pos, original: t.Val, parts: []string{t.Val}, scoped: scopedID(t.Val)}
	case lexer.TokenOpenSexpr:
		p.failf(t.Pos, "a subexpression cannot be used as a helper name")
	case lexer.TokenError:
		p.lexError(t)
	}
	if head {
		p.failf(p.tokenPos(t), "expected a name, path or literal, found %s", describe(t))
	}
	p.failf(p.tokenPos(t), "expected the block name, found %s", describe(t))
	return nil
}

func (p *parser) param() exprNode {
	t := p.peek()
	switch t.Kind {
	case lexer.TokenOpenSexpr:
		p.next()
		c := p.call()
		p.expect(lexer.TokenCloseSexpr, `")" to close the subexpression`)
		return &subExprNode{pos: t.Pos, call: c}
	case lexer.TokenString:
		p.next()
		return &literalNode{pos: t.Pos, value: jsonv.Str(t.Val), original: t.Val}
	case lexer.TokenBoolean:
		p.next()
		return &literalNode{pos: t.Pos, value: jsonv.Boolean(t.Val == "true"), original: t.Val}
	case lexer.TokenNumber:
		if jsNumber.MatchString(t.Val) {
			p.next()
			f, err := strconv.ParseFloat(t.Val, 64)
			if err != nil {
				p.failf(t.Pos, "invalid number %s", t.Val)
			}
			return &literalNode{pos: t.Pos, value: jsonv.Num(f), original: t.Val}
		}
		if !idChars(t.Val) {
			p.failf(t.Pos, "invalid number %s", t.Val)
		}
		return p.path()
	case lexer.TokenID:
		// raymond's lexer has no null/undefined literals; Handlebars reads
		// a bare null or undefined as one.
		if (t.Val == "null" || t.Val == "undefined") && p.peekAt(1).Kind != lexer.TokenSep {
			p.next()
			v := jsonv.NullValue()
			if t.Val == "undefined" {
				v = jsonv.Value{}
			}
			return &literalNode{pos: t.Pos, value: v, original: t.Val}
		}
	}
	return p.path()
}

// path parses "@"? segment (sep segment)* with Handlebars' treatment of
// "..", "." and "this" and of [literal] segments.
func (p *parser) path() *pathNode {
	start := p.peek()
	n := &pathNode{pos: start.Pos}
	var orig strings.Builder
	if start.Kind == lexer.TokenData {
		p.next()
		n.data = true
		orig.WriteByte('@')
	}
	sep := ""
	for {
		t := p.peek()
		if t.Kind == lexer.TokenError {
			p.lexError(t)
		}
		if t.Kind != lexer.TokenID && !(t.Kind == lexer.TokenNumber && idChars(t.Val) && !jsNumber.MatchString(t.Val)) {
			if sep == "" {
				p.failf(p.tokenPos(t), "expected a name, found %s", describe(t))
			}
			p.failf(p.tokenPos(t), "expected a name after %q, found %s", sep, describe(t))
		}
		p.next()
		part, literal := t.Val, false
		if len(part) >= 2 && part[0] == '[' && part[len(part)-1] == ']' {
			part, literal = part[1:len(part)-1], true
		}
		orig.WriteString(sep)
		orig.WriteString(part)
		if !literal && (part == ".." || part == "." || part == "this") {
			if len(n.parts) > 0 {
				p.failf(t.Pos, "invalid path %s: %q may only start a path", orig.String(), part)
			}
			if part == ".." {
				n.depth++
			}
		} else {
			n.parts = append(n.parts, part)
		}
		if p.peek().Kind != lexer.TokenSep {
			break
		}
		sep = p.next().Val
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
