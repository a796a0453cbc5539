package devkit

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"github.com/auditrelay/auditrelay/core/auditlog"
	"github.com/auditrelay/auditrelay/core/jsonv"
)

// Context prints the template context built from the audit-log entry in
// path ("-" for standard input) — what an integration's templates see for
// it — as indented JSON; for a JSON array of entries, a list page or
// NDJSON, a JSON array of contexts. baseURL is LaunchDarkly's app URL for
// links. Decoding problems are reported as FILE:line:col: detail.
func Context(path, baseURL string, s Streams) error {
	if path == "" {
		return inputErrorf("context: --entry FILE is required (use - for standard input)")
	}
	builder, err := auditlog.NewBuilder(auditlog.Options{BaseURL: baseURL})
	if err != nil {
		return inputErrorf("context: --base-url: %v", err)
	}
	name, data, err := ReadInput(s.In, path)
	if err != nil {
		return inputErrorf("context: %v", err)
	}
	entries, err := auditlog.DecodeEntries(data)
	if err != nil {
		return inputErrorf("%s", describeDecodeErrors(name, err))
	}
	for _, e := range entries {
		for _, w := range e.Warnings {
			fmt.Fprintf(s.Err, "auditrelay: %s:%d:%d: warning: %q: %s\n", name, w.Line, w.Col, w.Field, w.Msg)
		}
	}

	var out jsonv.Value
	if len(entries) == 1 && bytes.Equal(bytes.TrimSpace(entries[0].Raw), bytes.TrimSpace(data)) {
		out = builder.Build(entries[0]) // the input was one entry
	} else {
		ctxs := make([]jsonv.Value, len(entries))
		for i, e := range entries {
			ctxs[i] = builder.Build(e)
		}
		out = jsonv.Arr(ctxs...)
	}
	buf := append(jsonv.MarshalIndent(out, "  "), '\n')
	if _, err := s.Out.Write(buf); err != nil {
		return fmt.Errorf("context: writing output: %w", err)
	}
	return nil
}

// describeDecodeErrors formats each problem as "FILE:line:col: detail", one
// per line, the form editors and CI annotations understand.
func describeDecodeErrors(name string, err error) string {
	var errs []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	} else {
		errs = []error{err}
	}
	lines := make([]string, 0, len(errs))
	for _, e := range errs {
		var de *auditlog.DecodeError
		if errors.As(e, &de) {
			lines = append(lines, fmt.Sprintf("%s:%d:%d: %s", name, de.Line, de.Col, de.Detail()))
		} else {
			lines = append(lines, fmt.Sprintf("%s: %v", name, e))
		}
	}
	return strings.Join(lines, "\n")
}
