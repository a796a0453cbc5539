package policy

import (
	"fmt"
	"strings"
)

// Explanation says why an entry was or was not sent: for every access, for
// every statement, whether it matched and, when not, which part failed. It
// is plain data that marshals to JSON for `--json` output and for storing
// next to a delivery.
type Explanation struct {
	Sent       bool          `json:"sent"`
	NoPolicy   bool          `json:"noPolicy,omitempty"`
	Summary    string        `json:"summary"`    // the compact one-line form
	Statements int           `json:"statements"` // number of statements in the policy
	Accesses   []AccessTrace `json:"accesses"`
}

// Outcome is what the policy decided for one access.
type Outcome string

const (
	OutcomeAllowed    Outcome = "allowed"     // some statement allows it and none denies it
	OutcomeDenied     Outcome = "denied"      // a deny statement matches it
	OutcomeNotAllowed Outcome = "not-allowed" // no statement matches it (default deny)
	OutcomeInvalid    Outcome = "invalid"     // its resource could not be parsed
	OutcomeNoPolicy   Outcome = "no-policy"   // the policy is empty, so everything is sent
)

// AccessTrace is the evaluation of one access against every statement.
type AccessTrace struct {
	Index      int              `json:"index"`
	Action     string           `json:"action"`
	Resource   string           `json:"resource"`
	Outcome    Outcome          `json:"outcome"`
	Error      string           `json:"error,omitempty"`
	AllowedBy  []int            `json:"allowedBy,omitempty"` // statements with effect allow that match
	DeniedBy   []int            `json:"deniedBy,omitempty"`  // statements with effect deny that match
	Statements []StatementTrace `json:"statements,omitempty"`
}

// StatementTrace is one statement evaluated against one access.
type StatementTrace struct {
	Statement int       `json:"statement"`
	Effect    Effect    `json:"effect"`
	Matched   bool      `json:"matched"`
	Reason    *Reason   `json:"reason,omitempty"` // why it did not match; nil when it matched
	Resource  PartTrace `json:"resource"`
	Action    PartTrace `json:"action"`
}

// PartTrace is the resource or the action half of a statement.
type PartTrace struct {
	Field     string  `json:"field"` // "resources", "notResources", "actions" or "notActions"
	Matched   bool    `json:"matched"`
	Index     int     `json:"index"`               // the specifier that decided: the match in resources/actions, the exclusion in notResources/notActions; -1 if none
	Specifier string  `json:"specifier,omitempty"` // the text of that specifier
	Reason    *Reason `json:"reason,omitempty"`    // why this part did not match; for resources, the closest miss
	Misses    []Miss  `json:"misses,omitempty"`    // resources that did not match, each with its reason
}

// Miss is one specifier that did not match, with the reason.
type Miss struct {
	Index     int    `json:"index"`
	Specifier string `json:"specifier"`
	Reason    Reason `json:"reason"`
}

// ReasonCode names the part of a statement that failed.
type ReasonCode string

const (
	ReasonScope            ReasonCode = "scope"             // different number of segments: proj:env vs proj:env:flag
	ReasonKind             ReasonCode = "kind"              // a segment has another resource type
	ReasonKey              ReasonCode = "key"               // a segment's key does not match
	ReasonTag              ReasonCode = "tag"               // a required tag is not on the resource
	ReasonProperty         ReasonCode = "property"          // a required property selector is not on the resource
	ReasonBareAccess       ReasonCode = "bare-access"       // the access resource is a bare "*"
	ReasonAction           ReasonCode = "action"            // no action specifier matches
	ReasonExcludedResource ReasonCode = "excluded-resource" // a notResources specifier matches
	ReasonExcludedAction   ReasonCode = "excluded-action"   // a notActions specifier matches
)

// Reason is a structured cause of a non-match.
type Reason struct {
	Code    ReasonCode `json:"code"`
	Segment int        `json:"segment"`        // 0-based segment for kind, key, tag and property; -1 otherwise
	Kind    string     `json:"kind,omitempty"` // the resource type of that segment
	Want    string     `json:"want,omitempty"` // what the policy asks for
	Got     string     `json:"got,omitempty"`  // what the access has
	Text    string     `json:"text"`           // the same, for people
}

func (r Reason) String() string { return r.Text }

