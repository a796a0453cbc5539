package policy

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// SyntaxError reports a malformed resource or action specifier: the text,
// the byte position of the problem in it and what was expected there.
type SyntaxError struct {
	Spec string // the specifier as written
	Pos  int    // 0-based byte offset into Spec
	Msg  string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("%q: position %d: %s", e.Spec, e.Pos, e.Msg)
}

func syntaxErrorf(spec string, pos int, format string, args ...any) *SyntaxError {
	return &SyntaxError{Spec: spec, Pos: pos, Msg: fmt.Sprintf(format, args...)}
}

// Error is one problem found while reading or compiling a policy. Errors are
// collected, not returned one at a time: a policy with several mistakes
// reports all of them in an ErrorList.
type Error struct {
	Statement int    // 0-based statement index; -1 when the problem is not inside one statement
	Field     string // "effect", "resources[2]", "actions", … ; "" when not about one field
	Line, Col int    // 1-based position in the source JSON (Col counts characters); 0 when unknown
	Err       error  // the underlying problem; a *SyntaxError for a malformed specifier
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.Line > 0 {
		fmt.Fprintf(&b, "%d:%d: ", e.Line, e.Col)
	}
	if e.Statement >= 0 {
		fmt.Fprintf(&b, "statement %d: ", e.Statement)
	}
	if e.Field != "" {
		b.WriteString(e.Field)
		if _, ok := e.Err.(*SyntaxError); ok {
			b.WriteByte(' ')
		} else {
			b.WriteString(": ")
		}
	}
	if e.Err != nil {
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// ErrorList is every problem found in one policy, in source order.
type ErrorList []*Error

func (l ErrorList) Error() string {
	switch len(l) {
	case 0:
		return "no errors"
	case 1:
		return l[0].Error()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d errors:", len(l))
	for _, e := range l {
		b.WriteString("\n\t")
		b.WriteString(e.Error())
	}
	return b.String()
}

// Unwrap exposes each error to errors.Is and errors.As.
func (l ErrorList) Unwrap() []error {
	out := make([]error, len(l))
	for i, e := range l {
		out[i] = e
	}
	return out
}

// Warning is something legal that probably does not do what its author
// meant, or a place where the relay had to choose a behaviour.
type Warning struct {
	Statement int    `json:"statement"` // -1 when about the whole policy
	Field     string `json:"field,omitempty"`
	Line      int    `json:"line,omitempty"`
	Col       int    `json:"col,omitempty"`
	Msg       string `json:"message"`
}

func (w Warning) String() string {
	var b strings.Builder
	if w.Line > 0 {
		fmt.Fprintf(&b, "%d:%d: ", w.Line, w.Col)
	}
	if w.Statement >= 0 {
		fmt.Fprintf(&b, "statement %d: ", w.Statement)
	}
	if w.Field != "" {
		b.WriteString(w.Field)
		b.WriteString(": ")
	}
	b.WriteString(w.Msg)
	return b.String()
}

// lineCol converts a byte offset in src to a 1-based line and a 1-based
// column counted in characters.
func lineCol(src []byte, off int) (line, col int) {
	if off > len(src) {
		off = len(src)
	}
	if off < 0 {
		off = 0
	}
	line = 1
	start := 0
	if len(src) >= 3 && string(src[:3]) == "\xef\xbb\xbf" && off >= 3 {
		start = 3 // a byte order mark takes no column
	}
	for i := start; i < off; i++ {
		if src[i] == '\n' {
			line++
			start = i + 1
		}
	}
	return line, utf8.RuneCount(src[start:off]) + 1
}
