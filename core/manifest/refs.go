package manifest

import "strings"

// Ref is a data path a Handlebars template reads, resolved against the
// template's root context.
type Ref struct {
	Segs []string // path segments from the root ("formVariables", "apiKey")
	Off  int      // byte offset of the path in the template source
	// Param marks an argument of a helper ({{#if x}}, {{pathEncode x}},
	// hash values, subexpressions) rather than a value printed or a block
	// opened on ({{x}}, {{#x}}). Handlebars' strict mode, which the
	// framework's tests render with, lets an argument's last segment be
	// missing; anywhere else a missing segment throws.
	Param bool
}

// StrictFails reports whether the framework's strict-mode render throws
// when segment missing (an index into Segs) of r does not exist.
func (r Ref) StrictFails(missing int) bool {
	return !r.Param || missing < len(r.Segs)-1
}

// scanRefs lists the root-relative paths src reads. It is a lenient
// scanner, not a parser: it understands enough Handlebars (comments, raw
// and escaped mustaches, blocks that change the context, block params,
// sub-expressions, hash arguments, literals) to tell which names a
// template looks up at the root, which is what declaration checks need.
// Malformed tags are skipped; render.Parse reports them.
func scanRefs(src string) []Ref {
	var refs []Ref
	type block struct {
		name     string
		scoped   bool     // the body runs in a new context (each, with)
		inverse  bool     // inside {{else}}: back in the outer context
		params   []string // block params (as |x y|)
		hasDepth bool
	}
	var stack []block
	depth := func() int {
		n := 0
		for _, b := range stack {
			if b.scoped && !b.inverse {
				n++
			}
		}
		return n
	}
	shadowed := func(name string) bool {
		for _, b := range stack {
			if !b.inverse && contains(b.params, name) {
				return true
			}
		}
		return false
	}
	i := 0
	for {
		j := strings.Index(src[i:], "{{")
		if j < 0 {
			break
		}
		start := i + j
		if start > 0 && src[start-1] == '\\' {
			// \{{ is literal text.
			i = start + 2
			continue
		}
		// Comments.
		if strings.HasPrefix(src[start:], "{{!--") || strings.HasPrefix(src[start:], "{{~!--") {
			end := strings.Index(src[start:], "--}}")
			if end < 0 {
				end = strings.Index(src[start:], "--~}}")
			}
			if end < 0 {
				break
			}
			i = start + end + 4
			continue
		}
		k := start + 2
		raw := false
		if strings.HasPrefix(src[k:], "{{") { // {{{{raw}}}} block: skip it whole
			end := strings.Index(src[k:], "}}}}")
			if end < 0 {
				break
			}
			name := strings.TrimSpace(src[k+2 : k+end])
			closeTag := "{{{{/" + name + "}}}}"
			ce := strings.Index(src[k+end:], closeTag)
			if ce < 0 {
				break
			}
			i = k + end + ce + len(closeTag)
			continue
		}
		if k < len(src) && src[k] == '{' {
			raw = true
			k++
		}
		if k < len(src) && src[k] == '~' {
			k++
		}
		closer := "}}"
		if raw {
			closer = "}}}"
		}
		end := indexOutsideQuotes(src[k:], closer)
		if end < 0 {
			break
		}
		body := src[k : k+end]
		bodyOff := k
		i = k + end + len(closer)
		body = strings.TrimSuffix(body, "~")
		if strings.HasPrefix(body, "!") {
			continue
		}
		sigil := byte(0)
		if len(body) > 0 && strings.IndexByte("#/^>&", body[0]) >= 0 {
			sigil = body[0]
			body = body[1:]
			bodyOff++
			if sigil == '#' && strings.HasPrefix(body, "*") { // decorator
				continue
			}
		}
		toks := tokenize(body, bodyOff)
		switch sigil {
		case '/':
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
			continue
		case '>':
			// Partials: the name is not a lookup; arguments are.
			if len(toks) > 0 {
				toks = toks[1:]
			}
			collect(&refs, toks, depth(), shadowed, false)
			continue
		}
		if sigil == 0 && len(toks) > 0 && toks[0].text == "else" && toks[0].kind == tokPath {
			if len(stack) > 0 {
				top := &stack[len(stack)-1]
				top.inverse = true
				if len(toks) > 1 { // {{else if x}}: a chained helper in the outer context
					collect(&refs, toks[1:], depth(), shadowed, true)
				}
			}
			continue
		}
		if sigil == '^' && len(toks) == 0 { // {{^}} is else
			if len(stack) > 0 {
				stack[len(stack)-1].inverse = true
			}
			continue
		}
		params, toks := blockParams(toks)
		helperCall := len(toks) > 1 || (len(toks) == 1 && isKnownHelper(toks[0].text))
		collect(&refs, toks, depth(), shadowed, helperCall)
		if sigil == '#' || sigil == '^' {
			name := ""
			if len(toks) > 0 {
				name = toks[0].text
			}
			scoped := name == "each" || name == "with" || (sigil == '#' && len(toks) == 1 && !isKnownHelper(name))
			stack = append(stack, block{name: name, scoped: scoped, params: params})
		}
	}
	return refs
}

// isKnownHelper lists the helpers the framework registers and Handlebars'
// built-ins: names that are calls, not data, even without arguments.
func isKnownHelper(name string) bool {
	switch name {
	case "if", "unless", "each", "with", "lookup", "log", "equal", "equalWithElse",
		"pathEncode", "queryEncode", "basicAuthHeaderValue", "formatWithOffset":
		return true
	}
	return false
}

