package devkit

import (
	"fmt"
	"io"
	"os"

	"github.com/auditrelay/auditrelay/core/jsonv"
	"github.com/auditrelay/auditrelay/core/manifest"
	"github.com/auditrelay/auditrelay/templates"
)

// InputError is bad usage or input: flags that do not go together, a file
// that cannot be read or parsed, an unknown integration. The commands
// exit 2 on it.
type InputError struct{ Err error }

func (e *InputError) Error() string { return e.Err.Error() }
func (e *InputError) Unwrap() error { return e.Err }

func inputErrorf(format string, args ...any) error {
	return &InputError{Err: fmt.Errorf(format, args...)}
}

// Streams are a command's standard input, output and error.
type Streams struct {
	In  io.Reader
	Out io.Writer
	Err io.Writer
}

// Catalog loads the built-in integrations, then those in dirs; later ones
// replace earlier ones of the same name. Integrations that fail to load
// are left out and described in the problems.
func Catalog(dirs ...string) (*manifest.Catalog, manifest.Problems) {
	cat := manifest.NewCatalog()
	probs := cat.AddBuiltins(templates.FS())
	for _, d := range dirs {
		probs = append(probs, cat.AddDir(d)...)
	}
	return cat, probs
}

// readInput reads the file at path, or standard input for "-"; name is
// what messages call it.
func ReadInput(in io.Reader, path string) (name string, data []byte, err error) {
	if path == "-" {
		data, err = io.ReadAll(in)
		if err != nil {
			return "<stdin>", nil, fmt.Errorf("reading standard input: %w", err)
		}
		return "<stdin>", data, nil
	}
	data, err = os.ReadFile(path)
	return path, data, err
}

// writeJSON prints v indented, with JSON.stringify's escaping (so strings
// round-trip exactly and nothing is HTML-escaped).
func writeJSON(w io.Writer, v jsonv.Value) error {
	buf := jsonv.MarshalIndent(v, "  ")
	buf = append(buf, '\n')
	_, err := w.Write(buf)
	return err
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
