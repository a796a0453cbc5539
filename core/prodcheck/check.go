package prodcheck

import (
	"cmp"
	"fmt"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/aymanbagabas/go-udiff"

	"github.com/auditrelay/auditrelay/core/hook"
	"github.com/auditrelay/auditrelay/core/jsonv"
	"github.com/auditrelay/auditrelay/core/manifest"
	"github.com/auditrelay/auditrelay/core/render"
)

// Sample is an entry context templates are rendered with.
type Sample struct {
	Name    string
	Kind    string // the entry kind that picks the template; "" = Name
	Context jsonv.Value
}

// Samples returns auditrelay's own sample contexts (core/hook/samples).
func Samples() ([]Sample, error) {
	var out []Sample
	for _, n := range hook.SampleNames() {
		v, err := hook.Sample(n)
		if err != nil {
			return nil, err
		}
		out = append(out, Sample{Name: n, Context: v})
	}
	return out, nil
}

// Finding is one place where Go Handlebars would send different bytes.
type Finding struct {
	Template  string // body template path, "endpoint.url" or "endpoint.headers[i].value"
	Line, Col int    // in the template's text, 1-based; 0 for the template as a whole
	Msg       string
	// Samples are the sample contexts whose output differs because of it;
	// nil for a whitespace difference, which the template itself shows.
	Samples []string
}

// Diff is one template rendered for one sample where the outputs differ.
type Diff struct {
	Template, Sample string
	Ours             string // what auditrelay sends
	Theirs           string // what Go Handlebars would send
	Err              error  // Go Handlebars failed (Theirs is empty)
}

// Unified is the difference as a unified diff, from what auditrelay sends
// to what Go Handlebars would send.
func (d Diff) Unified() string {
	from := fmt.Sprintf("%s (sample %s): auditrelay", d.Template, d.Sample)
	to := fmt.Sprintf("%s (sample %s): Go Handlebars", d.Template, d.Sample)
	if d.Err != nil {
		return fmt.Sprintf("--- %s\n+++ %s\n%s\n", from, to, d.Err)
	}
	return udiff.Unified(from, to, d.Ours, d.Theirs)
}

// Report is what Check found.
type Report struct {
	Findings []Finding
	Diffs    []Diff
}

// Options says what Check renders.
type Options struct {
	Samples []Sample   // nil: Samples()
	Vars    *hook.Vars // nil: hook.TestVars, values that are nobody's secrets
	// Keys limits the check to these body templates (an editor saving one);
	// nil checks every body template and the endpoint URL and headers.
	Keys []string
}

// Check renders every template of in that core/render parsed with raymond
// for the samples, and reports where the bytes differ from core/render's.
func Check(in *hook.Integration, opts Options) (Report, error) {
	samples := opts.Samples
	if samples == nil {
		var err error
		if samples, err = Samples(); err != nil {
			return Report{}, err
		}
	}
	src := in.Source()
	vars := hook.TestVars(src.Manifest)
	if opts.Vars != nil {
		vars = *opts.Vars
	}
	bound := in.Bind(vars)
	c := &checker{}
	for _, t := range targets(src, bound, samples, opts.Keys) {
		c.target(t)
	}
	return Report{Findings: c.findings, Diffs: c.diffs}, nil
}

// target is one template and the roots to render it with.
type target struct {
	name  string
	tpl   *render.Template
	roots []root
}

type root struct {
	sample string
	value  jsonv.Value
}

func targets(src *manifest.Integration, bound *hook.Bound, samples []Sample, keys []string) []target {
	h := src.Hook()
	if h == nil || h.UseStandardWebhookPayload && keys != nil {
		return nil
	}
	var out []target
	byPath := map[string]int{}
	for _, key := range manifest.TemplateKeys() {
		t := src.Template(key)
		if t == nil || t.Compiled == nil || (keys != nil && !slices.Contains(keys, key)) {
			continue
		}
		i, ok := byPath[t.Path]
		if !ok {
			i = len(out)
			byPath[t.Path] = i
			out = append(out, target{name: t.Path, tpl: t.Compiled})
		}
		for _, s := range samplesFor(h, key, samples) {
			v, ok := bound.BodyContext(hook.NewEvent(s.Context, nil), key)
			if ok && !slices.ContainsFunc(out[i].roots, func(r root) bool { return r.sample == s.Name }) {
				out[i].roots = append(out[i].roots, root{sample: s.Name, value: v})
			}
		}
	}
	if keys != nil || len(samples) == 0 {
		return out
	}
	ep := bound.EndpointContext(hook.NewEvent(samples[0].Context, nil))
	if u := src.URLTemplate(); u != nil {
		out = append(out, target{name: "endpoint.url", tpl: u, roots: []root{{samples[0].Name, ep}}})
	}
	for i, t := range src.HeaderTemplates() {
		if t != nil {
			out = append(out, target{name: fmt.Sprintf("endpoint.headers[%d].value", i), tpl: t, roots: []root{{samples[0].Name, ep}}})
		}
	}
	return out
}

