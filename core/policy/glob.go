package policy

import "strings"

// glob is a compiled pattern in which "*" matches any run of characters,
// including none. Matching is anchored at both ends. Every other character,
// including "?" and "[", stands for itself (guide §7 A9).
type glob struct {
	pat   string
	any   bool     // the pattern is "*" alone
	parts []string // pat split on "*"; nil when pat has no "*"
	shape uint8    // globPrefix and globSuffix are matched without the general loop
}

const (
	globGeneral uint8 = iota
	globPrefix        // "abc*"
	globSuffix        // "*abc"
)

func compileGlob(pat string) glob {
	if pat == "*" {
		return glob{pat: pat, any: true}
	}
	if !strings.Contains(pat, "*") {
		return glob{pat: pat}
	}
	g := glob{pat: pat, parts: strings.Split(pat, "*")}
	if len(g.parts) == 2 {
		switch {
		case g.parts[1] == "":
			g.shape = globPrefix
		case g.parts[0] == "":
			g.shape = globSuffix
		}
	}
	return g
}

func (g *glob) literal() bool { return !g.any && g.parts == nil }

// match reports whether s matches the pattern, comparing bytes exactly.
// It is small enough to be inlined for the common "*" and literal cases.
func (g *glob) match(s string) bool {
	if g.any {
		return true
	}
	if g.parts == nil {
		return s == g.pat
	}
	return g.matchWild(s)
}

func (g *glob) matchWild(s string) bool {
	switch g.shape {
	case globPrefix:
		p := g.parts[0]
		return len(s) >= len(p) && s[:len(p)] == p
	case globSuffix:
		p := g.parts[1]
		return len(s) >= len(p) && s[len(s)-len(p):] == p
	}
	return matchParts(g.parts, s, false)
}

// matchFold is match with ASCII letters compared case-insensitively, for
// tags ("Tags are not case-sensitive"). LaunchDarkly tags are ASCII only.
func (g *glob) matchFold(s string) bool {
	if g.any {
		return true
	}
	if g.parts == nil {
		return equalFoldASCII(s, g.pat)
	}
	return matchParts(g.parts, s, true)
}

// matchParts matches s against parts, the pieces between the stars of a
// pattern that has at least one star. The first piece must be a prefix, the
// last a suffix, and the middle ones occur in order in between; taking the
// leftmost occurrence of each middle piece is always safe with "*" only.
func matchParts(parts []string, s string, fold bool) bool {
	first, last := parts[0], parts[len(parts)-1]
	if len(s) < len(first)+len(last) {
		return false
	}
	if !hasPrefix(s, first, fold) || !hasSuffix(s, last, fold) {
		return false
	}
	s = s[len(first) : len(s)-len(last)]
	for _, p := range parts[1 : len(parts)-1] {
		if p == "" {
			continue
		}
		i := index(s, p, fold)
		if i < 0 {
			return false
		}
		s = s[i+len(p):]
	}
	return true
}

func hasPrefix(s, p string, fold bool) bool {
	if len(s) < len(p) {
		return false
	}
	if fold {
		return equalFoldASCII(s[:len(p)], p)
	}
	return s[:len(p)] == p
}

func hasSuffix(s, p string, fold bool) bool {
	if len(s) < len(p) {
		return false
	}
	if fold {
		return equalFoldASCII(s[len(s)-len(p):], p)
	}
	return s[len(s)-len(p):] == p
}

func index(s, p string, fold bool) int {
	if !fold {
		return strings.Index(s, p)
	}
	for i := 0; i+len(p) <= len(s); i++ {
		if equalFoldASCII(s[i:i+len(p)], p) {
			return i
		}
	}
	return -1
}

func equalFoldASCII(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		ca, cb := a[i], b[i]
		if ca == cb {
			continue
		}
		if 'A' <= ca && ca <= 'Z' {
			ca += 'a' - 'A'
		}
		if 'A' <= cb && cb <= 'Z' {
			cb += 'a' - 'A'
		}
		if ca != cb {
			return false
		}
	}
	return true
}