// blockParams removes a trailing "as |a b|" and returns the names.
func blockParams(toks []token) ([]string, []token) {
	for n := range toks {
		if toks[n].kind == tokPath && toks[n].text == "as" && n+1 < len(toks) && toks[n+1].kind == tokPipe {
			var names []string
			for _, t := range toks[n+2:] {
				if t.kind == tokPipe {
					break
				}
				names = append(names, t.text)
			}
			return names, toks[:n]
		}
	}
	return nil, toks
}

// collect records the root-relative paths among toks. When helperCall is
// set the first token names the helper rather than data.
func collect(refs *[]Ref, toks []token, depth int, shadowed func(string) bool, helperCall bool) {
	first := true
	atHead := true // the next path token is the head of an expression
	for n, t := range toks {
		switch t.kind {
		case tokOpen:
			atHead = true
			continue
		case tokPath:
			if (first && helperCall) || (atHead && !first) {
				// Head of the mustache (a helper) or of a sub-expression.
				// A sub-expression head is always a helper call.
				first, atHead = false, false
				continue
			}
			first, atHead = false, false
			if n+1 < len(toks) && toks[n+1].kind == tokEquals {
				continue // hash key
			}
			if segs, ok := resolve(t.text, depth); ok && !shadowed(segs[0]) {
				*refs = append(*refs, Ref{Segs: segs, Off: t.off, Param: helperCall})
			}
		default:
			first, atHead = false, false
		}
	}
}

// resolve turns a path expression into root-relative segments, or false
// when it does not start at the root (inside each/with, data variables,
// this).
func resolve(path string, depth int) ([]string, bool) {
	if strings.HasPrefix(path, "@root.") || strings.HasPrefix(path, "@root/") {
		return splitPath(path[len("@root."):]), len(path) > len("@root.")
	}
	if strings.HasPrefix(path, "@") {
		return nil, false
	}
	up := 0
	for strings.HasPrefix(path, "../") {
		up++
		path = path[3:]
	}
	path = strings.TrimPrefix(path, "./")
	if path == "this" || path == "." {
		return nil, false
	}
	if strings.HasPrefix(path, "this.") || strings.HasPrefix(path, "this/") {
		path = path[5:]
	}
	if depth-up != 0 {
		return nil, false
	}
	segs := splitPath(path)
	if len(segs) == 0 || segs[0] == "" {
		return nil, false
	}
	return segs, true
}

// splitPath splits "a.b/[c d].e" into segments, unwrapping [literal]
// segments.
func splitPath(p string) []string {
	var segs []string
	for p != "" {
		if p[0] == '[' {
			end := strings.IndexByte(p, ']')
			if end < 0 {
				segs = append(segs, p[1:])
				break
			}
			segs = append(segs, p[1:end])
			p = p[end+1:]
			if p != "" && (p[0] == '.' || p[0] == '/') {
				p = p[1:]
			}
			continue
		}
		end := strings.IndexAny(p, "./")
		if end < 0 {
			segs = append(segs, p)
			break
		}
		segs = append(segs, p[:end])
		p = p[end+1:]
	}
	return segs
}

type tokKind uint8

const (
	tokPath tokKind = iota
	tokLiteral
	tokOpen
	tokClose
	tokEquals
	tokPipe
)

type token struct {
	kind tokKind
	text string
	off  int
}

// tokenize splits a mustache body into paths, literals and punctuation.
func tokenize(s string, base int) []token {
	var toks []token
	i := 0
	for i < len(s) {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '~':
			i++
		case c == '(':
			toks = append(toks, token{kind: tokOpen, off: base + i})
			i++
		case c == ')':
			toks = append(toks, token{kind: tokClose, off: base + i})
			i++
		case c == '=':
			toks = append(toks, token{kind: tokEquals, off: base + i})
			i++
		case c == '|':
			toks = append(toks, token{kind: tokPipe, off: base + i})
			i++
		case c == '"' || c == '\'':
			j := i + 1
			for j < len(s) && s[j] != c {
				if s[j] == '\\' {
					j++
				}
				j++
			}
			toks = append(toks, token{kind: tokLiteral, text: s[i:min(j+1, len(s))], off: base + i})
			i = j + 1
		default:
			j := i
			for j < len(s) {
				ch := s[j]
				if ch == '[' {
					end := strings.IndexByte(s[j:], ']')
					if end < 0 {
						j = len(s)
						break
					}
					j += end + 1
					continue
				}
				if ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '(' || ch == ')' || ch == '=' || ch == '|' || ch == '~' {
					break
				}
				j++
			}
			if j == i {
				j = i + 1
			}
			word := s[i:j]
			kind := tokPath
			if isLiteralWord(word) {
				kind = tokLiteral
			}
			toks = append(toks, token{kind: kind, text: word, off: base + i})
			i = j
		}
	}
	return toks
}

func isLiteralWord(w string) bool {
	switch w {
	case "true", "false", "null", "undefined":
		return true
	}
	c := w[0]
	return c == '-' || (c >= '0' && c <= '9')
}

// indexOutsideQuotes finds closer in s, skipping quoted strings.
func indexOutsideQuotes(s, closer string) int {
	var q byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		if q != 0 {
			if c == q {
				q = 0
			}
			continue
		}
		if c == '"' || c == '\'' {
			q = c
			continue
		}
		if strings.HasPrefix(s[i:], closer) {
			return i
		}
	}
	return -1
}

// TemplateRefs lists the root-relative data paths a Handlebars template
// reads, with their offsets: for an endpoint template, the form variables
// (and context, oauth) it uses; for a body template, the context fields and
// formVariables.* it uses. Paths inside each/with blocks are relative to
// the block's item and are not listed.
func TemplateRefs(src string) []Ref { return scanRefs(src) }
