package auditlog

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/auditrelay/auditrelay/core/jsonv"
)

// DefaultBaseURL is LaunchDarkly's application URL, the context's baseURL
// unless Options say otherwise.
const DefaultBaseURL = "https://app.launchdarkly.com"

// allEnvironments is how the context names the environment of a flag change
// that applies to every environment (key "~").
const (
	allEnvironmentsKey  = "~"
	allEnvironmentsName = "All environments"
)

// Options configure a Builder.
type Options struct {
	// BaseURL is the LaunchDarkly app URL that relative links are resolved
	// against and that the context's baseURL holds. Default DefaultBaseURL.
	BaseURL string
	// Lookup, when set, supplies names and tags of projects and
	// environments that entries carry only as keys. Optional.
	Lookup Lookup
}

// Lookup answers names and tags of projects and environments by key.
// Builds run on the per-event path, so implementations answer from memory
// (a cache filled elsewhere) and must be safe for concurrent use; ok is
// false when the resource is not known.
type Lookup interface {
	Project(key string) (r Resource, ok bool)
	Environment(projectKey, envKey string) (r Resource, ok bool)
}

// Resource is what a Lookup knows about a project or environment.
type Resource struct {
	Name string
	Tags []string
}

// Builder turns entries into template contexts. It is safe for concurrent
// use.
type Builder struct {
	baseURL string
	lookup  Lookup
	md      *markdown
}

// NewBuilder returns a Builder. BaseURL must be an absolute http or https
// URL; a trailing slash is dropped.
func NewBuilder(opts Options) (*Builder, error) {
	base := opts.BaseURL
	if base == "" {
		base = DefaultBaseURL
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("base URL %q: expected an absolute http(s) URL such as %s", base, DefaultBaseURL)
	}
	return &Builder{baseURL: strings.TrimRight(base, "/"), lookup: opts.Lookup, md: newMarkdown()}, nil
}

// BaseURL returns the base URL contexts are built with.
func (b *Builder) BaseURL() string { return b.baseURL }

// scope is where an entry's resource sits: its project and environment,
// resolved from resource specifiers, the entry and the Lookup.
type scope struct {
	typ       string // specifier type of the entry's kind
	key       string // key of the changed resource ("" when unknown)
	segs      []segment
	projKey   string
	projName  string
	projTags  []string
	envKey    string
	envName   string
	envTags   []string
	allEnvs   bool
	verbKind  string
	resTags   []string // tags of the changed resource; nil when it has none
	targetID  string
	deleteish bool
}

// Build returns the template context for e, in the shape of the
// integration framework's sample contexts. See the package documentation
// for where each field comes from.
func (b *Builder) Build(e *Entry) jsonv.Value {
	s := b.resolve(e)
	ctx := jsonv.NewMembers(18)

	links := b.entryLinks(e, s)
	ctx.Set("_links", links)
	ctx.Set("baseURL", jsonv.Str(b.baseURL))
	ctx.Set("_id", jsonv.Str(e.ID))
	ctx.Set("_accountId", jsonv.Str(e.AccountID))
	ctx.Set("timestamp", timestamp(e.Date))
	ctx.Set("kind", jsonv.Str(e.Kind))
	name := firstNonEmpty(e.Name, e.Target.Name, s.key)
	ctx.Set("name", jsonv.Str(name))
	ctx.Set("details", b.md.value(e.Description))
	if e.Comment != "" {
		ctx.Set("comment", jsonv.Str(e.Comment))
	}
	ctx.Set("project", projectValue(s))
	if !idKeyed(e.Kind) {
		ctx.Set("key", jsonv.Str(s.key))
	}
	ctx.Set("tags", tagsValue(s.resTags))
	if e.Kind == "flag" {
		if cp, ok := customProperties(e); ok {
			ctx.Set("customProperties", cp)
		}
	}
	actor := b.memberValue(e)
	ctx.Set("member", actor)
	verb := e.TitleVerb
	if verb == "" {
		verb = defaultVerb(s.verbKind, e.Kind)
	}
	ctx.Set("titleVerb", jsonv.Str(verb))
	ctx.Set("verbKind", jsonv.Str(s.verbKind))
	title := e.Title
	if title == "" {
		title = b.synthesizeTitle(e, s, actor, verb, name, links)
	}
	ctx.Set("title", b.md.value(title))
	ctx.Set("target", b.targetValue(e, s, name, links))
	return jsonv.Obj(ctx)
}

