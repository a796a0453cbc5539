package ui

import (
	"github.com/charmbracelet/bubbles/cursor"
	"github.com/charmbracelet/bubbles/textarea"
	"github.com/charmbracelet/bubbles/textinput"
)

// Input limits: the most characters each kind of text field takes.
// Typing past the limit does nothing and a paste is cut at it, so what an
// SSH client sends cannot grow a field without bound. A value loaded
// longer than its field's limit stays whole (see SetText): the limit only
// stops it from growing.
const (
	// MaxFilterLen bounds the events filter (/).
	MaxFilterLen = 256
	// MaxFieldLen bounds a form variable's value.
	MaxFieldLen = 8 << 10
	// MaxTemplateLen bounds a template in the editor (which enforces it
	// itself: the textarea's own limit counts cells, so characters of no
	// width would pass it). Integration templates are a few KiB; the
	// editor slows down with very long text.
	MaxTemplateLen = 64 << 10
)

// SetText sets in's value to v whole, then limits it to limit characters
// or v's length, whichever is more.
func SetText(in *textinput.Model, v string, limit int) {
	in.CharLimit = 0 // SetValue cuts at CharLimit
	in.SetValue(v)
	in.CharLimit = max(limit, len([]rune(in.Value())))
}

// NewInput returns a text input styled from s. The cursor does not blink:
// a blinking cursor redraws the screen twice a second for nothing, which
// costs CPU locally and bandwidth over SSH.
func (s *Styles) NewInput() textinput.Model {
	in := textinput.New()
	in.Prompt = ""
	in.PromptStyle = s.Plain.Style
	in.TextStyle = s.Input.Style
	in.PlaceholderStyle = s.Dim.Style
	in.CompletionStyle = s.Dim.Style
	in.Cursor.Style = s.Selected.Style
	in.Cursor.TextStyle = s.Plain.Style
	in.Cursor.SetMode(cursor.CursorStatic)
	in.CharLimit = MaxFieldLen
	return in
}

// NewTextarea returns a multi-line editor styled from s, with line numbers
// and no size limits of its own (the template editor bounds the text).
func (s *Styles) NewTextarea() textarea.Model {
	ta := textarea.New()
	st := textarea.Style{
		Base:             s.Plain.Style,
		CursorLine:       s.Plain.Style,
		CursorLineNumber: s.Accent.Style,
		EndOfBuffer:      s.Dim.Style,
		LineNumber:       s.Dim.Style,
		Placeholder:      s.Dim.Style,
		Prompt:           s.Dim.Style,
		Text:             s.Plain.Style,
	}
	ta.FocusedStyle, ta.BlurredStyle = st, st
	ta.Prompt = "│ "
	ta.ShowLineNumbers = true
	ta.CharLimit = 0
	ta.MaxHeight = 0
	ta.MaxWidth = 0
	ta.EndOfBufferCharacter = ' '
	ta.Cursor.Style = s.Selected.Style
	ta.Cursor.TextStyle = s.Plain.Style
	ta.Cursor.SetMode(cursor.CursorStatic)
	ta.Blur() // points the active style at the ones set above
	return ta
}
