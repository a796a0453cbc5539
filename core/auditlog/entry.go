package auditlog

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/auditrelay/auditrelay/core/jsonv"
)

// Entry is one LaunchDarkly audit-log entry as the REST API and webhooks
// deliver it. Raw and Value hold everything that arrived, unknown fields
// included; the typed fields are read from Value once, at decode time.
type Entry struct {
	// Raw is the exact bytes of this entry in its input: the whole body for
	// a single entry, the element's own slice for a list. It is what a
	// "standard payload" delivery sends and signs.
	Raw []byte
	// Value is the decoded entry. Offsets of its values are relative to the
	// input it was decoded from; RawOffset is where Raw starts in that input.
	Value     jsonv.Value
	RawOffset int

	ID               string // _id (required)
	AccountID        string // _accountId
	Date             int64  // date, milliseconds since the Unix epoch (required)
	Kind             string // kind: flag, project, environment, … (required)
	Name             string // name of the changed resource
	Description      string // description (markdown)
	ShortDescription string // shortDescription
	Comment          string // comment typed by the member, if any
	TitleVerb        string // titleVerb, e.g. "turned on the flag"
	Title            string // title (markdown)
	Accesses         []Access
	Member           *Member // nil when the change was not made by a member (token, app, SCIM)
	Target           Target
	Parent           *Parent // nil when absent

	// Warnings lists optional fields that had an unexpected type and were
	// ignored, so a caller can show them rather than lose them silently.
	Warnings []Warning
}

// Warning is an optional field that was ignored because of its type.
type Warning struct {
	Line, Col int // 1-based position of the value in the decoded input
	Field     string
	Msg       string
}

func (w Warning) String() string {
	return fmt.Sprintf("%d:%d: %q: %s", w.Line, w.Col, w.Field, w.Msg)
}

// Access is one element of accesses: an action on a resource.
type Access struct {
	Action   string // e.g. "updateOn"
	Resource string // resource specifier, e.g. "proj/default:env/production:flag/demo"
}

// Member is the member who made the change.
type Member struct {
	ID        string
	Email     string
	FirstName string
	LastName  string
	Links     jsonv.Value // _links as delivered (relative hrefs); undefined when absent
}

// DisplayName is "First Last", or the email when both names are empty, as
// LaunchDarkly shows members.
func (m *Member) DisplayName() string {
	name := strings.TrimSpace(strings.TrimSpace(m.FirstName) + " " + strings.TrimSpace(m.LastName))
	if name == "" {
		return m.Email
	}
	return name
}

// Target is the changed resource.
type Target struct {
	Name      string
	Resources []string    // resource specifiers
	Links     jsonv.Value // _links as delivered; undefined when absent
}

// Parent is the parent of the changed resource (for example its project).
type Parent struct {
	Name     string
	Resource string // resource specifier
	Links    jsonv.Value
}

// Time returns Date as a time in UTC.
func (e *Entry) Time() time.Time { return time.UnixMilli(e.Date).UTC() }

// PrimaryAccess returns the access that describes the entry as a whole: the
// first one on a resource of the entry's kind, else the first one.
func (e *Entry) PrimaryAccess() (Access, bool) {
	if len(e.Accesses) == 0 {
		return Access{}, false
	}
	typ := specType(e.Kind)
	for _, a := range e.Accesses {
		if s := parseSpecifier(a.Resource); len(s) > 0 && s[len(s)-1].typ == typ {
			return a, true
		}
	}
	return e.Accesses[0], true
}

// DecodeError reports an entry that is not valid JSON or lacks what a
// relay needs. Line and Col are 1-based (Col counts characters) in the
// input that was decoded (for DecodeEntryAt, in the larger input the
// entry came from).
//
// Its text is the one format every reader of entries reports in:
// "LINE:COL: " then Detail, e.g. `3:12: "date": expected a number
// (milliseconds since epoch), found string`. A caller that knows the
// input's name puts "NAME:" in front (`entries.json:3:12: …`).
type DecodeError struct {
	// Index is the element's 0-based position in a list of entries, or -1
	// for a single entry or a problem with the list itself.
	Index     int
	Line, Col int
	Offset    int    // byte offset in the decoded data
	Field     string // JSON path of the offending field, e.g. "accesses[0].action"; "" for syntax errors
	Msg       string
	// ID and Date are the entry's _id and date when both were read before
	// the problem was found (a bad kind or access), so that a caller can
	// still name the entry and place it in time; ID is "" otherwise.
	ID   string
	Date int64
}