// samplesFor picks the samples a template of key renders in production:
// those of the kinds routed to it, the environment one for validation (as
// the framework's tests do), or else the first.
func samplesFor(h *manifest.AuditLogEventsHook, key string, samples []Sample) []Sample {
	var out []Sample
	for _, s := range samples {
		kind := cmp.Or(s.Kind, s.Name)
		routed, _ := h.Templates.ForKind(kind)
		if routed == key || (key == manifest.TemplateValidation && kind == "environment") {
			out = append(out, s)
		}
	}
	if len(out) == 0 && len(samples) > 0 {
		out = samples[:1]
	}
	return out
}

type checker struct {
	findings []Finding
	diffs    []Diff
}

func (c *checker) add(f Finding, sample string) {
	for i := range c.findings {
		g := &c.findings[i]
		if g.Template == f.Template && g.Line == f.Line && g.Col == f.Col && g.Msg == f.Msg {
			if sample != "" && !slices.Contains(g.Samples, sample) {
				g.Samples = append(g.Samples, sample)
			}
			return
		}
	}
	if sample != "" {
		f.Samples = []string{sample}
	}
	c.findings = append(c.findings, f)
}

func (c *checker) target(t target) {
	src := t.tpl.Source()
	g, err := parseGo(src)
	if err != nil {
		c.add(Finding{Template: t.name, Msg: "Go Handlebars (LaunchDarkly's renderer) cannot parse this template, so LaunchDarkly would send nothing: " + firstLine(err.Error())}, "")
		return
	}
	static := c.whitespace(t, g)
	for _, r := range t.roots {
		ours, spans, err := t.tpl.ExecuteTrace(r.value, render.Budget{})
		if err != nil {
			continue // delivery fails the same way; the lint reports it
		}
		theirs, err := execGo(g.tpl, r.value)
		if err != nil {
			c.diffs = append(c.diffs, Diff{Template: t.name, Sample: r.sample, Ours: ours, Err: err})
			c.add(Finding{Template: t.name, Msg: firstLine(err.Error()) + ", so LaunchDarkly would send nothing"}, r.sample)
			continue
		}
		if theirs == ours {
			continue
		}
		c.diffs = append(c.diffs, Diff{Template: t.name, Sample: r.sample, Ours: ours, Theirs: theirs})
		c.explain(t, g, r, ours, theirs, spans, static)
	}
}

