package auditlog

import "strings"

// segment is one "type/name;tag1,tag2" part of a resource specifier such as
// "proj/default;mobile:env/production:flag/demo-flag;ops,security".
//
// This is a minimal reader for what the context builder needs (keys and
// tags of the project, environment and changed resource). Policy matching
// has its own full parser in core/policy.
type segment struct {
	typ  string
	name string
	tags []string // nil when the segment lists no tags
}

// parseSpecifier splits a concrete resource specifier into its segments.
// It never fails: a segment without "/" (such as "acct") has only a type.
func parseSpecifier(s string) []segment {
	if s == "" {
		return nil
	}
	out := make([]segment, 0, strings.Count(s, ":")+1)
	for part := range strings.SplitSeq(s, ":") {
		var seg segment
		body, tags, hasTags := strings.Cut(part, ";")
		seg.typ, seg.name, _ = strings.Cut(body, "/")
		if hasTags && tags != "" {
			for t := range strings.SplitSeq(tags, ",") {
				if t = strings.TrimSpace(t); t != "" {
					seg.tags = append(seg.tags, t)
				}
			}
		}
		out = append(out, seg)
	}
	return out
}

// find returns the first segment of type typ.
func findSegment(segs []segment, typ string) (segment, bool) {
	for _, s := range segs {
		if s.typ == typ {
			return s, true
		}
	}
	return segment{}, false
}

// specType maps an entry kind to the type name its resource specifiers use.
func specType(kind string) string {
	switch kind {
	case "project":
		return "proj"
	case "environment":
		return "env"
	}
	return kind
}