func (b *Builder) resolve(e *Entry) scope {
	s := scope{typ: specType(e.Kind)}
	primary, hasPrimary := e.PrimaryAccess()
	if hasPrimary {
		s.verbKind = primary.Action
		s.deleteish = strings.HasPrefix(primary.Action, "delete")
	}

	// The changed resource's specifier: the target's when it names a
	// resource of the entry's kind, else the primary access's.
	for _, r := range e.Target.Resources {
		if segs := parseSpecifier(r); len(segs) > 0 && segs[len(segs)-1].typ == s.typ {
			s.segs = segs
			break
		}
	}
	if s.segs == nil && hasPrimary {
		s.segs = parseSpecifier(primary.Resource)
	}
	if s.segs == nil && len(e.Target.Resources) > 0 {
		s.segs = parseSpecifier(e.Target.Resources[0])
	}
	if n := len(s.segs); n > 0 && s.segs[n-1].typ == s.typ {
		s.key = s.segs[n-1].name
	}

	cur := e.Value.Get("currentVersion")
	if !cur.Truthy() {
		cur = e.Value.Get("previousVersion")
	}

	// Project.
	if s.typ == "proj" {
		s.projKey = s.key
	} else if seg, ok := findSegment(s.segs, "proj"); ok {
		s.projKey = seg.name
	}
	if s.projKey != "" {
		var known Resource
		var isKnown bool
		if b.lookup != nil {
			known, isKnown = b.lookup.Project(s.projKey)
		}
		// The entry itself is fresher than a lookup cache when it is
		// about the project; the key is the last resort.
		s.projName = firstNonEmpty(ifThen(s.typ == "proj", e.Name), known.Name, parentName(e, "proj", s.projKey), s.projKey)
		s.projTags = firstTags(specTags(e, "proj", s.projKey), ifKind(s.typ == "proj", stringArray(cur.Get("tags"))), ifKnown(isKnown, known.Tags))
		if s.projTags == nil {
			s.projTags = []string{}
		}
	}

	// Environment.
	if seg, ok := findSegment(s.segs, "env"); ok {
		s.envKey = seg.name
	} else if s.typ == "env" {
		s.envKey = s.key
	}
	if s.typ == "flag" && s.projKey != "" &&
		(s.envKey == "" || s.envKey == "*" || s.envKey == allEnvironmentsKey || spansEnvironments(e, primary.Action, s.key)) {
		s.allEnvs = true
		s.envKey, s.envName, s.envTags = allEnvironmentsKey, allEnvironmentsName, []string{}
	} else if s.envKey != "" {
		var known Resource
		var isKnown bool
		if b.lookup != nil {
			known, isKnown = b.lookup.Environment(s.projKey, s.envKey)
		}
		s.envName = firstNonEmpty(ifThen(s.typ == "env", e.Name), known.Name, parentName(e, "env", s.envKey), titleEnvironment(e.Title), s.envKey)
		s.envTags = firstTags(specTags(e, "env", s.envKey), ifKind(s.typ == "env", stringArray(cur.Get("tags"))), ifKnown(isKnown, known.Tags))
		if s.envTags == nil {
			s.envTags = []string{}
		}
	}

	// Tags of the changed resource itself.
	switch s.typ {
	case "proj":
		s.resTags = s.projTags
	case "env":
		s.resTags = s.envTags
	default:
		s.resTags = firstTags(specTags(e, s.typ, s.key), stringArray(cur.Get("tags")))
	}
	if s.resTags == nil && taggable(e.Kind) {
		s.resTags = []string{}
	}

	if id := cur.Get("_id"); id.Kind() == jsonv.String {
		s.targetID = id.Text()
	} else if idKeyed(e.Kind) {
		s.targetID = s.key // these kinds' specifiers name the resource by id
	}
	return s
}