// whitespace compares what the two parsers' whitespace control leaves of
// each text run and reports each difference at the tag responsible. It
// reports whether it found any.
func (c *checker) whitespace(t target, g *goTemplate) bool {
	src := t.tpl.Source()
	theirs := map[int]string{}
	for _, cs := range g.contents {
		theirs[cs.Pos] = cs.Value
	}
	type tagFix struct{ indent, newline, more bool }
	fixes := map[int]*tagFix{} // by the tag's offset
	var order []int
	fix := func(tag int) *tagFix {
		if fixes[tag] == nil {
			fixes[tag] = &tagFix{}
			order = append(order, tag)
		}
		return fixes[tag]
	}
	found := false
	for _, ct := range t.tpl.Contents() {
		end := ct.Pos + len(ct.Original)
		tv, ok := theirs[ct.Pos]
		if !ok || tv == ct.Value || end > len(src) {
			continue
		}
		found = true
		switch {
		case strings.HasSuffix(tv, ct.Value) && strings.HasPrefix(ct.Original, tv[:len(tv)-len(ct.Value)]):
			// Kept at the start: what follows the tag before this text.
			if tag := tagBefore(src, ct.Pos); tag >= 0 {
				if strings.Contains(tv[:len(tv)-len(ct.Value)], "\n") {
					fix(tag).newline = true
				} else {
					fix(tag).more = true
				}
				continue
			}
		case strings.HasPrefix(tv, ct.Value):
			// Kept at the end: the indentation of the tag after it.
			if tag := tagAt(src, end); tag >= 0 {
				fix(tag).indent = true
				continue
			}
		}
		line, col := position(src, ct.Pos)
		c.add(Finding{Template: t.name, Line: line, Col: col,
			Msg: fmt.Sprintf("Go Handlebars keeps %s of this text where auditrelay keeps %s (standalone lines are handled differently)", quote(tv), quote(ct.Value))}, "")
	}
	for _, tag := range order {
		f := fixes[tag]
		what := "its indentation"
		switch {
		case f.indent && f.newline:
			what = "its indentation and newline"
		case f.newline:
			what = "its newline"
		case f.more:
			what = "the whitespace after it"
		}
		line, col := position(src, tag)
		c.add(Finding{Template: t.name, Line: line, Col: col,
			Msg: fmt.Sprintf("a standalone `%s` line keeps %s under Go Handlebars", tagText(src, tag), what)}, "")
	}
	return found
}

// explain reports what, besides the whitespace the text runs show, makes
// theirs differ from ours: the first difference of the two outputs without
// whitespace, at the statement of ours that wrote it.
func (c *checker) explain(t target, g *goTemplate, r root, ours, theirs string, spans []render.Span, static bool) {
	src := t.tpl.Source()
	ow, oi := squeeze(ours)
	tw, ti := squeeze(theirs)
	if ow == tw {
		if !static { // whitespace that the text runs do not show
			sp, _ := innermost(spans, commonPrefix(ours, theirs), nil)
			c.add(Finding{Template: t.name, Line: sp.Line, Col: sp.Col,
				Msg: fmt.Sprintf("the whitespace written around `%s` differs under Go Handlebars", tagText(src, sp.Pos))}, r.sample)
		}
		return
	}
	at := func(idx []int, s string, k int) int {
		if k < len(idx) {
			return idx[k]
		}
		return len(s)
	}
	k := commonPrefix(ow, tw)
	d := at(oi, ours, k)
	// Go's map order is random: if another render matches, only the order
	// of an object's keys differed.
	for range 3 {
		again, err := execGo(g.tpl, r.value)
		if aw, _ := squeeze(again); err == nil && aw == ow {
			sp, ok := innermost(spans, d, func(s render.Span) bool { return isEach(src, s.Pos) })
			if !ok {
				sp, _ = innermost(spans, d, nil)
			}
			c.add(Finding{Template: t.name, Line: sp.Line, Col: sp.Col,
				Msg: fmt.Sprintf("`%s` loops over an object: Go Handlebars visits its keys in Go's random map order, so what LaunchDarkly sends changes from one entry to the next", tagText(src, sp.Pos))}, r.sample)
			return
		}
	}
	// A tag rather than the text inside a block: {{#if o}} rather than
	// what it prints.
	sp, ok := innermost(spans, d, func(s render.Span) bool { return strings.HasPrefix(src[s.Pos:], "{{") })
	if !ok {
		sp, _ = innermost(spans, d, nil)
	}
	// The statement's output, and what Go Handlebars wrote in its place:
	// from the same place in the text up to where ours goes on after it.
	ks, ke := sort.SearchInts(oi, sp.Start), sort.SearchInts(oi, sp.End)
	tEnd := len(theirs)
	if next := ow[ke:min(ke+16, len(ow))]; next != "" {
		if j := strings.Index(tw[k:], next); j >= 0 {
			tEnd = at(ti, theirs, k+j)
		}
	}
	om := strings.TrimSpace(ours[sp.Start:sp.End])
	tm := strings.TrimSpace(theirs[min(at(ti, theirs, ks), tEnd):tEnd])
	hint := ""
	switch {
	case strings.Contains(tm, "map["):
		hint = " (Go Handlebars prints an object as map[…], handlebars.js as [object Object])"
	case strings.Contains(om, ",") && strings.ReplaceAll(om, ",", "") == strings.ReplaceAll(tm, ",", "") && len(tm) < len(om):
		hint = " (Go Handlebars prints an array without commas)"
	case tm == "":
		hint = " (Go Handlebars takes {} as false, and finds a name missing here in the parent contexts)"
	}
	c.add(Finding{Template: t.name, Line: sp.Line, Col: sp.Col,
		Msg: fmt.Sprintf("`%s` writes %s here; Go Handlebars writes %s%s", tagText(src, sp.Pos), quote(om), quote(tm), hint)}, r.sample)
}

