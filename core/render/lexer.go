package render

import (
	"strings"
	"unicode/utf8"
)

// The lexer implements Handlebars' lexical grammar (handlebars.js 4.x):
// text, {{…}} tags with their "~" markers, comments, escaped mustaches
// (\{{ and \\{{), raw blocks ({{{{x}}}}…{{{{/x}}}}), and the tokens inside
// tags with Handlebars' lookahead rules (an identifier must be followed by
// one of = ~ } space / . ) |, a literal by ~ } space or )). It runs in
// linear time and needs no goroutine. raymond's lexer is not used: it runs
// in a goroutine per template, its comment scanning is quadratic in runs of
// whitespace (20 KB of spaces in a comment took seconds), and it lacks the
// null/undefined literals and the identifier/number rules above.

type tokenKind uint8

const (
	tEOF tokenKind = iota
	tError
	tContent
	tComment
	tOpen           // {{  {{~  {{&
	tOpenUnescaped  // {{{
	tOpenBlock      // {{#
	tOpenEndBlock   // {{/
	tOpenInverse    // {{^
	tOpenChain      // {{else
	tInverse        // {{^}} or {{else}}
	tOpenPartial    // {{>  {{#>
	tOpenDecorator  // {{*  {{#*
	tOpenRawBlock   // {{{{
	tCloseRawBlock  // }}}}
	tEndRawBlock    // {{{{/name}}}}; val is the name
	tClose          // }}  ~}}
	tCloseUnescaped // }}}  }~}}
	tOpenSexpr
	tCloseSexpr
	tEquals
	tData // @
	tSep  // . or /
	tOpenBlockParams
	tCloseBlockParams
	tID
	tString
	tNumber
	tBoolean
	tUndefined
	tNull
	tInvalid
)

type token struct {
	kind tokenKind
	val  string
	pos  int
}

type lexer struct {
	src  string
	pos  int
	toks []token
	// rawDepth counts nested {{{{ inside raw block content.
	rawDepth int
}

func lex(src string) []token {
	l := &lexer{src: src}
	l.run()
	return l.toks
}

func (l *lexer) emit(kind tokenKind, val string, pos int) {
	l.toks = append(l.toks, token{kind: kind, val: val, pos: pos})
}

func (l *lexer) fail(pos int, msg string) {
	l.emit(tError, msg, pos)
}

func (l *lexer) run() {
	for l.pos < len(l.src) {
		if !l.content() {
			return
		}
	}
	l.emit(tEOF, "", len(l.src))
}