// entryLinks copies the entry's _links with hrefs made absolute, adds self
// and parent when the entry lacks them, and adds the synthesized details
// link last, as the sample contexts order them.
func (b *Builder) entryLinks(e *Entry, s scope) jsonv.Value {
	m := jsonv.NewMembers(5)
	for _, l := range e.Value.Get("_links").Members() {
		if l.Value.Kind() == jsonv.Object {
			m.Set(l.Key, b.link(l.Value))
		}
	}
	if _, ok := m.Lookup("self"); !ok {
		m.Set("self", linkValue(b.baseURL+"/api/v2/auditlog/"+url.PathEscape(e.ID), "application/json"))
	}
	if _, ok := m.Lookup("parent"); !ok {
		m.Set("parent", linkValue(b.baseURL+"/api/v2/auditlog", "application/json"))
	}
	var details string
	if s.envKey != "" && !s.allEnvs && s.projKey != "" {
		details = b.baseURL + "/" + url.PathEscape(s.projKey) + "/" + url.PathEscape(s.envKey) + "/audit/" + url.PathEscape(e.ID) + "/details"
	} else {
		details = b.baseURL + "/settings/history/" + url.PathEscape(e.ID) + "/details"
	}
	m.Set("details", linkValue(details, "text/html"))
	return jsonv.Obj(m)
}

// link rebuilds one {href, type} link with an absolute href.
func (b *Builder) link(v jsonv.Value) jsonv.Value {
	return linkValue(b.absolute(v.Get("href").Text()), v.Get("type").Text())
}

func (b *Builder) absolute(href string) string {
	if strings.HasPrefix(href, "/") && !strings.HasPrefix(href, "//") {
		return b.baseURL + href
	}
	return href
}

func linkValue(href, typ string) jsonv.Value {
	m := jsonv.NewMembers(2)
	m.Set("href", jsonv.Str(href))
	m.Set("type", jsonv.Str(typ))
	return jsonv.Obj(m)
}

func timestamp(ms int64) jsonv.Value {
	t := time.UnixMilli(ms).UTC()
	sec := ms / 1000
	if ms%1000 < 0 {
		sec-- // floor, also before 1970
	}
	m := jsonv.NewMembers(4)
	m.Set("milliseconds", jsonv.Int(ms))
	m.Set("seconds", jsonv.Int(sec))
	m.Set("rfc3339", jsonv.Str(t.Format("2006-01-02T15:04:05Z07:00")))
	m.Set("simple", jsonv.Str(t.Format("2006-01-02 15:04:05")))
	return jsonv.Obj(m)
}

// value is src in the context's three forms ({plainText, markdown,
// html}). Parsing and rendering markdown cost more than the rest of a
// context, and most templates read one form of the title and the details,
// often the markdown as it came: the object is lazy, rendered the first
// time a template reads plainText or html (or the whole object).
func (m *markdown) value(src string) jsonv.Value {
	known := []jsonv.Member{{Key: "markdown", Value: jsonv.Str(src), KeyOffset: -1}}
	return jsonv.Lazy(known, func(ms *jsonv.Members) {
		r := m.render(src)
		ms.Set("plainText", jsonv.Str(r.plainText))
		ms.Set("markdown", jsonv.Str(r.markdown))
		ms.Set("html", jsonv.Str(r.html))
	})
}

func projectValue(s scope) jsonv.Value {
	env := jsonv.NewMembers(3)
	env.Set("name", jsonv.Str(s.envName))
	env.Set("key", jsonv.Str(s.envKey))
	env.Set("tags", tagsValue(s.envTags))
	p := jsonv.NewMembers(4)
	p.Set("name", jsonv.Str(s.projName))
	p.Set("key", jsonv.Str(s.projKey))
	p.Set("tags", tagsValue(s.projTags))
	p.Set("environment", jsonv.Obj(env))
	return jsonv.Obj(p)
}

// tagsValue is an array of tags, or null for nil (resource without tags).
func tagsValue(tags []string) jsonv.Value {
	if tags == nil {
		return jsonv.NullValue()
	}
	out := make([]jsonv.Value, len(tags))
	for i, t := range tags {
		out[i] = jsonv.Str(t)
	}
	return jsonv.Arr(out...)
}

