package render

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/auditrelay/auditrelay/core/jsonv"
)

type issueKey struct {
	line, col int
	msg       string
}

// maxIssues bounds what one Lint reports; a broken template in a loop
// would otherwise produce one issue per iteration and position.
const maxIssues = 200

type lintState struct {
	issues  []Issue
	seen    map[issueKey]struct{}
	dropped int
}

func (l *lintState) add(t *Template, pos int, severity, msg string) {
	if len(l.issues) >= maxIssues {
		l.dropped++
		return
	}
	line, col := t.position(pos)
	l.addIssue(Issue{Template: t.name, Line: line, Col: col, Severity: severity, Msg: msg})
}

func (l *lintState) addIssue(i Issue) {
	k := issueKey{i.Line, i.Col, i.Msg}
	if _, dup := l.seen[k]; dup {
		return
	}
	if len(l.issues) >= maxIssues {
		l.dropped++
		return
	}
	l.seen[k] = struct{}{}
	l.issues = append(l.issues, i)
}

// StaticIssues returns what Parse found without rendering: unknown helpers,
// helpers with the wrong number of arguments or used outside a block,
// {{else}} inside equal, and in JSON templates form variables inserted into
// JSON strings (their values are not JSON-escaped).
func (t *Template) StaticIssues() []Issue {
	return slices.Clone(t.static)
}

// Lint renders the template with root and reports, besides StaticIssues,
// every failure handlebars.js would raise in strict mode (the
// integration framework's test harness), render errors, values that
// {{…}} HTML-escapes, and for JSON templates output that is not JSON. In
// strict mode handlebars.js stops at the first failure; Lint records it,
// treats the value as undefined and goes on, so one run finds them all.
func (t *Template) Lint(root jsonv.Value) []Issue {
	r := t.runs.Get().(*run)
	r.reset(t, root)
	r.start(t.opts.Budget, 0)
	ls := &lintState{seen: map[issueKey]struct{}{}}
	for _, i := range t.static {
		ls.addIssue(i)
	}
	r.lint = ls
	out := r.exec(nil)
	stopped := r.err
	r.release()
	t.runs.Put(r)

	if stopped != nil {
		// Only the budget stops a lint run; what was rendered is partial.
		ls.addIssue(Issue{Template: t.name, Line: stopped.Line, Col: stopped.Col, Severity: "error", Msg: stopped.Msg})
	} else if IsJSONTemplate(t.name) && strings.TrimSpace(string(out)) != "" {
		if _, err := jsonv.Decode(out); err != nil {
			msg := "rendered output is not valid JSON: " + err.Error()
			var se *jsonv.SyntaxError
			if errors.As(err, &se) {
				msg = fmt.Sprintf("rendered output is not valid JSON at output line %d, column %d: %s", se.Line, se.Col, se.Msg)
			}
			ls.addIssue(Issue{Template: t.name, Line: 1, Col: 1, Severity: "error", Msg: msg})
		}
	}
	slices.SortStableFunc(ls.issues, func(a, b Issue) int {
		if c := cmp.Compare(a.Line, b.Line); c != 0 {
			return c
		}
		return cmp.Compare(a.Col, b.Col)
	})
	if ls.dropped > 0 {
		ls.issues = append(ls.issues, Issue{Template: t.name, Line: 1, Col: 1, Severity: "warning",
			Msg: fmt.Sprintf("%d more issues not shown", ls.dropped)})
	}
	return ls.issues
}

// staticLint finds, in JSON templates, form variables printed inside a
// JSON string literal: the framework does not JSON-escape form variables,
// so a value with a quote or backslash breaks the body.
func staticLint(t *Template, root *programNode) []Issue {
	if !IsJSONTemplate(t.name) {
		return nil
	}
	var issues []Issue
	var walk func(p *programNode, s jsonScan) jsonScan
	walk = func(p *programNode, s jsonScan) jsonScan {
		if p == nil {
			return s
		}
		for _, st := range p.body {
			switch n := st.(type) {
			case *contentNode:
				s = s.scan(n.value)
			case *mustacheNode:
				if s.inString && !hasArgs(n.call) && isFormVariable(n.call.head) {
					line, col := t.position(n.call.head.pos)
					issues = append(issues, Issue{Template: t.name, Line: line, Col: col, Severity: "warning",
						Msg: fmt.Sprintf("form variable %s is inserted into a JSON string without JSON escaping; a \" or \\ in its value breaks the JSON", n.call.head.original)})
				}
			case *blockNode:
				after := walk(n.prog, s)
				walk(n.inv, s)
				s = after
			}
		}
		return s
	}
	walk(root, jsonScan{})
	return issues
}

func isFormVariable(p *pathNode) bool {
	if p.data {
		return len(p.parts) >= 3 && p.parts[0] == "root" && p.parts[1] == "formVariables"
	}
	return p.depth == 0 && !p.scoped && len(p.parts) >= 2 && p.parts[0] == "formVariables"
}

// jsonScan tracks whether template text so far leaves us inside a JSON
// string literal.
type jsonScan struct {
	inString, escaped bool
}

func (s jsonScan) scan(text string) jsonScan {
	for i := 0; i < len(text); i++ {
		c := text[i]
		switch {
		case s.escaped:
			s.escaped = false
		case s.inString && c == '\\':
			s.escaped = true
		case c == '"':
			s.inString = !s.inString
		}
	}
	return s
}