// squeeze returns s without ASCII whitespace, and the offset in s of each
// byte kept.
func squeeze(s string) (string, []int) {
	b := make([]byte, 0, len(s))
	idx := make([]int, 0, len(s))
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case ' ', '\t', '\n', '\r', '\f', '\v':
			continue
		}
		b = append(b, s[i])
		idx = append(idx, i)
	}
	return string(b), idx
}

// innermost returns the smallest span holding output offset off that ok
// accepts, or when none holds it (off is where ours ends, or an empty
// statement), the smallest one ending there.
func innermost(spans []render.Span, off int, ok func(render.Span) bool) (render.Span, bool) {
	pick := func(hit func(render.Span) bool) (render.Span, bool) {
		best, found := render.Span{Line: 1, Col: 1}, false
		for _, s := range spans {
			if (ok == nil || ok(s)) && hit(s) && (!found || s.End-s.Start < best.End-best.Start) {
				best, found = s, true
			}
		}
		return best, found
	}
	if sp, found := pick(func(s render.Span) bool { return s.Start <= off && off < s.End }); found {
		return sp, true
	}
	return pick(func(s render.Span) bool { return s.End == off })
}

func isEach(src string, pos int) bool {
	t := strings.TrimLeft(strings.TrimPrefix(src[pos:], "{{"), "~ ")
	return strings.HasPrefix(t, "#each")
}

// tagBefore returns the offset of the tag that ends at end, or -1.
func tagBefore(src string, end int) int {
	if end < 2 || src[end-2:end] != "}}" {
		return -1
	}
	return strings.LastIndex(src[:end], "{{")
}

// tagAt returns pos when a tag starts there, or -1.
func tagAt(src string, pos int) int {
	if strings.HasPrefix(src[pos:], "{{") {
		return pos
	}
	return -1
}

// tagText is the tag (or the text) at pos, shortened for a message.
func tagText(src string, pos int) string {
	s := src[pos:]
	if strings.HasPrefix(s, "{{") {
		if end := strings.Index(s, "}}"); end >= 0 {
			s = s[:end+2]
			if strings.HasPrefix(src[pos+len(s):], "}") {
				s += "}"
			}
		}
	} else if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return shorten(s, 48)
}

func shorten(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

func quote(s string) string { return fmt.Sprintf("%q", shorten(s, 40)) }

func commonPrefix(a, b string) int {
	n := min(len(a), len(b))
	for i := 0; i < n; i++ {
		if a[i] != b[i] {
			return i
		}
	}
	return n
}

// position converts a byte offset of src into a 1-based line and column
// (in characters).
func position(src string, off int) (line, col int) {
	line = 1 + strings.Count(src[:off], "\n")
	start := strings.LastIndexByte(src[:off], '\n') + 1
	return line, utf8.RuneCountInString(src[start:off]) + 1
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// Problems turns the findings into warnings located in the integration's
// files: each says what LaunchDarkly's Go renderer would do differently
// and with which samples.
func Problems(src *manifest.Integration, rep Report) manifest.Problems {
	var out manifest.Problems
	for _, f := range rep.Findings {
		file, line, col := src.Locate(f.Template, max(f.Line, 1), max(f.Col, 1))
		if f.Line == 0 {
			line, col = 0, 0
		}
		msg := "production render: " + f.Msg
		if len(f.Samples) > 0 {
			msg += fmt.Sprintf(" (sample %s)", strings.Join(f.Samples, ", "))
		}
		if strings.HasPrefix(f.Template, "endpoint.") {
			msg = f.Template + ": " + msg
		}
		out = append(out, manifest.Problem{File: file, Line: line, Col: col, Severity: manifest.SeverityWarning, Msg: msg})
	}
	return out
}