// memberValue is the actor. Without a member (a change through an API token
// or an OAuth app) the name comes from subject, token or app.
func (b *Builder) memberValue(e *Entry) jsonv.Value {
	var mem Member
	if e.Member != nil {
		mem = *e.Member
	}
	display := mem.DisplayName()
	if display == "" {
		display = firstNonEmpty(
			e.Value.Path("subject", "name").Text(),
			e.Value.Path("token", "name").Text(),
			e.Value.Path("app", "name").Text(),
		)
	}
	local := mem.Email
	if i := strings.LastIndexByte(local, '@'); i >= 0 {
		local = local[:i]
	}
	self := ""
	if mem.ID != "" {
		self = b.baseURL + "/api/v2/members/" + url.PathEscape(mem.ID)
	}
	links := jsonv.NewMembers(2)
	links.Set("parent", linkValue(b.baseURL+"/api/v2/members", "application/json"))
	links.Set("self", linkValue(self, "application/json"))

	m := jsonv.NewMembers(7)
	m.Set("_links", jsonv.Obj(links))
	m.Set("_id", jsonv.Str(mem.ID))
	m.Set("email", jsonv.Str(mem.Email))
	m.Set("emailLocalPart", jsonv.Str(local))
	m.Set("firstName", jsonv.Str(mem.FirstName))
	m.Set("lastName", jsonv.Str(mem.LastName))
	m.Set("displayName", jsonv.Str(display))
	return jsonv.Obj(m)
}

// synthesizeTitle writes the title LaunchDarkly would, for entries that
// lack one (list items of older API versions): actor, verb, target, and
// for flag changes in one environment " in `Env`".
func (b *Builder) synthesizeTitle(e *Entry, s scope, actor jsonv.Value, verb, name string, links jsonv.Value) string {
	var t strings.Builder
	display, email := actor.Get("displayName").Text(), actor.Get("email").Text()
	switch {
	case display == "":
		t.WriteString("Someone")
	case email != "":
		t.WriteString("[" + escapeMarkdown(display) + "](mailto:" + email + ")")
	default:
		t.WriteString(escapeMarkdown(display))
	}
	t.WriteString(" " + escapeMarkdown(verb) + " ")
	if site := links.Path("site", "href").Text(); site != "" && !s.deleteish {
		t.WriteString("[" + escapeMarkdown(name) + "](" + site + ")")
	} else {
		t.WriteString(escapeMarkdown(name))
	}
	if e.Kind == "flag" && s.envKey != "" && !s.allEnvs && s.envName != "" && !strings.Contains(s.envName, "`") {
		t.WriteString(" in `" + s.envName + "`")
	}
	return t.String()
}

func (b *Builder) targetValue(e *Entry, s scope, name string, entryLinks jsonv.Value) jsonv.Value {
	links := jsonv.NewMembers(2)
	if e.Target.Links.Kind() == jsonv.Object {
		for _, l := range e.Target.Links.Members() {
			if l.Value.Kind() == jsonv.Object {
				links.Set(l.Key, b.link(l.Value))
			}
		}
	} else {
		// No target links: the entry's own canonical and site links are
		// the target's (they are in every sample context).
		for _, k := range [...]string{"canonical", "site"} {
			if v := entryLinks.Get(k); !v.IsUndefined() {
				links.Set(k, v)
			}
		}
	}
	tname := e.Target.Name
	if tname == "" {
		tname = name
	}
	m := jsonv.NewMembers(3)
	m.Set("_links", jsonv.Obj(links))
	m.Set("name", jsonv.Str(tname))
	m.Set("_id", jsonv.Str(s.targetID))
	return jsonv.Obj(m)
}

// customProperties maps the flag's customProperties (REST:
// {key: {name, value: [...]}}) to the context's {key: {name, values: [...]}}.
func customProperties(e *Entry) (jsonv.Value, bool) {
	cp := e.Value.Path("currentVersion", "customProperties")
	if cp.Kind() != jsonv.Object {
		cp = e.Value.Path("previousVersion", "customProperties")
	}
	if cp.Kind() != jsonv.Object || cp.Len() == 0 {
		return jsonv.Value{}, false
	}
	out := jsonv.NewMembers(cp.Len())
	for _, p := range cp.Members() {
		if p.Value.Kind() != jsonv.Object {
			continue
		}
		vals := p.Value.Get("value")
		if vals.IsUndefined() {
			vals = p.Value.Get("values")
		}
		var list []jsonv.Value
		switch vals.Kind() {
		case jsonv.Array:
			for _, v := range vals.Elems() {
				if !v.IsNullish() && v.Kind() != jsonv.Object && v.Kind() != jsonv.Array {
					list = append(list, jsonv.Str(jsonv.ToJSString(v)))
				}
			}
		case jsonv.String, jsonv.Number, jsonv.Bool:
			list = append(list, jsonv.Str(jsonv.ToJSString(vals)))
		}
		pm := jsonv.NewMembers(2)
		pm.Set("name", jsonv.Str(firstNonEmpty(p.Value.Get("name").Text(), p.Key)))
		pm.Set("values", jsonv.Arr(list...))
		out.Set(p.Key, jsonv.Obj(pm))
	}
	if out.Len() == 0 {
		return jsonv.Value{}, false
	}
	return jsonv.Obj(out), true
}

