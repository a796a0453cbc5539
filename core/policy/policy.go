package policy

import (
	"fmt"
	"slices"
	"strings"
)

// Effect is what a statement does to the accesses it matches.
type Effect string

const (
	Allow Effect = "allow"
	Deny  Effect = "deny"
)

// Statement is one policy statement as written in JSON. Exactly one of
// Resources and NotResources, and exactly one of Actions and NotActions,
// must be non-empty; an empty list counts as absent, as in LaunchDarkly's
// API ("The resources field must be empty to use this field").
type Statement struct {
	Effect       Effect   `json:"effect,omitempty"`
	Resources    []string `json:"resources,omitempty"`
	NotResources []string `json:"notResources,omitempty"`
	Actions      []string `json:"actions,omitempty"`
	NotActions   []string `json:"notActions,omitempty"`
}

// Source says where a policy came from.
type Source string

const (
	SourceArray    Source = "array"    // a JSON array of statements
	SourceManifest Source = "manifest" // a manifest's capabilities.auditLogEventsHook.defaultPolicy
)

// Policy is a compiled policy, safe for concurrent use. A nil or empty
// Policy sends every entry (guide §7 A5).
type Policy struct {
	stmts    []compiledStatement
	src      []Statement
	warnings []Warning
	source   Source
	absent   bool // no policy at all, as opposed to an empty list
}

type compiledStatement struct {
	deny   bool
	notRes bool // resources is notResources
	res    []Specifier
	notAct bool // actions is notActions
	acts   []glob
	// shapes lists the shape of every resource specifier, so that a
	// statement rejects resources of other shapes with a comparison or two;
	// nil when a bare "*" is among them.
	shapes []uint64
}

// stmtInput is a statement plus what the JSON reader knows about it.
type stmtInput struct {
	st        Statement
	effectSet bool
	// pos returns the source position of a field (elem < 0) or of one of its
	// elements; nil when positions are unknown.
	pos func(field string, elem int) (line, col int)
	// bad marks what the JSON reader already reported: "effect", a pair
	// ("resources" or "actions") whose field had the wrong type, or one
	// element such as "notResources[2]". compile does not report them again.
	bad map[string]bool
}

func (in *stmtInput) at(field string, elem int) (int, int) {
	if in.pos == nil {
		return 0, 0
	}
	return in.pos(field, elem)
}

