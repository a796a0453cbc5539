package ui

import (
	"github.com/charmbracelet/bubbles/cursor"
	"github.com/charmbracelet/bubbles/textarea"
	"github.com/charmbracelet/bubbles/textinput"
)

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
	return in
}

// NewTextarea returns a multi-line editor styled from s, with line numbers
// and no size limits (templates can be long).
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