// spansEnvironments reports whether the entry records the primary action on
// the flag in more than one environment: one access per environment is one
// of the shapes LaunchDarkly may use for an all-environments change.
func spansEnvironments(e *Entry, action, flagKey string) bool {
	first := ""
	for _, a := range e.Accesses {
		if a.Action != action {
			continue
		}
		segs := parseSpecifier(a.Resource)
		if n := len(segs); n == 0 || segs[n-1].typ != "flag" || segs[n-1].name != flagKey {
			continue
		}
		env, _ := findSegment(segs, "env")
		if first == "" {
			first = env.name
		} else if env.name != first {
			return true
		}
	}
	return false
}

// specTags returns the tags that any specifier of the entry (target
// resources first, then accesses) lists for the segment typ/name.
func specTags(e *Entry, typ, name string) []string {
	if name == "" {
		return nil
	}
	scan := func(spec string) []string {
		for _, seg := range parseSpecifier(spec) {
			if seg.typ == typ && seg.name == name && seg.tags != nil {
				return seg.tags
			}
		}
		return nil
	}
	for _, r := range e.Target.Resources {
		if t := scan(r); t != nil {
			return t
		}
	}
	for _, a := range e.Accesses {
		if t := scan(a.Resource); t != nil {
			return t
		}
	}
	return nil
}

// parentName is the parent's name when the parent is the resource typ/key.
func parentName(e *Entry, typ, key string) string {
	if e.Parent == nil || e.Parent.Name == "" {
		return ""
	}
	segs := parseSpecifier(e.Parent.Resource)
	if n := len(segs); n > 0 && segs[n-1].typ == typ && segs[n-1].name == key {
		return e.Parent.Name
	}
	return ""
}

// titleEnvironment reads the environment name from a LaunchDarkly title
// that ends " in `Production`", the one place a list entry names it.
func titleEnvironment(title string) string {
	if !strings.HasSuffix(title, "`") {
		return ""
	}
	i := strings.LastIndex(title, " in `")
	if i < 0 {
		return ""
	}
	name := title[i+len(" in `") : len(title)-1]
	if strings.Contains(name, "`") {
		return ""
	}
	return name
}

func stringArray(v jsonv.Value) []string {
	if v.Kind() != jsonv.Array {
		return nil
	}
	out := make([]string, 0, v.Len())
	for _, e := range v.Elems() {
		if e.Kind() == jsonv.String {
			out = append(out, e.Text())
		}
	}
	return out
}

// idKeyed reports kinds whose specifiers name the resource by id, not key;
// their contexts have no "key" (as in the member and webhook samples).
func idKeyed(kind string) bool {
	switch kind {
	case "member", "webhook", "token", "service-token":
		return true
	}
	return false
}

// taggable reports kinds that carry tags in LaunchDarkly; the others get
// "tags": null.
func taggable(kind string) bool {
	switch kind {
	case "project", "environment", "flag", "segment", "metric", "webhook":
		return true
	}
	return false
}

// defaultVerb stands in for a missing titleVerb.
func defaultVerb(action, kind string) string {
	switch {
	case strings.HasPrefix(action, "create"):
		return "created the " + kind
	case strings.HasPrefix(action, "delete"):
		return "deleted the " + kind
	}
	return "updated the " + kind
}

func escapeMarkdown(s string) string {
	if !strings.ContainsAny(s, "\\`*_[]()<>#!~|") {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune("\\`*_[]()<>#!~|", r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

func firstTags(ts ...[]string) []string {
	for _, t := range ts {
		if t != nil {
			return t
		}
	}
	return nil
}

func ifThen(cond bool, s string) string {
	if cond {
		return s
	}
	return ""
}

func ifKnown(known bool, tags []string) []string {
	if known && tags == nil {
		return []string{}
	}
	if known {
		return tags
	}
	return nil
}

func ifKind(cond bool, tags []string) []string {
	if cond {
		return tags
	}
	return nil
}