func (e *DecodeError) Error() string {
	return strconv.Itoa(e.Line) + ":" + strconv.Itoa(e.Col) + ": " + e.Detail()
}

// Detail is the message without the position: `"date": expected …`, or
// the bare message when no field is at fault. It does not depend on what
// held the entry (a body, a file, a list page), so the same bad entry
// reads the same wherever it arrives; the position says where it is.
func (e *DecodeError) Detail() string {
	if e.Field == "" {
		return e.Msg
	}
	return strconv.Quote(e.Field) + ": " + e.Msg
}

// maxDateMillis is the range of a JavaScript Date (±100,000,000 days), so
// every accepted date formats as a timestamp a template can show.
const maxDateMillis = 8.64e15

// DecodeEntry decodes one audit-log entry: the body of a LaunchDarkly
// webhook or of GET /api/v2/auditlog/{id}. data is kept as Entry.Raw (not
// copied), so the caller must not modify it afterwards.
func DecodeEntry(data []byte) (*Entry, error) {
	return DecodeEntryAt(data, 1, 1)
}

// DecodeEntryAt is DecodeEntry for an entry cut out of a larger input (a
// file read element by element) whose first byte is at line:col there:
// the positions of errors and warnings are in that input, so they can be
// reported as they are.
func DecodeEntryAt(data []byte, line, col int) (*Entry, error) {
	src := string(data)
	p := positioner{src: src, index: -1, lineBase: max(line, 1) - 1, colBase: max(col, 1) - 1}
	v, err := jsonv.DecodeString(src)
	if err != nil {
		// Text that is not JSON at all ("not json", a log line) reads
		// better as what was expected there than as the literal the
		// first letter could have begun ("expected \"null\"").
		if off := strings.IndexFunc(src, func(r rune) bool { return !isJSONSpace(r) }); off >= 0 && !startsJSONValue(src[off]) || off >= 0 && isBareWord(src[off:]) {
			return nil, p.errorAt(off, "", "expected an audit-log entry (a JSON object, starting with '{'), found %s", snippet(src[off:]))
		}
		return nil, syntaxError(err, p)
	}
	return entry(entryFromValue(v, data, 0, p))
}

func isJSONSpace(r rune) bool { return r == ' ' || r == '\t' || r == '\n' || r == '\r' }

// startsJSONValue reports whether c can begin a JSON value.
func startsJSONValue(c byte) bool {
	return c == '{' || c == '[' || c == '"' || c == '-' || c >= '0' && c <= '9' || c == 't' || c == 'f' || c == 'n'
}