// content scans text up to the next tag and then the tag. It reports false
// after an error token.
func (l *lexer) content() bool {
	start := l.pos
	rest := l.src[start:]
	i := strings.Index(rest, "{{")
	if nul := strings.IndexByte(rest, 0); nul >= 0 && (i < 0 || nul < i) {
		if nul > 0 {
			l.emit(tContent, rest[:nul], start)
		}
		l.fail(start+nul, "NUL character in template")
		return false
	}
	if i < 0 {
		l.emit(tContent, rest, start)
		l.pos = len(l.src)
		return true
	}
	text := rest[:i]
	switch {
	case strings.HasSuffix(text, `\\`):
		// \\{{: a literal backslash, then a real tag.
		if text = text[:len(text)-1]; text != "" {
			l.emit(tContent, text, start)
		}
	case strings.HasSuffix(text, `\`):
		// \{{: the tag is text, up to the next {{ (or \{{ or \\{{).
		if text = text[:len(text)-1]; text != "" {
			l.emit(tContent, text, start)
		}
		l.escaped(start + i)
		return true
	default:
		if text != "" {
			l.emit(tContent, text, start)
		}
	}
	l.pos = start + i
	return l.tag()
}

// escaped emits an escaped mustache as text: at least two characters, up
// to the next "{{", "\{{" or "\\{{" or the end.
func (l *lexer) escaped(at int) {
	end := len(l.src)
	if j := strings.Index(l.src[at+2:], "{{"); j >= 0 {
		end = at + 2 + j
		for k := 0; k < 2 && end > at+2 && l.src[end-1] == '\\'; k++ {
			end--
		}
	}
	l.emit(tContent, l.src[at:end], at)
	l.pos = end
}

// tag scans one {{…}} tag starting at l.pos.
func (l *lexer) tag() bool {
	start := l.pos
	s := l.src[start:]
	if strings.HasPrefix(s, "{{{{") {
		l.emit(tOpenRawBlock, "{{{{", start)
		l.pos += 4
		return l.expression(true)
	}
	n := 2
	if n < len(s) && s[n] == '~' {
		n++
	}
	// Comments.
	if strings.HasPrefix(s[n:], "!--") {
		if end := findCommentEnd(s, n+3); end >= 0 {
			l.emit(tComment, s[:end], start)
			l.pos = start + end
			return true
		}
		l.fail(start, "unclosed comment: expected --}}")
		return false
	}
	if strings.HasPrefix(s[n:], "!") {
		if end := strings.Index(s[n:], "}}"); end >= 0 {
			l.emit(tComment, s[:n+end+2], start)
			l.pos = start + n + end + 2
			return true
		}
		l.fail(start, "unclosed comment: expected }}")
		return false
	}
	// {{^}} and {{else}}, alone.
	if m := inverseTag(s, n); m > 0 {
		l.emit(tInverse, s[:m], start)
		l.pos = start + m
		return true
	}
	kind, size := tOpen, n
	switch rest := s[n:]; {
	case strings.HasPrefix(rest, ">"):
		kind, size = tOpenPartial, n+1
	case strings.HasPrefix(rest, "#>"):
		kind, size = tOpenPartial, n+2
	case strings.HasPrefix(rest, "#*"):
		kind, size = tOpenDecorator, n+2
	case strings.HasPrefix(rest, "#"):
		kind, size = tOpenBlock, n+1
	case strings.HasPrefix(rest, "/"):
		kind, size = tOpenEndBlock, n+1
	case strings.HasPrefix(rest, "^"):
		kind, size = tOpenInverse, n+1
	case elseKeyword(rest) > 0:
		kind, size = tOpenChain, n+elseKeyword(rest)
	case strings.HasPrefix(rest, "{"):
		kind, size = tOpenUnescaped, n+1
	case strings.HasPrefix(rest, "&"):
		kind, size = tOpen, n+1
	case strings.HasPrefix(rest, "*"):
		kind, size = tOpenDecorator, n+1
	}
	l.emit(kind, s[:size], start)
	l.pos = start + size
	return l.expression(false)
}

// findCommentEnd finds the end (past "}}") of a {{!-- comment whose body
// starts at s[from:]: the first "--}}" or "--~}}".
func findCommentEnd(s string, from int) int {
	// {{!--}} counts as complete, as in handlebars.js.
	for i := from - 2; ; {
		j := strings.Index(s[i:], "--")
		if j < 0 {
			return -1
		}
		k := i + j + 2
		if strings.HasPrefix(s[k:], "}}") {
			return k + 2
		}
		if strings.HasPrefix(s[k:], "~}}") {
			return k + 3
		}
		i += j + 1
	}
}

// inverseTag returns the length of a standalone {{^}} / {{else}} tag at
// the start of s (n is the length of "{{" plus any "~"), or 0.
func inverseTag(s string, n int) int {
	i := n
	if i < len(s) && s[i] == '^' {
		i++
	} else {
		i = skipSpace(s, i)
		if !strings.HasPrefix(s[i:], "else") {
			return 0
		}
		i += 4
	}
	i = skipSpace(s, i)
	if i < len(s) && s[i] == '~' {
		i++
	}
	if strings.HasPrefix(s[i:], "}}") {
		return i + 2
	}
	return 0
}

// elseKeyword returns the length of whitespace + "else" at the start of s
// (the opening of {{else if …}}), or 0.
func elseKeyword(s string) int {
	i := skipSpace(s, 0)
	// The keyword must end at a word boundary: {{elsewhere}} and
	// {{else_x}} are mustaches, {{else-x}} is not.
	if strings.HasPrefix(s[i:], "else") && (i+4 == len(s) || !isWordByte(s[i+4])) {
		return i + 4
	}
	return 0
}

func skipSpace(s string, i int) int {
	for i < len(s) {
		r, n := utf8.DecodeRuneInString(s[i:])
		if !jsSpace(r) {
			break
		}
		i += n
	}
	return i
}

// lookahead reports whether s[i:] starts with a character that may follow
// an identifier (Handlebars' LOOKAHEAD: = ~ } whitespace / . ) |).
func lookahead(s string, i int) bool {
	if i >= len(s) {
		return false
	}
	switch s[i] {
	case '=', '~', '}', '/', '.', ')', '|':
		return true
	}
	r, _ := utf8.DecodeRuneInString(s[i:])
	return jsSpace(r)
}

// literalLookahead is Handlebars' LITERAL_LOOKAHEAD: ~ } whitespace ).
func literalLookahead(s string, i int) bool {
	if i >= len(s) {
		return false
	}
	switch s[i] {
	case '~', '}', ')':
		return true
	}
	r, _ := utf8.DecodeRuneInString(s[i:])
	return jsSpace(r)
}

// idRune reports whether r may appear in an identifier.
func idRune(r rune) bool {
	if r < utf8.RuneSelf {
		switch {
		case r <= ' ', r == '!', r == '"', r == '#', r >= '%' && r <= ',', r == '.', r == '/',
			r >= ';' && r <= '>', r == '@', r >= '[' && r <= '^', r == '`', r >= '{' && r <= '~', r == 0x7f:
			return false
		}
		return true
	}
	return !jsSpace(r)
}

// expression scans the inside of a tag up to and including its closing
// delimiter. raw means the tag opened a raw block and ends with }}}}.
func (l *lexer) expression(raw bool) bool {
	s := l.src
	for {
		i := l.pos
		if i >= len(s) {
			l.emit(tEOF, "", len(s))
			return false
		}
		c := s[i]
		switch {
		case strings.HasPrefix(s[i:], "}}}}"):
			l.emit(tCloseRawBlock, "}}}}", i)
			l.pos = i + 4
			if raw {
				return l.rawContent()
			}
			return true
		case strings.HasPrefix(s[i:], "}~}}"):
			l.emit(tCloseUnescaped, "}~}}", i)
			l.pos = i + 4
			return true
		case strings.HasPrefix(s[i:], "}}}"):
			l.emit(tCloseUnescaped, "}}}", i)
			l.pos = i + 3
			return true
		case strings.HasPrefix(s[i:], "~}}"):
			l.emit(tClose, "~}}", i)
			l.pos = i + 3
			return true
		case strings.HasPrefix(s[i:], "}}"):
			l.emit(tClose, "}}", i)
			l.pos = i + 2
			return true
		case c == '(':
			l.emit(tOpenSexpr, "(", i)
			l.pos++
		case c == ')':
			l.emit(tCloseSexpr, ")", i)
			l.pos++
		case c == '=':
			l.emit(tEquals, "=", i)
			l.pos++
		case c == '@':
			l.emit(tData, "@", i)
			l.pos++
		case c == '|':
			l.emit(tCloseBlockParams, "|", i)
			l.pos++
		case strings.HasPrefix(s[i:], ".."):
			l.emit(tID, "..", i)
			l.pos += 2
		case c == '.' && lookahead(s, i+1):
			l.emit(tID, ".", i)
			l.pos++
		case c == '.' || c == '/':
			l.emit(tSep, s[i:i+1], i)
			l.pos++
		case c == '"' || c == '\'':
			if !l.str(c) {
				return false
			}
		case c == '[':
			end := -1
			for k := i + 1; k < len(s); k++ {
				if s[k] == '\\' && k+1 < len(s) && s[k+1] == ']' {
					k++
					continue
				}
				if s[k] == ']' {
					end = k
					break
				}
			}
			if end < 0 {
				l.fail(i, "unclosed [ in a path: expected ]")
				return false
			}
			lit := strings.NewReplacer(`\]`, `]`, `\\`, `\`).Replace(s[i : end+1])
			l.emit(tID, lit, i)
			l.pos = end + 1
		default:
			r, size := utf8.DecodeRuneInString(s[i:])
			if jsSpace(r) {
				l.pos += size
				continue
			}
			l.word()
		}
	}
}

// str scans a string literal; \" (or \') stands for the quote.
func (l *lexer) str(q byte) bool {
	start := l.pos
	s := l.src
	var b strings.Builder
	for i := start + 1; i < len(s); i++ {
		switch {
		case s[i] == '\\' && i+1 < len(s) && s[i+1] == q:
			b.WriteByte(q)
			i++
		case s[i] == q:
			l.emit(tString, b.String(), start)
			l.pos = i + 1
			return true
		default:
			b.WriteByte(s[i])
		}
	}
	l.fail(start, "unterminated string")
	return false
}

// word scans keywords, numbers and identifiers at l.pos, applying the
// lookahead rules; anything else is an invalid character.
func (l *lexer) word() {
	s, i := l.src, l.pos
	for _, kw := range [...]struct {
		word string
		kind tokenKind
	}{{"true", tBoolean}, {"false", tBoolean}, {"undefined", tUndefined}, {"null", tNull}} {
		if strings.HasPrefix(s[i:], kw.word) && literalLookahead(s, i+len(kw.word)) {
			l.emit(kw.kind, kw.word, i)
			l.pos += len(kw.word)
			return
		}
	}
	if n := numberLen(s[i:]); n > 0 && literalLookahead(s, i+n) {
		l.emit(tNumber, s[i:i+n], i)
		l.pos += n
		return
	}
	if strings.HasPrefix(s[i:], "as") {
		if j := skipSpace(s, i+2); j > i+2 && j < len(s) && s[j] == '|' {
			l.emit(tOpenBlockParams, s[i:j+1], i)
			l.pos = j + 1
			return
		}
	}
	j := i
	for j < len(s) {
		r, size := utf8.DecodeRuneInString(s[j:])
		if !idRune(r) {
			break
		}
		j += size
	}
	if j > i && (j == len(s) || lookahead(s, j)) {
		l.emit(tID, s[i:j], i)
		l.pos = j
		return
	}
	r, size := utf8.DecodeRuneInString(s[i:])
	if j > i {
		r, size = utf8.DecodeRuneInString(s[j:])
		i = j
	}
	l.emit(tInvalid, string(r), i)
	l.pos = i + size
}

// numberLen returns the length of -?[0-9]+(\.[0-9]+)? at the start of s.
func numberLen(s string) int {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	d := i
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == d {
		return 0
	}
	if i+1 < len(s) && s[i] == '.' && s[i+1] >= '0' && s[i+1] <= '9' {
		i++
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
	}
	return i
}

// rawContent scans the content of a raw block up to its {{{{/name}}}},
// keeping nested {{{{x}}}}…{{{{/x}}}} pairs as text.
func (l *lexer) rawContent() bool {
	s := l.src
	start := l.pos
	depth := 0
	for i := start; ; {
		j := strings.Index(s[i:], "{{{{")
		if j < 0 {
			l.fail(start, "unclosed raw block: expected {{{{/name}}}}")
			return false
		}
		at := i + j
		if at+4 < len(s) && s[at+4] != '/' {
			depth++
			i = at + 4
			continue
		}
		name, end := rawEnd(s, at)
		if end < 0 {
			i = at + 4
			continue
		}
		if depth > 0 {
			depth--
			i = end
			continue
		}
		if at > start {
			l.emit(tContent, s[start:at], start)
		}
		l.emit(tEndRawBlock, name, at)
		l.pos = end
		return true
	}
}

// rawEnd matches {{{{/name}}}} at s[at:], returning the name and the end.
func rawEnd(s string, at int) (string, int) {
	i := at + 5
	j := i
	for j < len(s) {
		r, size := utf8.DecodeRuneInString(s[j:])
		if !idRune(r) {
			break
		}
		j += size
	}
	if j == i || !strings.HasPrefix(s[j:], "}}}}") {
		return "", -1
	}
	return s[i:j], j + 4
}
