package policy

import (
	"errors"
	"strings"
)

// inlineSegs is how many segments a Resource holds without allocating;
// LaunchDarkly's deepest documented resources have three.
const inlineSegs = 4

// Resource is a parsed access resource: the concrete resource an audit-log
// entry touched, such as "proj/default:env/production:flag/new-checkout".
// It uses the specifier grammar; a segment may carry the resource's tags and
// properties after ";" ("flag/x;beta,mobile", "env/production;{critical:true}").
// Keys are taken literally ("*" in a key is not a wildcard), except that an
// environment key "*" or "~" marks a change to all environments.
//
// A Resource refers into the string it was parsed from and, for up to four
// segments, parsing it does not allocate.
type Resource struct {
	raw    string
	any    bool // bare "*"
	n      int
	shape  uint64 // see addShape
	inline [inlineSegs]resSeg
	more   []resSeg
}

type resSeg struct {
	tid            uint8 // typeID(typ)
	typ, name, sel string
	allEnv         bool // env segment keyed "*" or "~": the change applies to every environment
	plainTags      bool // sel holds tags only, no property selectors
}

func (r *Resource) parse(s string) error {
	*r = Resource{raw: s, shape: shapeSeed}
	switch s {
	case "":
		return syntaxErrorf(s, 0, "empty resource")
	case "*":
		r.any, r.shape = true, 0
		return nil
	case "acct":
		r.add(resSeg{typ: "acct"})
		return nil
	}
	for i := 0; ; {
		raw, next, err := scanSegment(s, i)
		if err != nil {
			*r = Resource{raw: s}
			return err
		}
		seg := resSeg{typ: raw.typ, name: raw.name, sel: raw.sel}
		seg.allEnv = raw.typ == "env" && (raw.name == "*" || raw.name == "~")
		seg.plainTags = strings.IndexByte(raw.sel, ':') < 0 && strings.IndexByte(raw.sel, '{') < 0
		r.add(seg)
		if next >= len(s) {
			return nil
		}
		i = next + 1
	}
}

func (r *Resource) add(s resSeg) {
	s.tid = typeID(s.typ)
	r.shape = addShape(r.shape, s.typ)
	if r.n < inlineSegs {
		r.inline[r.n] = s
	} else {
		r.more = append(r.more, s)
	}
	r.n++
}

func (r *Resource) seg(i int) *resSeg {
	if i < inlineSegs {
		return &r.inline[i]
	}
	return &r.more[i-inlineSegs]
}

// String returns the resource as written.
func (r *Resource) String() string { return r.raw }

// Types returns the resource type of each segment, outermost first.
func (r *Resource) Types() []string {
	out := make([]string, r.n)
	for i := range out {
		out[i] = r.seg(i).typ
	}
	return out
}

// AllEnvironments reports whether the resource names a change to every
// environment (an env segment keyed "*" or "~").
func (r *Resource) AllEnvironments() bool {
	for i := 0; i < r.n; i++ {
		if r.seg(i).allEnv {
			return true
		}
	}
	return false
}

// Access is one entry of an audit-log entry's "accesses" list, parsed once
// per entry so that every integration's policy can evaluate it without
// allocating.
type Access struct {
	Action   string
	Resource Resource
	err      error
}

var errNoAction = errors.New("access has no action")

// NewAccess parses an access. It never fails: a malformed resource is kept
// and reported by Err, and such an access is never allowed by any policy.
func NewAccess(action, resource string) Access {
	a := Access{Action: action}
	a.err = a.Resource.parse(resource)
	if a.err == nil && action == "" {
		a.err = errNoAction
	}
	return a
}

// Err reports why the access cannot be evaluated, or nil.
func (a *Access) Err() error { return a.err }