// Explain evaluates the accesses like Decide and records every step. It
// allocates; call it when someone asks why.
func (p *Policy) Explain(accesses []Access) Explanation {
	e := Explanation{Statements: p.Len(), Accesses: make([]AccessTrace, len(accesses))}
	if p.Empty() {
		e.Sent, e.NoPolicy = true, true
		for i := range accesses {
			a := &accesses[i]
			e.Accesses[i] = AccessTrace{Index: i, Action: a.Action, Resource: a.Resource.raw, Outcome: OutcomeNoPolicy}
			if a.err != nil {
				e.Accesses[i].Error = a.err.Error()
			}
		}
		e.Summary = "sent: the policy has no statements, so every entry is sent"
		return e
	}
	for i := range accesses {
		e.Accesses[i] = p.traceAccess(i, &accesses[i])
		if e.Accesses[i].Outcome == OutcomeAllowed {
			e.Sent = true
		}
	}
	e.Summary = p.summary(&e)
	return e
}

func (p *Policy) traceAccess(i int, a *Access) AccessTrace {
	t := AccessTrace{Index: i, Action: a.Action, Resource: a.Resource.raw}
	if a.err != nil {
		t.Outcome, t.Error = OutcomeInvalid, a.err.Error()
		return t
	}
	t.Statements = make([]StatementTrace, len(p.stmts))
	for j := range p.stmts {
		st := p.traceStatement(j, a)
		t.Statements[j] = st
		if st.Matched {
			if st.Effect == Deny {
				t.DeniedBy = append(t.DeniedBy, j)
			} else {
				t.AllowedBy = append(t.AllowedBy, j)
			}
		}
	}
	switch {
	case len(t.DeniedBy) > 0:
		t.Outcome = OutcomeDenied
	case len(t.AllowedBy) > 0:
		t.Outcome = OutcomeAllowed
	default:
		t.Outcome = OutcomeNotAllowed
	}
	return t
}

func (p *Policy) traceStatement(j int, a *Access) StatementTrace {
	cs, src := &p.stmts[j], &p.src[j]
	t := StatementTrace{Statement: j, Effect: Allow}
	if cs.deny {
		t.Effect = Deny
	}

	// Resources.
	rp := PartTrace{Field: "resources", Index: -1}
	resList := src.Resources
	if cs.notRes {
		rp.Field, resList = "notResources", src.NotResources
	}
	best, bestScore := -1, -1
	for k := range cs.res {
		m := cs.res[k].match(&a.Resource)
		if m.code == missNone {
			rp.Index, rp.Specifier = k, resList[k]
			break
		}
		if !cs.notRes {
			r := missReason(&cs.res[k], &a.Resource, m)
			rp.Misses = append(rp.Misses, Miss{Index: k, Specifier: resList[k], Reason: r})
			if s := missScore(m); s > bestScore {
				best, bestScore = len(rp.Misses)-1, s
			}
		}
	}
	var resReason *Reason
	if cs.notRes {
		rp.Matched = rp.Index < 0
		if !rp.Matched {
			resReason = &Reason{Code: ReasonExcludedResource, Segment: -1, Want: rp.Specifier, Got: a.Resource.raw,
				Text: fmt.Sprintf("resource excluded by notResources[%d] %q", rp.Index, rp.Specifier)}
		}
	} else {
		rp.Matched = rp.Index >= 0
		if rp.Matched {
			rp.Misses = nil // only the misses before the match were recorded; they do not matter
		} else if best >= 0 {
			r := rp.Misses[best].Reason
			resReason = &r
		}
	}

	// Actions.
	ap := PartTrace{Field: "actions", Index: -1}
	actList := src.Actions
	if cs.notAct {
		ap.Field, actList = "notActions", src.NotActions
	}
	if k := cs.actionIndex(a.Action); k >= 0 {
		ap.Index, ap.Specifier = k, actList[k]
	}
	var actReason *Reason
	if cs.notAct {
		ap.Matched = ap.Index < 0
		if !ap.Matched {
			actReason = &Reason{Code: ReasonExcludedAction, Segment: -1, Want: ap.Specifier, Got: a.Action,
				Text: fmt.Sprintf("action %q excluded by notActions[%d] %q", a.Action, ap.Index, ap.Specifier)}
		}
	} else {
		ap.Matched = ap.Index >= 0
		if !ap.Matched {
			want := strings.Join(actList, " ")
			shown := want
			if len(actList) > 6 {
				shown = fmt.Sprintf("%s … %d more", strings.Join(actList[:5], " "), len(actList)-5)
			}
			r := Reason{Code: ReasonAction, Segment: -1, Want: want, Got: a.Action,
				Text: fmt.Sprintf("action %q not in [%s]", a.Action, shown)}
			actReason = &r
		}
	}

	rp.Reason, ap.Reason = resReason, actReason
	t.Resource, t.Action = rp, ap
	t.Matched = rp.Matched && ap.Matched
	switch {
	case t.Matched:
	case resReason != nil:
		t.Reason = resReason // the resource says more than the action
	default:
		t.Reason = actReason
	}
	return t
}

