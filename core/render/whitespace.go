package render

// Whitespace control, as handlebars.js 4.7.7 applies it after parsing:
//
//   - "~" in a tag ({{~x}}, {{x~}}) removes all whitespace on that side, up
//     to the nearest non-whitespace text.
//   - A block tag ({{#x}}, {{else}}, {{/x}}) or comment that is alone on its
//     line ("standalone") is removed together with its indentation and line
//     break.
//
// Two details decide byte-identical output and are where raymond differs:
// standalone tests look at a text node's original text, not at what an
// earlier rule already trimmed from it (so a standalone {{/if}} followed by
// a standalone {{#if}} on the next line are both removed), and at the top
// level of the template a tag that is the first or last node counts as
// standing at a line boundary.

// wsStrip is what a statement tells its program about its tags.
type wsStrip struct {
	open, close      bool // "~" before / after the statement
	openStandalone   bool // a block whose program starts with a line break
	closeStandalone  bool // a block whose (first) inverse or program ends with one
	inlineStandalone bool // a comment: standalone if alone on its line
}

type wsControl struct {
	rootSeen bool
}

func applyWhitespaceControl(root *programNode) {
	w := &wsControl{}
	w.program(root)
}

func (w *wsControl) program(p *programNode) {
	isRoot := !w.rootSeen
	w.rootSeen = true
	body := p.body
	for i, s := range body {
		var st wsStrip
		var b *blockNode
		switch n := s.(type) {
		case *mustacheNode:
			st = wsStrip{open: n.strip.open, close: n.strip.close}
		case *commentNode:
			st = wsStrip{open: n.strip.open, close: n.strip.close, inlineStandalone: true}
		case *blockNode:
			b = n
			st = w.block(n)
		default:
			continue
		}
		prevWS := prevIsSpace(body, i, isRoot)
		nextWS := nextIsSpace(body, i, isRoot)
		if st.close {
			omitRight(body, i, true)
		}
		if st.open {
			omitLeft(body, i, true)
		}
		if st.inlineStandalone && prevWS && nextWS {
			omitRight(body, i, false)
			omitLeft(body, i, false)
		}
		if st.openStandalone && prevWS {
			first := b.prog
			if first == nil {
				first = b.inv
			}
			omitRight(first.body, -1, false)
			omitLeft(body, i, false)
		}
		if st.closeStandalone && nextWS {
			omitRight(body, i, false)
			last := b.inv
			if last == nil {
				last = b.prog
			}
			omitLeft(last.body, len(last.body), false)
		}
	}
}

func (w *wsControl) block(b *blockNode) wsStrip {
	if b.prog != nil {
		w.program(b.prog)
	}
	if b.inv != nil {
		w.program(b.inv)
	}
	program, inverse := b.prog, b.inv
	if program == nil {
		program, inverse = b.inv, nil
	}
	firstInv, lastInv := inverse, inverse
	if inverse != nil && inverse.chained {
		firstInv = inverse.body[0].(*blockNode).prog
		for lastInv.chained {
			lastInv = lastInv.body[len(lastInv.body)-1].(*blockNode).prog
		}
	}
	closeSide := program
	if firstInv != nil {
		closeSide = firstInv
	}
	st := wsStrip{
		open:            b.openStrip.open,
		close:           b.closeStrip.close,
		openStandalone:  nextIsSpace(program.body, -1, false),
		closeStandalone: prevIsSpace(closeSide.body, len(closeSide.body), false),
	}
	if b.openStrip.close {
		omitRight(program.body, -1, true)
	}
	if inverse != nil {
		if b.invStrip.open {
			omitLeft(program.body, len(program.body), true)
		}
		if b.invStrip.close {
			omitRight(firstInv.body, -1, true)
		}
		if b.closeStrip.open {
			omitLeft(lastInv.body, len(lastInv.body), true)
		}
		// A standalone {{else}}.
		if prevIsSpace(program.body, len(program.body), false) && nextIsSpace(firstInv.body, -1, false) {
			omitLeft(program.body, len(program.body), false)
			omitRight(firstInv.body, -1, false)
		}
	} else if b.closeStrip.open {
		omitLeft(program.body, len(program.body), true)
	}
	return st
}

