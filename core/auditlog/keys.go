package auditlog

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Limits on the entry fields that serve as keys. An entry is stored and
// deduplicated by its _id, its kind picks a template, its accesses are what
// policies match and what each delivery's stored reason quotes. Two
// different keys must stay different wherever they go (the store, delivery
// ids, logs), so each must be text: valid Unicode without control
// characters, of a bounded length. LaunchDarkly's ids are 24 hex digits
// (ObjectIds), kinds and actions short words; the bounds leave room for
// ids from elsewhere (tests, imports) without letting a key grow with the
// body.
const (
	MaxIDBytes       = 128
	MaxKindBytes     = 64
	MaxActionBytes   = 256
	MaxResourceBytes = 8 << 10
)

// keyProblem says why s cannot serve as a key of at most max bytes, or ""
// when it can.
func keyProblem(s string, max int) string {
	if len(s) > max {
		return fmt.Sprintf("%d bytes", len(s))
	}
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			if sur, ok := wtf8Surrogate(s[i:]); ok {
				return fmt.Sprintf("a lone surrogate \\u%04x at byte %d", sur, i)
			}
			return fmt.Sprintf("invalid UTF-8 at byte %d", i)
		case isControl(r):
			return fmt.Sprintf("a control character %U at byte %d", r, i)
		}
		i += n
	}
	return ""
}

// wtf8Surrogate decodes the lone surrogate jsonv keeps as WTF-8 (from an
// escape such as \ud800) at the start of s.
func wtf8Surrogate(s string) (rune, bool) {
	if len(s) < 3 || s[0] != 0xED || s[1] < 0xA0 || s[1] > 0xBF || s[2]&0xC0 != 0x80 {
		return 0, false
	}
	return rune(s[0]&0x0F)<<12 | rune(s[1]&0x3F)<<6 | rune(s[2]&0x3F), true
}

// isControl reports the C0 and C1 control characters and DEL.
func isControl(r rune) bool {
	return r < 0x20 || (r >= 0x7F && r < 0xA0)
}

// displayText makes s fit to show in a list and to store in a text column:
// what is not valid Unicode, and control characters, become U+FFFD (line
// breaks and tabs a space), and it is cut to max bytes with "…". Summary
// fields are for display, and PostgreSQL refuses text holding NUL or
// surrogates: an entry whose title carries "\u0000" must still be stored.
func displayText(s string, max int) string {
	clean := len(s) <= max
	for i := 0; clean && i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7F {
			clean = false
		}
	}
	if clean {
		return s // ASCII without controls: the common case
	}
	var b strings.Builder
	b.Grow(min(len(s), max+len("…")))
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			if _, ok := wtf8Surrogate(s[i:]); ok {
				n = 3
			}
			r = utf8.RuneError
		case r == '\n' || r == '\r' || r == '\t':
			r = ' '
		case isControl(r):
			r = utf8.RuneError
		}
		if b.Len()+utf8.RuneLen(r) > max {
			b.WriteString("…")
			break
		}
		b.WriteRune(r)
		i += n
	}
	return b.String()
}