// missScore ranks how far a specifier got before failing, so that the
// explanation names the closest specifier.
func missScore(m miss) int {
	switch m.code {
	case missScope, missBareAccess:
		return 0
	case missKind:
		return 1 + m.seg
	case missKey:
		return 100 + 10*m.seg
	default: // tag, property: the key already matched
		return 105 + 10*m.seg
	}
}

func missReason(sp *Specifier, r *Resource, m miss) Reason {
	switch m.code {
	case missBareAccess:
		return Reason{Code: ReasonBareAccess, Segment: -1, Want: sp.raw, Got: r.raw,
			Text: "the access resource is a bare \"*\""}
	case missScope:
		want, got := strings.Join(sp.Types(), ":"), strings.Join(r.Types(), ":")
		return Reason{Code: ReasonScope, Segment: -1, Want: want, Got: got,
			Text: fmt.Sprintf("scope %s ≠ %s", want, got)}
	}
	ss, rs := &sp.segs[m.seg], r.seg(m.seg)
	switch m.code {
	case missKind:
		return Reason{Code: ReasonKind, Segment: m.seg, Kind: rs.typ, Want: ss.typ, Got: rs.typ,
			Text: fmt.Sprintf("kind %q ≠ %q", ss.typ, rs.typ)}
	case missKey:
		text := fmt.Sprintf("%s key %q ≠ %q", ss.typ, ss.name.pat, rs.name)
		if !ss.name.literal() {
			text = fmt.Sprintf("%s key %q does not match %q", ss.typ, ss.name.pat, rs.name)
		}
		return Reason{Code: ReasonKey, Segment: m.seg, Kind: ss.typ, Want: ss.name.pat, Got: rs.name, Text: text}
	case missTag:
		tag := ss.tags[m.item].pat
		have := accessTags(rs.sel)
		shown := have
		if shown == "" {
			shown = "none"
		}
		return Reason{Code: ReasonTag, Segment: m.seg, Kind: ss.typ, Want: tag, Got: have,
			Text: fmt.Sprintf("%s tag %q not on %q (tags: %s)", ss.typ, tag, rs.name, shown)}
	default: // missProp
		want := ss.props[m.item].String()
		return Reason{Code: ReasonProperty, Segment: m.seg, Kind: ss.typ, Want: want, Got: rs.sel,
			Text: fmt.Sprintf("%s selector %s not on %q", ss.typ, want, rs.name)}
	}
}

// accessTags returns the plain tags of a resource segment, comma-separated.
func accessTags(sel string) string {
	var tags []string
	for i := 0; i < len(sel); {
		var item string
		item, i = nextItem(sel, i)
		if _, _, _, isProp := splitProp(item); !isProp {
			tags = append(tags, item)
		}
	}
	return strings.Join(tags, ",")
}

// summary builds the compact one-line form.
func (p *Policy) summary(e *Explanation) string {
	n := len(e.Accesses)
	if n == 0 {
		return "not sent: the entry has no accesses"
	}
	if e.Sent {
		for i := range e.Accesses {
			t := &e.Accesses[i]
			if t.Outcome == OutcomeAllowed {
				st := &t.Statements[t.AllowedBy[0]]
				return fmt.Sprintf("sent: stmt#%d allow %s matched %s %s", st.Statement, describeResourcePart(st), t.Action, t.Resource)
			}
		}
	}
	var denied *AccessTrace
	invalid := 0
	for i := range e.Accesses {
		t := &e.Accesses[i]
		switch t.Outcome {
		case OutcomeDenied:
			if denied == nil {
				denied = t
			}
		case OutcomeInvalid:
			invalid++
		}
	}
	if denied != nil {
		st := &denied.Statements[denied.DeniedBy[0]]
		s := fmt.Sprintf("not sent: stmt#%d deny %s matched %s %s", st.Statement, describeResourcePart(st), denied.Action, denied.Resource)
		switch {
		case n == 2:
			s += "; the other access is not allowed"
		case n > 2:
			s += fmt.Sprintf("; none of the other %d accesses is allowed", n-1)
		}
		return s
	}
	if invalid == n {
		return fmt.Sprintf("not sent: no access could be evaluated (access #0: %s)", e.Accesses[0].Error)
	}
	what := "the access"
	if n > 1 {
		what = fmt.Sprintf("any of %d accesses", n)
	}
	var reasons []string
	for j := 0; j < len(p.stmts); j++ {
		if len(reasons) == 3 {
			reasons = append(reasons, "…")
			break
		}
		if r := closestReason(e, j); r != nil {
			reasons = append(reasons, fmt.Sprintf("stmt#%d: %s", j, r.Text))
		}
	}
	s := "not sent: no statement allows " + what
	if len(reasons) > 0 {
		s += " (" + strings.Join(reasons, "; ") + ")"
	}
	return s
}

