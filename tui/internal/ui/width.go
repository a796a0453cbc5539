package ui

import (
	"unicode/utf8"

	"github.com/charmbracelet/x/ansi"
)

// Width is the number of terminal cells s takes; escape sequences take
// none. Lines made of ASCII, the symbols the console draws with (box
// drawing, arrows, check marks, blocks) and Latin letters are measured
// here without grapheme segmentation, which dominates drawing time
// otherwise; anything else (CJK, emoji, combining marks) goes to
// ansi.StringWidth. TestWidthMatchesAnsi checks every fast-path rune.
func Width(s string) int {
	n := 0
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == 0x1b:
			j, ok := skipEscape(s, i)
			if !ok {
				return ansi.StringWidth(s)
			}
			i = j
		case c < 0x20 || c == 0x7f:
			return ansi.StringWidth(s)
		case c < utf8.RuneSelf:
			n++
			i++
		default:
			r, size := utf8.DecodeRuneInString(s[i:])
			if !narrow(r) {
				return ansi.StringWidth(s)
			}
			n++
			i += size
		}
	}
	return n
}

// narrow reports whether r is one cell wide and never part of a wider
// grapheme cluster on its own.
func narrow(r rune) bool {
	switch {
	case r >= 0xA0 && r <= 0x2FF:
		return r != 0xAD // soft hyphen takes no cell
	case r >= 0x2010 && r <= 0x2027, r >= 0x2030 && r <= 0x205E: // punctuation: – — ‖ • … ‹ ›
		return true
	case r >= 0x2190 && r <= 0x22FF: // arrows, math: → ⊘
		return true
	case r >= 0x2500 && r <= 0x25FC: // box drawing, blocks, shapes: ━ ┃ ▁ █ ● ◌
		return true
	case r >= 0x2713 && r <= 0x2718: // ✓ ✗
		return true
	case r >= 0x27F0 && r <= 0x27FF: // ⟳
		return true
	}
	return false
}

// skipEscape returns the index after the escape sequence at s[i] (CSI or
// OSC), or false when it is not one it recognizes.
func skipEscape(s string, i int) (int, bool) {
	if i+1 >= len(s) {
		return 0, false
	}
	switch s[i+1] {
	case '[': // CSI: parameters, then a final byte in 0x40–0x7E
		for j := i + 2; j < len(s); j++ {
			if s[j] >= 0x40 && s[j] <= 0x7e {
				return j + 1, true
			}
		}
	case ']': // OSC: ends with BEL or ESC \
		for j := i + 2; j < len(s); j++ {
			if s[j] == 0x07 {
				return j + 1, true
			}
			if s[j] == 0x1b && j+1 < len(s) && s[j+1] == '\\' {
				return j + 2, true
			}
		}
	}
	return 0, false
}