// isBareWord reports whether s begins with a word that is not one of
// JSON's literals (true, false, null): text rather than JSON.
func isBareWord(s string) bool {
	end := strings.IndexFunc(s, func(r rune) bool { return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') })
	if end < 0 {
		end = len(s)
	}
	switch w := s[:end]; w {
	case "", "true", "false", "null":
		return false
	}
	return true
}

// snippet quotes the start of s, up to the end of its line, for an error.
func snippet(s string) string {
	const max = 32
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		s = s[:i]
	}
	if len(s) > max {
		return strconv.Quote(s[:max]) + "…"
	}
	return strconv.Quote(s)
}

// entry returns what entryFromValue returned as the (*Entry, error) pair of
// the exported functions: no error is a nil error, not a nil *DecodeError.
func entry(e *Entry, de *DecodeError) (*Entry, error) {
	if de != nil {
		return nil, de
	}
	return e, nil
}

// syntaxError turns a jsonv error (err is not nil) into a DecodeError.
func syntaxError(err error, p positioner) *DecodeError {
	se, ok := err.(*jsonv.SyntaxError)
	if !ok { // jsonv returns no other error; placed at the start if it did
		return p.errorAt(0, "", "%v", err)
	}
	line, col := p.shift(se.Line, se.Col)
	return &DecodeError{Index: p.index, Line: line, Col: col, Offset: se.Offset + p.offBase, Field: se.Path, Msg: se.Msg}
}

// positioner builds DecodeErrors for one input. lineBase and colBase place
// src in a larger input: src's first byte is at line lineBase+1, column
// colBase+1 there (NDJSON lines, elements of a file), and at byte offBase
// when that input is the data being decoded (items of a page read one by
// one).
type positioner struct {
	src      string
	index    int
	lineBase int
	colBase  int
	offBase  int
}

// shift turns a position in src into one in the larger input.
func (p positioner) shift(line, col int) (int, int) {
	if line == 1 {
		col += p.colBase
	}
	return line + p.lineBase, col
}

func (p positioner) lineCol(off int) (int, int) {
	return p.shift(jsonv.LineCol(p.src, off))
}

func (p positioner) errorAt(off int, field, format string, args ...any) *DecodeError {
	if off < 0 {
		off = 0
	}
	line, col := p.lineCol(off)
	return &DecodeError{
		Index: p.index, Line: line, Col: col, Offset: off + p.offBase,
		Field: field, Msg: fmt.Sprintf(format, args...),
	}
}

// entryFromValue reads and checks the fields of a decoded entry.
func entryFromValue(v jsonv.Value, raw []byte, rawOff int, p positioner) (*Entry, *DecodeError) {
	if v.Kind() != jsonv.Object {
		return nil, p.errorAt(v.Offset(), "", "expected an audit-log entry (a JSON object), found %s", v.Kind())
	}
	e := &Entry{Raw: raw, Value: v, RawOffset: rawOff}

	// Required fields, in the order a reader checks them.
	id := v.Get("_id")
	switch {
	case id.IsUndefined():
		return nil, p.errorAt(v.Offset(), "_id", "required field is missing (the entry id)")
	case id.Kind() != jsonv.String:
		return nil, p.errorAt(id.Offset(), "_id", "expected a non-empty string (the entry id), found %s", id.Kind())
	case id.Text() == "":
		return nil, p.errorAt(id.Offset(), "_id", "expected a non-empty string (the entry id), found an empty string")
	}
	if why := keyProblem(id.Text(), MaxIDBytes); why != "" {
		return nil, p.errorAt(id.Offset(), "_id", "expected an entry id (text of at most %d bytes without control characters), found %s", MaxIDBytes, why)
	}
	e.ID = id.Text()

	date := v.Get("date")
	switch {
	case date.IsUndefined():
		return nil, p.errorAt(v.Offset(), "date", "required field is missing (milliseconds since epoch)")
	case date.Kind() != jsonv.Number:
		return nil, p.errorAt(date.Offset(), "date", "expected a number (milliseconds since epoch), found %s", date.Kind())
	case math.Abs(date.Float()) > maxDateMillis:
		return nil, p.errorAt(date.Offset(), "date", "%s milliseconds is outside the range of dates (±8.64e15)", jsonv.ToJSString(date))
	}
	e.Date = int64(math.Floor(date.Float()))
	if err := e.readRest(v, p); err != nil {
		err.ID, err.Date = e.ID, e.Date
		return nil, err
	}
	return e, nil
}

// readRest reads the fields after _id and date: the rest of the required
// ones, then the optional ones.
func (e *Entry) readRest(v jsonv.Value, p positioner) *DecodeError {
	kind := v.Get("kind")
	switch {
	case kind.IsUndefined():
		return p.errorAt(v.Offset(), "kind", "required field is missing (the resource kind, e.g. \"flag\")")
	case kind.Kind() != jsonv.String:
		return p.errorAt(kind.Offset(), "kind", "expected a string (the resource kind, e.g. \"flag\"), found %s", kind.Kind())
	case kind.Text() == "":
		return p.errorAt(kind.Offset(), "kind", "expected a non-empty string (the resource kind, e.g. \"flag\")")
	}
	if why := keyProblem(kind.Text(), MaxKindBytes); why != "" {
		return p.errorAt(kind.Offset(), "kind", "expected a resource kind (text of at most %d bytes without control characters), found %s", MaxKindBytes, why)
	}
	e.Kind = kind.Text()

	acc := v.Get("accesses")
	switch {
	case acc.IsUndefined():
		return p.errorAt(v.Offset(), "accesses", "required field is missing (an array of {action, resource})")
	case acc.Kind() != jsonv.Array:
		return p.errorAt(acc.Offset(), "accesses", "expected an array of {action, resource} objects, found %s", acc.Kind())
	}
	e.Accesses = make([]Access, 0, acc.Len())
	for i, a := range acc.Elems() {
		if a.Kind() != jsonv.Object {
			return p.errorAt(a.Offset(), "accesses["+strconv.Itoa(i)+"]", "expected an object with \"action\" and \"resource\", found %s", a.Kind())
		}
		var out Access
		for _, f := range [...]struct {
			name string
			dst  *string
			what string
			max  int
		}{{"action", &out.Action, "the action name", MaxActionBytes}, {"resource", &out.Resource, "a resource specifier", MaxResourceBytes}} {
			fv := a.Get(f.name)
			path := "accesses[" + strconv.Itoa(i) + "]." + f.name
			if fv.IsUndefined() {
				return p.errorAt(a.Offset(), path, "required field is missing (%s)", f.what)
			}
			if fv.Kind() != jsonv.String {
				return p.errorAt(fv.Offset(), path, "expected a string (%s), found %s", f.what, fv.Kind())
			}
			if why := keyProblem(fv.Text(), f.max); why != "" {
				return p.errorAt(fv.Offset(), path, "expected %s (text of at most %d bytes without control characters), found %s", f.what, f.max, why)
			}
			*f.dst = fv.Text()
		}
		e.Accesses = append(e.Accesses, out)
	}

	// Optional fields: a wrong type is noted and the field ignored, so a
	// change in LaunchDarkly's representation does not drop events.
	opt := func(name string, dst *string) {
		fv := v.Get(name)
		switch fv.Kind() {
		case jsonv.String:
			*dst = fv.Text()
		case jsonv.Undefined, jsonv.Null:
		default:
			e.warn(p, fv.Offset(), name, "expected a string, found %s; ignored", fv.Kind())
		}
	}
	opt("_accountId", &e.AccountID)
	opt("name", &e.Name)
	opt("description", &e.Description)
	opt("shortDescription", &e.ShortDescription)
	opt("comment", &e.Comment)
	opt("titleVerb", &e.TitleVerb)
	opt("title", &e.Title)

	if m := v.Get("member"); m.Kind() == jsonv.Object {
		e.Member = &Member{Links: m.Get("_links")}
		e.optString(p, m, "member.", "_id", &e.Member.ID)
		e.optString(p, m, "member.", "email", &e.Member.Email)
		e.optString(p, m, "member.", "firstName", &e.Member.FirstName)
		e.optString(p, m, "member.", "lastName", &e.Member.LastName)
	} else if !m.IsNullish() {
		e.warn(p, m.Offset(), "member", "expected an object, found %s; ignored", m.Kind())
	}

	if t := v.Get("target"); t.Kind() == jsonv.Object {
		e.Target.Links = t.Get("_links")
		e.optString(p, t, "target.", "name", &e.Target.Name)
		switch rs := t.Get("resources"); rs.Kind() {
		case jsonv.Array:
			for i, r := range rs.Elems() {
				switch why := keyProblem(r.Text(), MaxResourceBytes); {
				case r.Kind() != jsonv.String:
					e.warn(p, r.Offset(), "target.resources["+strconv.Itoa(i)+"]", "expected a resource specifier string, found %s; ignored", r.Kind())
				case why != "":
					e.warn(p, r.Offset(), "target.resources["+strconv.Itoa(i)+"]", "expected a resource specifier (text of at most %d bytes without control characters), found %s; ignored", MaxResourceBytes, why)
				default:
					e.Target.Resources = append(e.Target.Resources, r.Text())
				}
			}
		case jsonv.Undefined, jsonv.Null:
		default:
			e.warn(p, rs.Offset(), "target.resources", "expected an array of resource specifiers, found %s; ignored", rs.Kind())
		}
	} else if !t.IsNullish() {
		e.warn(p, t.Offset(), "target", "expected an object, found %s; ignored", t.Kind())
	}

	if pa := v.Get("parent"); pa.Kind() == jsonv.Object {
		e.Parent = &Parent{Links: pa.Get("_links")}
		e.optString(p, pa, "parent.", "name", &e.Parent.Name)
		e.optString(p, pa, "parent.", "resource", &e.Parent.Resource)
		if why := keyProblem(e.Parent.Resource, MaxResourceBytes); why != "" {
			e.warn(p, pa.Get("resource").Offset(), "parent.resource", "expected a resource specifier (text of at most %d bytes without control characters), found %s; ignored", MaxResourceBytes, why)
			e.Parent.Resource = ""
		}
	} else if !pa.IsNullish() {
		e.warn(p, pa.Offset(), "parent", "expected an object, found %s; ignored", pa.Kind())
	}
	return nil
}

func (e *Entry) optString(p positioner, obj jsonv.Value, prefix, name string, dst *string) {
	fv := obj.Get(name)
	switch fv.Kind() {
	case jsonv.String:
		*dst = fv.Text()
	case jsonv.Undefined, jsonv.Null:
	default:
		e.warn(p, fv.Offset(), prefix+name, "expected a string, found %s; ignored", fv.Kind())
	}
}

func (e *Entry) warn(p positioner, off int, field, format string, args ...any) {
	line, col := p.lineCol(off)
	e.Warnings = append(e.Warnings, Warning{Line: line, Col: col, Field: field, Msg: fmt.Sprintf(format, args...)})
}
