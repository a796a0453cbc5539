package auditlog

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// renderSimple renders, without a markdown parser, the one shape nearly
// every LaunchDarkly title has: words, [text](url) links and `code` spans
// on one line. Parsing it with goldmark was a twentieth of the relay's
// CPU per event. For anything else (emphasis, escapes, entities, HTML,
// line breaks, a character that could open a block or an image) it
// reports false and the caller parses; FuzzRenderSimple holds its output
// to goldmark's for every input it accepts.
func renderSimple(src string) (rendered, bool) {
	if src == "" || !simpleStart(src[0]) || src[len(src)-1] == ' ' {
		return rendered{}, false
	}
	var plain, html strings.Builder
	plain.Grow(len(src))
	html.Grow(len(src) + 32)
	for i := 0; i < len(src); {
		switch c := src[i]; c {
		case '[':
			text, dest, n, ok := simpleLink(src[i:])
			if !ok {
				return rendered{}, false
			}
			plain.WriteString(text)
			html.WriteString(`<a href="`)
			html.WriteString(dest)
			html.WriteString(`">`)
			html.WriteString(text)
			html.WriteString("</a>")
			i += n
		case '`':
			code, n, ok := simpleCode(src[i:])
			if !ok {
				return rendered{}, false
			}
			plain.WriteByte('\'')
			plain.WriteString(code)
			plain.WriteByte('\'')
			html.WriteString("<code>")
			html.WriteString(code)
			html.WriteString("</code>")
			i += n
		default:
			n := simpleTextLen(src[i:], false)
			if n == 0 {
				return rendered{}, false
			}
			plain.WriteString(src[i : i+n])
			html.WriteString(src[i : i+n])
			i += n
		}
	}
	return rendered{plainText: plain.String(), markdown: src, html: html.String()}, true
}

// simpleStart: a line starting with anything else could be a list item,
// heading, quote, indented code or thematic break.
func simpleStart(c byte) bool {
	return c == '[' || c == '`' || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z')
}

// simpleTextLen is the length of the run of plain text at the start of s:
// characters that are text wherever they stand on a line that starts with
// a letter, and that HTML shows as they are. In a link's text, the
// parentheses end the run too.
func simpleTextLen(s string, inLink bool) int {
	i := 0
	for i < len(s) {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError || !unicode.IsLetter(r) && !unicode.IsDigit(r) {
				return i
			}
			i += size
			continue
		}
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == ' ' || c == '.' || c == ',' || c == ':' || c == ';' || c == '-' || c == '\'' ||
			c == '/' || c == '?' || c == '=' || c == '@' || c == '+' || c == '%' || c == '$' || c == '#':
		case (c == '(' || c == ')') && !inLink:
		default:
			return i
		}
		i++
	}
	return i
}

// simpleLink reads "[text](dest)" at the start of s: text as plain text,
// dest from the characters an URL keeps as they are in goldmark's href
// (no percent sign, no scheme goldmark refuses).
func simpleLink(s string) (text, dest string, n int, ok bool) {
	t := simpleTextLen(s[1:], true)
	if t == 0 || 1+t+1 >= len(s) || s[1+t] != ']' || s[2+t] != '(' {
		return "", "", 0, false
	}
	text = s[1 : 1+t]
	if text[0] == ' ' || text[len(text)-1] == ' ' {
		return "", "", 0, false
	}
	rest := s[3+t:]
	d := 0
	for d < len(rest) && simpleURLByte(rest[d]) {
		d++
	}
	if d == 0 || d == len(rest) || rest[d] != ')' {
		return "", "", 0, false
	}
	dest = rest[:d]
	if lower := strings.ToLower(dest); strings.HasPrefix(lower, "javascript:") || strings.HasPrefix(lower, "vbscript:") ||
		strings.HasPrefix(lower, "file:") || strings.HasPrefix(lower, "data:") {
		return "", "", 0, false
	}
	return text, dest, 3 + t + d + 1, true
}

func simpleURLByte(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("-._~:/?#@+=,;", c) >= 0
}

// simpleCode reads a `code` span at the start of s: single backticks, no
// space at either end (goldmark strips one), nothing HTML escapes.
func simpleCode(s string) (code string, n int, ok bool) {
	end := strings.IndexByte(s[1:], '`')
	if end <= 0 {
		return "", 0, false
	}
	code = s[1 : 1+end]
	if 2+end < len(s) && s[2+end] == '`' {
		return "", 0, false
	}
	if code[0] == ' ' || code[len(code)-1] == ' ' {
		return "", 0, false
	}
	for i := 0; i < len(code); {
		c := code[i]
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(code[i:])
			if r == utf8.RuneError || unicode.IsSpace(r) || unicode.IsControl(r) {
				return "", 0, false
			}
			i += size
			continue
		}
		if c < ' ' || c == 0x7f || c == '<' || c == '>' || c == '&' || c == '"' {
			return "", 0, false
		}
		i++
	}
	return code, 2 + end, true
}