// closestReason returns, for statement j, the reason from the access where
// it came closest to matching.
func closestReason(e *Explanation, j int) *Reason {
	var best *Reason
	bestScore := -1
	for i := range e.Accesses {
		t := &e.Accesses[i]
		if j >= len(t.Statements) || t.Statements[j].Reason == nil {
			continue
		}
		st := &t.Statements[j]
		score := reasonScore(st)
		if score > bestScore {
			best, bestScore = st.Reason, score
		}
	}
	return best
}

func reasonScore(st *StatementTrace) int {
	switch st.Reason.Code {
	case ReasonAction, ReasonExcludedAction:
		return 1000 // the resource matched
	case ReasonExcludedResource:
		return 900
	case ReasonScope, ReasonBareAccess:
		return 0
	case ReasonKind:
		return 1 + st.Reason.Segment
	case ReasonKey:
		return 100 + 10*st.Reason.Segment
	}
	return 105 + 10*st.Reason.Segment
}

func describeResourcePart(st *StatementTrace) string {
	if st.Resource.Field == "notResources" {
		return "notResources (none matched)"
	}
	return st.Resource.Specifier
}

// Text returns the full multi-line form of the explanation.
func (e *Explanation) Text() string {
	var b strings.Builder
	b.WriteString(e.Summary)
	b.WriteByte('\n')
	if e.NoPolicy {
		for _, t := range e.Accesses {
			fmt.Fprintf(&b, "access #%d: %s %s: sent (no policy)\n", t.Index, t.Action, t.Resource)
		}
		return b.String()
	}
	fmt.Fprintf(&b, "policy: %d statement%s; %d access%s\n", e.Statements, plural(e.Statements, "", "s"),
		len(e.Accesses), plural(len(e.Accesses), "", "es"))
	for _, t := range e.Accesses {
		fmt.Fprintf(&b, "access #%d: %s %s: %s", t.Index, t.Action, t.Resource, strings.ReplaceAll(string(t.Outcome), "-", " "))
		switch t.Outcome {
		case OutcomeAllowed:
			fmt.Fprintf(&b, " (by %s)", stmtList(t.AllowedBy))
		case OutcomeDenied:
			fmt.Fprintf(&b, " (by %s)", stmtList(t.DeniedBy))
		case OutcomeInvalid:
			fmt.Fprintf(&b, ": %s", t.Error)
		}
		b.WriteByte('\n')
		for _, st := range t.Statements {
			fmt.Fprintf(&b, "  stmt#%d %s: ", st.Statement, st.Effect)
			if st.Matched {
				b.WriteString("matched\n")
			} else {
				fmt.Fprintf(&b, "no match: %s\n", st.Reason.Text)
			}
			writePart(&b, &st.Resource)
			writePart(&b, &st.Action)
		}
	}
	return b.String()
}

func writePart(b *strings.Builder, p *PartTrace) {
	not := strings.HasPrefix(p.Field, "not")
	switch {
	case p.Index >= 0 && !not:
		fmt.Fprintf(b, "    %s[%d] %s: matched\n", p.Field, p.Index, p.Specifier)
	case p.Index >= 0 && not:
		fmt.Fprintf(b, "    %s[%d] %s: matched, so the statement does not apply\n", p.Field, p.Index, p.Specifier)
	case not:
		fmt.Fprintf(b, "    %s: none matched, so the statement applies\n", p.Field)
	case len(p.Misses) == 0 && p.Reason != nil:
		fmt.Fprintf(b, "    %s: none matched: %s\n", p.Field, p.Reason.Text)
	case len(p.Misses) == 0:
		fmt.Fprintf(b, "    %s: none matched\n", p.Field)
	default:
		fmt.Fprintf(b, "    %s: none matched\n", p.Field)
		for _, m := range p.Misses {
			fmt.Fprintf(b, "      [%d] %s: %s\n", m.Index, m.Specifier, m.Reason.Text)
		}
	}
}

func stmtList(idx []int) string {
	parts := make([]string, len(idx))
	for i, j := range idx {
		parts[i] = fmt.Sprintf("stmt#%d", j)
	}
	return strings.Join(parts, ", ")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