func compile(in []stmtInput, source Source, absent bool) (*Policy, error) {
	p := &Policy{source: source, absent: absent}
	var errs ErrorList
	fail := func(i int, in *stmtInput, field string, elem int, err error) {
		name := field
		if elem >= 0 {
			name = fmt.Sprintf("%s[%d]", field, elem)
		}
		line, col := in.at(field, elem)
		errs = append(errs, &Error{Statement: i, Field: name, Line: line, Col: col, Err: err})
	}
	warn := func(i int, in *stmtInput, field string, elem int, msg string) {
		name := field
		if elem >= 0 {
			name = fmt.Sprintf("%s[%d]", field, elem)
		}
		line, col := in.at(field, elem)
		p.warnings = append(p.warnings, Warning{Statement: i, Field: name, Line: line, Col: col, Msg: msg})
	}
	if len(in) == 0 {
		p.warnings = append(p.warnings, Warning{Statement: -1,
			Msg: "no policy statements: every entry is sent (an integration without a policy filter receives every event)"})
	}
	for i := range in {
		si := &in[i]
		st := si.st
		p.src = append(p.src, st)
		var cs compiledStatement
		switch {
		case si.bad["effect"]:
		case !si.effectSet:
			warn(i, si, "effect", -1, "effect is missing; using the schema default \"allow\"")
		case st.Effect == Allow:
		case st.Effect == Deny:
			cs.deny = true
		default:
			fail(i, si, "effect", -1, fmt.Errorf("must be \"allow\" or \"deny\", not %q", string(st.Effect)))
		}

		resField, resList := "resources", st.Resources
		switch {
		case si.bad["resources"]:
			resList = nil
		case len(st.Resources) > 0 && len(st.NotResources) > 0:
			fail(i, si, "notResources", -1, fmt.Errorf("a statement has either resources or notResources, not both"))
		case len(st.Resources) == 0 && len(st.NotResources) == 0:
			fail(i, si, "resources", -1, fmt.Errorf("a statement needs a non-empty resources or notResources list"))
		case len(st.NotResources) > 0:
			cs.notRes = true
			resField, resList = "notResources", st.NotResources
		}
		for k, raw := range resList {
			if si.bad[fmt.Sprintf("%s[%d]", resField, k)] {
				continue
			}
			sp, err := ParseSpecifier(raw)
			if err != nil {
				fail(i, si, resField, k, err)
				continue
			}
			cs.res = append(cs.res, sp)
			for _, w := range specifierWarnings(&sp) {
				warn(i, si, resField, k, w)
			}
			if sp.any && cs.notRes {
				warn(i, si, resField, k, "notResources contains \"*\": the statement applies to no resource")
			}
		}

		actField, actList := "actions", st.Actions
		switch {
		case si.bad["actions"]:
			actList = nil
		case len(st.Actions) > 0 && len(st.NotActions) > 0:
			fail(i, si, "notActions", -1, fmt.Errorf("a statement has either actions or notActions, not both"))
		case len(st.Actions) == 0 && len(st.NotActions) == 0:
			fail(i, si, "actions", -1, fmt.Errorf("a statement needs a non-empty actions or notActions list"))
		case len(st.NotActions) > 0:
			cs.notAct = true
			actField, actList = "notActions", st.NotActions
		}
		for k, raw := range actList {
			if si.bad[fmt.Sprintf("%s[%d]", actField, k)] {
				continue
			}
			if err := checkAction(raw); err != nil {
				fail(i, si, actField, k, err)
				continue
			}
			cs.acts = append(cs.acts, compileGlob(raw))
			if strings.ContainsAny(raw, "/:") {
				warn(i, si, actField, k, fmt.Sprintf("action %q looks like a resource specifier; actions are names such as \"updateOn\"", raw))
			}
			if raw == "*" && cs.notAct {
				warn(i, si, actField, k, "notActions contains \"*\": the statement applies to no action")
			}
		}
		for k := range cs.res {
			if cs.res[k].any {
				cs.shapes = nil
				break
			}
			if !slices.Contains(cs.shapes, cs.res[k].shape) {
				cs.shapes = append(cs.shapes, cs.res[k].shape)
			}
		}
		p.stmts = append(p.stmts, cs)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return p, nil
}

// checkAction validates an action specifier: a non-empty action name in
// which "*" matches any run of characters. Unknown names are accepted.
func checkAction(s string) error {
	if s == "" {
		return syntaxErrorf(s, 0, "empty action")
	}
	for i := 0; i < len(s); i++ {
		if isSpaceOrControl(s[i]) {
			return badChar(s, i, "in action")
		}
	}
	return nil
}

// Len returns the number of statements.
func (p *Policy) Len() int {
	if p == nil {
		return 0
	}
	return len(p.stmts)
}

// Empty reports whether the policy has no statements, so that it sends
// every entry.
func (p *Policy) Empty() bool { return p.Len() == 0 }

// Absent reports whether there was no policy at all (a nil list, or a
// manifest without a defaultPolicy), as opposed to an empty list.
func (p *Policy) Absent() bool { return p == nil || p.absent }

// Source says where the policy came from; "" for a nil Policy.
func (p *Policy) Source() Source {
	if p == nil {
		return ""
	}
	return p.source
}

// Statements returns the statements as written.
func (p *Policy) Statements() []Statement {
	if p == nil {
		return nil
	}
	return append([]Statement(nil), p.src...)
}

// Warnings returns lint warnings found while compiling.
func (p *Policy) Warnings() []Warning {
	if p == nil {
		return []Warning{{Statement: -1, Msg: "no policy: every entry is sent"}}
	}
	return append([]Warning(nil), p.warnings...)
}

// Decision is the cheap answer of Decide.
type Decision struct {
	Send      bool // the entry goes out
	NoPolicy  bool // sent because the policy is empty
	Access    int  // index of the first allowed access when Send, else -1
	Statement int  // index of the statement that allowed it when Send, else -1
}

// Decide reports whether an entry with these accesses is sent: some access
// must be allowed by a statement and denied by none. It does not allocate;
// use Explain for the reasons.
func (p *Policy) Decide(accesses []Access) Decision {
	if p.Empty() {
		return Decision{Send: true, NoPolicy: true, Access: -1, Statement: -1}
	}
	for i := range accesses {
		a := &accesses[i]
		if a.err != nil {
			continue
		}
		if st := p.allowedBy(a); st >= 0 {
			return Decision{Send: true, Access: i, Statement: st}
		}
	}
	return Decision{Access: -1, Statement: -1}
}

// allowedBy returns the first statement that allows a, or -1 when no
// statement allows it or some statement denies it.
func (p *Policy) allowedBy(a *Access) int {
	allow := -1
	for i := range p.stmts {
		s := &p.stmts[i]
		if !s.deny && allow >= 0 {
			continue // already allowed: only a deny can change the answer
		}
		if s.matches(a) {
			if s.deny {
				return -1
			}
			allow = i
		}
	}
	return allow
}

// matches rejects resources of the wrong shape first, then checks the
// action, then the resource in full: cheapest test first.
func (s *compiledStatement) matches(a *Access) bool {
	if !s.notRes && s.shapes != nil && !slices.Contains(s.shapes, a.Resource.shape) {
		return false
	}
	if (s.actionIndex(a.Action) >= 0) == s.notAct {
		return false
	}
	return (s.resourceIndex(&a.Resource) >= 0) != s.notRes
}

// actionIndex returns the index of the first action specifier matching
// action, or -1.
func (s *compiledStatement) actionIndex(action string) int {
	for i := range s.acts {
		if s.acts[i].match(action) {
			return i
		}
	}
	return -1
}

// resourceIndex returns the index of the first resource specifier matching
// r, or -1.
func (s *compiledStatement) resourceIndex(r *Resource) int {
	for i := range s.res {
		if s.res[i].matches(r) {
			return i
		}
	}
	return -1
}
