package manifest

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Severity grades a Problem.
type Severity string

// Severities. Errors make an integration unusable; warnings (strict-mode
// lint findings, suspicious but legal constructs) do not.
const (
	SeverityError   Severity = "error"
	SeverityWarning Severity = "warning"
)

// Problem is one finding about an integration, located in a file.
type Problem struct {
	File      string // path as the user gave it, joined with the file's path in the integration
	Line, Col int    // 1-based; 0 when the problem concerns the file as a whole
	Severity  Severity
	Msg       string
	// Ours marks a warning from a rule of auditrelay's that goes beyond
	// what LaunchDarkly's framework enforces (its schema and test suite):
	// LaunchDarkly publishes integrations that break it, so it is a
	// warning by default and an error under validate --strict (Strict).
	Ours bool
}

// String formats the problem as "file:line:col: message", with "warning: "
// before the message of warnings.
func (p Problem) String() string {
	var b strings.Builder
	b.WriteString(p.File)
	if p.Line > 0 {
		fmt.Fprintf(&b, ":%d:%d", p.Line, p.Col)
	}
	b.WriteString(": ")
	if p.Severity == SeverityWarning {
		b.WriteString("warning: ")
	}
	b.WriteString(p.Msg)
	if p.Ours && p.Severity == SeverityWarning {
		b.WriteString(" (auditrelay's rule, not LaunchDarkly's; an error with --strict)")
	}
	return b.String()
}

// Problems is a list of findings. As an error it prints one per line.
type Problems []Problem

func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// HasErrors reports whether any problem is an error.
func (ps Problems) HasErrors() bool {
	for _, p := range ps {
		if p.Severity == SeverityError {
			return true
		}
	}
	return false
}

// Strict returns a copy of ps in which auditrelay's own rules (Ours) are
// errors, as validate --strict reports them.
func (ps Problems) Strict() Problems {
	out := make(Problems, len(ps))
	for i, p := range ps {
		if p.Ours {
			p.Severity = SeverityError
		}
		out[i] = p
	}
	return out
}

// Errors returns only the error-severity problems.
func (ps Problems) Errors() Problems {
	var out Problems
	for _, p := range ps {
		if p.Severity == SeverityError {
			out = append(out, p)
		}
	}
	return out
}

// Err returns ps (sorted) as an error when it holds an error, else nil.
func (ps Problems) Err() error {
	if !ps.HasErrors() {
		return nil
	}
	ps.Sort()
	return ps
}

// Sort orders problems by file, line and column; problems at the same place
// keep their order.
func (ps Problems) Sort() {
	slices.SortStableFunc(ps, func(a, b Problem) int {
		return cmp.Or(
			cmp.Compare(a.File, b.File),
			cmp.Compare(a.Line, b.Line),
			cmp.Compare(a.Col, b.Col),
		)
	})
}