// prevIsSpace reports whether the node before body[i] is text ending in a
// line break followed only by whitespace. With no node before, the answer is
// isRoot; at the top level the template's first text node may also be all
// whitespace.
func prevIsSpace(body []stmt, i int, isRoot bool) bool {
	if i <= 0 {
		return isRoot
	}
	c, ok := body[i-1].(*contentNode)
	if !ok {
		return false
	}
	lenient := isRoot && i-2 < 0
	return trailingSpaceHasNewline(c.original, lenient)
}

// nextIsSpace is prevIsSpace for the node after body[i]: text starting with
// whitespace up to a line break.
func nextIsSpace(body []stmt, i int, isRoot bool) bool {
	if i+1 >= len(body) {
		return isRoot
	}
	c, ok := body[i+1].(*contentNode)
	if !ok {
		return false
	}
	lenient := isRoot && i+2 >= len(body)
	return leadingSpaceHasNewline(c.original, lenient)
}

// trailingSpaceHasNewline reports whether the whitespace at the end of s
// contains "\n"; if s is whitespace only, allWhitespace is the answer
// unless a newline was seen.
func trailingSpaceHasNewline(s string, allWhitespace bool) bool {
	for i := len(s); i > 0; {
		r, n := lastRune(s[:i])
		if !jsSpace(r) {
			return false
		}
		if r == '\n' {
			return true
		}
		i -= n
	}
	return allWhitespace
}

func leadingSpaceHasNewline(s string, allWhitespace bool) bool {
	for i := 0; i < len(s); {
		r, n := firstRune(s[i:])
		if !jsSpace(r) {
			return false
		}
		if r == '\n' {
			return true
		}
		i += n
	}
	return allWhitespace
}

// omitRight trims the start of the text node after body[i] (i = -1: the
// first node). multiple removes all whitespace; otherwise only spaces and
// tabs and one line break, and only once per node.
func omitRight(body []stmt, i int, multiple bool) {
	if i+1 < 0 || i+1 >= len(body) {
		return
	}
	c, ok := body[i+1].(*contentNode)
	if !ok || (!multiple && c.rightStripped) {
		return
	}
	before := c.value
	if multiple {
		c.value = trimLeftSpace(c.value)
	} else {
		c.value = trimLineStart(c.value)
	}
	c.rightStripped = c.value != before
}

// omitLeft trims the end of the text node before body[i] (i = len(body):
// the last node).
func omitLeft(body []stmt, i int, multiple bool) {
	if i-1 < 0 || i-1 >= len(body) {
		return
	}
	c, ok := body[i-1].(*contentNode)
	if !ok || (!multiple && c.leftStripped) {
		return
	}
	before := c.value
	if multiple {
		c.value = trimRightSpace(c.value)
	} else {
		j := len(c.value)
		for j > 0 && (c.value[j-1] == ' ' || c.value[j-1] == '\t') {
			j--
		}
		c.value = c.value[:j]
	}
	c.leftStripped = c.value != before
}

// trimLineStart removes leading spaces and tabs, then one "\r\n", "\n" or
// "\r".
func trimLineStart(s string) string {
	i := 0
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	if i < len(s) && s[i] == '\r' {
		i++
	}
	if i < len(s) && s[i] == '\n' {
		i++
	}
	return s[i:]
}

func trimLeftSpace(s string) string {
	for len(s) > 0 {
		r, n := firstRune(s)
		if !jsSpace(r) {
			break
		}
		s = s[n:]
	}
	return s
}

func trimRightSpace(s string) string {
	for len(s) > 0 {
		r, n := lastRune(s)
		if !jsSpace(r) {
			break
		}
		s = s[:len(s)-n]
	}
	return s
}

// jsSpace reports whether r matches JavaScript's \s.
func jsSpace(r rune) bool {
	switch r {
	case '\t', '\n', '\v', '\f', '\r', ' ', 0xA0, 0x1680, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000, 0xFEFF:
		return true
	}
	return r >= 0x2000 && r <= 0x200A
}
