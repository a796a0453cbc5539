package ttyin

import (
	"io"
	"os"
)

// File is a terminal whose reads go through a Reader. Bubble Tea needs the
// file itself for the rest: it puts a terminal it can see into raw mode,
// and reads a file with a cancelable reader (which waits on Fd).
type File struct {
	*Reader
	f *os.File
}

// NewFile returns f with its reads bounded by a Reader.
func NewFile(f *os.File) *File { return &File{Reader: New(f), f: f} }

// Write writes to the terminal.
func (f *File) Write(p []byte) (int, error) { return f.f.Write(p) }

// Close closes the terminal.
func (f *File) Close() error { return f.f.Close() }

// Fd is the terminal's file descriptor.
func (f *File) Fd() uintptr { return f.f.Fd() }

// Name is the terminal's file name.
func (f *File) Name() string { return f.f.Name() }

// Wrap bounds r: a File for an *os.File, a Reader otherwise.
func Wrap(r io.Reader) io.Reader {
	if f, ok := r.(*os.File); ok {
		return NewFile(f)
	}
	return New(r)
}
