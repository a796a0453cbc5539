package manifest

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/auditrelay/auditrelay/core/jsonv"
	"github.com/auditrelay/auditrelay/core/render"
)

// ManifestFile is the manifest's file name inside an integration directory.
const ManifestFile = "manifest.json"

// maxFileSize bounds manifest and template files; anything larger is a
// mistake, not an integration.
const maxFileSize = 4 << 20

// Integration is a loaded, valid integration: its manifest and compiled
// templates. It is immutable once loaded and safe to share.
type Integration struct {
	// Name identifies the integration: its directory name, or the
	// built-in's name.
	Name string
	// Builtin is set for integrations shipped inside auditrelay.
	Builtin bool
	// Path is the directory as the user named it ("<builtin>/slack" for
	// built-ins). Problems are reported relative to it.
	Path     string
	Manifest *Manifest
	// Warnings are problems that do not stop the integration from working.
	Warnings Problems

	source    string               // manifest.json as read
	templates map[string]*Template // by path relative to the directory
	url       *render.Template     // nil without an endpoint
	headers   []*render.Template   // parallel to Manifest endpoint headers
	locs      map[string]locator   // template name -> where its text lives
}

// Template is one body template file of an integration.
type Template struct {
	Path     string // relative to the integration directory, as the manifest names it
	Source   string
	JSON     bool // JSON template: the context is JSON-escaped and the result must parse
	Compiled *render.Template
}

// Hook returns the integration's audit-log events hook, or nil.
func (in *Integration) Hook() *AuditLogEventsHook { return in.Manifest.Hook() }

// ManifestJSON returns manifest.json exactly as it was read.
func (in *Integration) ManifestJSON() []byte { return []byte(in.source) }

// Template returns the body template for a template key (flag, project,
// environment, member, default, validation), or nil.
func (in *Integration) Template(key string) *Template {
	h := in.Hook()
	if h == nil {
		return nil
	}
	return in.templates[h.Templates.Get(key)]
}

// TemplateFile returns the body template at a path, or nil.
func (in *Integration) TemplateFile(p string) *Template { return in.templates[p] }

// URLTemplate returns the compiled endpoint URL, or nil without endpoint.
func (in *Integration) URLTemplate() *render.Template { return in.url }

// HeaderTemplates returns the compiled endpoint header values, in manifest
// order.
func (in *Integration) HeaderTemplates() []*render.Template { return in.headers }

// File returns the display path of a file inside the integration.
func (in *Integration) File(rel string) string { return displayJoin(in.Path, rel) }

// Locate converts a position inside a compiled template (by the template's
// name: a body template path, "endpoint.url" or "endpoint.headers[i].value")
// into the file and line:col where that text is, so that problems found
// while rendering point into manifest.json or the template file.
func (in *Integration) Locate(name string, line, col int) (file string, l, c int) {
	loc, ok := in.locs[name]
	if !ok {
		return in.File(name), line, col
	}
	return loc.locate(line, col)
}

// locator maps positions in a template's text to its file.
type locator struct {
	file   string
	src    string // the file's text, when the template is a JSON string in it
	strOff int    // offset of that string's opening quote; -1 for a whole file
	tpl    string // the template text
}

func (l locator) locate(line, col int) (string, int, int) {
	if l.strOff < 0 {
		return l.file, line, col
	}
	off := rawOffset(l.src, l.strOff, byteOffset(l.tpl, line, col))
	ln, cl := jsonv.LineCol(l.src, off)
	return l.file, ln, cl
}

// byteOffset converts a 1-based line and character column into a byte
// offset of s.
func byteOffset(s string, line, col int) int {
	off := 0
	for l := 1; l < line; l++ {
		k := strings.IndexByte(s[off:], '\n')
		if k < 0 {
			return len(s)
		}
		off += k + 1
	}
	for c := 1; c < col && off < len(s); c++ {
		_, n := utf8.DecodeRuneInString(s[off:])
		off += n
	}
	return off
}

func displayJoin(dir, rel string) string {
	if dir == "" {
		return rel
	}
	if strings.HasPrefix(dir, "<") { // built-in: keep forward slashes
		return dir + "/" + rel
	}
	return filepath.Join(dir, filepath.FromSlash(rel))
}

// LoadFS loads and validates the integration in directory dir of fsys
// ("." for its root). display is how problems name that directory, name
// the integration's name. It returns the integration, or nil when it has
// errors, and every problem found (errors and warnings), sorted.
func LoadFS(fsys fs.FS, dir, display, name string) (*Integration, Problems) {
	l := &loader{fsys: fsys, dir: dir, display: display}
	in := l.load(name)
	l.probs.Sort()
	if l.probs.HasErrors() {
		return nil, l.probs
	}
	for _, p := range l.probs {
		in.Warnings = append(in.Warnings, p)
	}
	return in, l.probs
}

type loader struct {
	fsys    fs.FS
	dir     string
	display string
	probs   Problems
}

func (l *loader) file(rel string) string { return displayJoin(l.display, rel) }

func (l *loader) fsPath(rel string) string {
	if l.dir == "." || l.dir == "" {
		return rel
	}
	return path.Join(l.dir, rel)
}

func (l *loader) readFile(rel string) (string, error) {
	f, err := l.fsys.Open(l.fsPath(rel))
	if err != nil {
		return "", err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return "", err
	}
	if st.IsDir() {
		return "", errors.New("is a directory, not a file")
	}
	buf, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return "", err
	}
	if len(buf) > maxFileSize {
		return "", fmt.Errorf("larger than the %d bytes allowed", maxFileSize)
	}
	return string(buf), nil
}

func (l *loader) load(name string) *Integration {
	mf := l.file(ManifestFile)
	src, err := l.readFile(ManifestFile)
	if err != nil {
		l.probs = append(l.probs, Problem{File: mf, Severity: SeverityError, Msg: "cannot read manifest: " + fsErr(err)})
		return nil
	}
	doc, probs := decodeJSON(mf, src)
	if len(probs) > 0 {
		l.probs = append(l.probs, probs...)
		return nil
	}
	c := &checker{file: mf, src: src}
	m, pos := c.decodeManifest(doc)
	c.frameworkRules(m, pos)
	in := &Integration{
		Name:      name,
		Path:      l.display,
		Manifest:  m,
		source:    src,
		templates: map[string]*Template{},
		locs:      map[string]locator{},
	}
	if h := m.Hook(); h == nil {
		c.warnf(doc.Offset(), "no capabilities.auditLogEventsHook: auditrelay has nothing to relay for this integration")
	} else {
		l.endpoint(c, in, pos)
		l.bodyTemplates(c, in, pos)
		if h.UseStandardWebhookPayload {
			if st, err := fs.Stat(l.fsys, l.fsPath("templates")); err == nil && st.IsDir() {
				c.errorf(keyOffset(pos.hook, "useStandardWebhookPayload"), "useStandardWebhookPayload is true, so the integration must not have a templates/ directory (found %s)", l.file("templates"))
			}
		}
		if tv := pos.hook.Get("templates"); tv.Kind() == jsonv.Object && !h.UseStandardWebhookPayload && h.Templates.Empty() {
			c.warnf(tv.Offset(), "templates names no template and useStandardWebhookPayload is false: nothing will ever be sent")
		}
	}
	l.probs = append(l.probs, c.probs...)
	return in
}

// fsErr shortens an fs error to its cause; the problem already names the
// file.
func fsErr(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "file does not exist"
	case errors.Is(err, fs.ErrPermission):
		return "permission denied"
	}
	return err.Error()
}

// endpoint compiles the URL and header templates and checks the form
// variables they use.
func (l *loader) endpoint(c *checker, in *Integration, pos *positions) {
	ep := in.Hook().Endpoint
	if ep == nil || pos.endpoint.Kind() != jsonv.Object {
		return
	}
	m := in.Manifest
	compile := func(name, tpl string, at jsonv.Value) *render.Template {
		in.locs[name] = locator{file: c.file, src: c.src, strOff: at.Offset(), tpl: tpl}
		t, err := render.Parse(name, tpl)
		if err != nil {
			c.templateError(in, name, err)
			return nil
		}
		for _, r := range scanRefs(tpl) {
			head := r.Segs[0]
			if head == "context" || head == "oauth" {
				if head == "oauth" && !m.RequiresOAuth {
					c.warnf(c.stringOffset(at, r.Off), "%s uses oauth, but requiresOAuth is not true, so oauth is null", name)
				}
				continue
			}
			fv := m.FormVariable(head)
			switch {
			case fv == nil && r.StrictFails(0):
				c.errorf(c.stringOffset(at, r.Off), "%s references form variable %q, which is not declared", name, head)
			case fv == nil:
				c.ourf(c.stringOffset(at, r.Off), "%s passes form variable %q, which is not declared, to a helper; it is undefined there", name, head)
			case !fv.Type.InTemplateScope():
				c.warnf(c.stringOffset(at, r.Off), "%s references form variable %q of type %q, which the framework does not pass to templates", name, head, fv.Type)
			}
		}
		return t
	}
	if u := pos.endpoint.Get("url"); u.Kind() == jsonv.String {
		in.url = compile("endpoint.url", ep.URL, u)
	}
	hdrs := pos.endpoint.Get("headers").Elems()
	in.headers = make([]*render.Template, len(ep.Headers))
	for i, h := range ep.Headers {
		if i >= len(hdrs) {
			break
		}
		if v := hdrs[i].Get("value"); v.Kind() == jsonv.String {
			in.headers[i] = compile(fmt.Sprintf("endpoint.headers[%d].value", i), h.Value, v)
		}
	}
}

// templateError reports a render.Parse failure at its place in the file.
func (c *checker) templateError(in *Integration, name string, err error) {
	var re *render.Error
	if errors.As(err, &re) && re.Line > 0 {
		file, line, col := in.Locate(name, re.Line, re.Col)
		c.probs = append(c.probs, Problem{File: file, Line: line, Col: col, Severity: SeverityError, Msg: templateWhat(name) + ": " + re.Msg})
		return
	}
	file, _, _ := in.Locate(name, 1, 1)
	c.probs = append(c.probs, Problem{File: file, Severity: SeverityError, Msg: templateWhat(name) + ": " + err.Error()})
}

func templateWhat(name string) string {
	if strings.HasPrefix(name, "endpoint.") {
		return name
	}
	return "template syntax error"
}

// bodyTemplates reads, compiles and checks every template file the
// manifest names.
func (l *loader) bodyTemplates(c *checker, in *Integration, pos *positions) {
	h := in.Hook()
	tv := pos.hook.Get("templates")
	for _, key := range TemplateKeys() {
		p := h.Templates.Get(key)
		if p == "" || in.templates[p] != nil {
			continue
		}
		at := tv.Get(key).Offset()
		clean := path.Clean(strings.TrimPrefix(p, "./"))
		if !fs.ValidPath(clean) || clean == "." || strings.Contains(p, "\\") {
			c.errorf(at, "templates.%s: %q must be a relative path inside the integration directory", key, p)
			in.templates[p] = &Template{Path: p}
			continue
		}
		src, err := l.readFile(clean)
		if err != nil {
			c.errorf(at, "templates.%s names %q, which cannot be read: %s", key, p, fsErr(err))
			in.templates[p] = &Template{Path: p}
			continue
		}
		t := &Template{Path: p, Source: src, JSON: render.IsJSONTemplate(p)}
		in.templates[p] = t
		file := l.file(clean)
		in.locs[p] = locator{file: file, strOff: -1}
		compiled, err := render.Parse(p, src)
		if err != nil {
			c.templateError(in, p, err)
		} else {
			t.Compiled = compiled
		}
		for _, r := range scanRefs(src) {
			if r.Segs[0] != "formVariables" || len(r.Segs) < 2 {
				continue
			}
			key := r.Segs[1]
			if key == "oauth" {
				continue
			}
			line, col := jsonv.LineCol(src, r.Off)
			fv := in.Manifest.FormVariable(key)
			switch {
			case fv == nil && r.StrictFails(1):
				c.probs = append(c.probs, Problem{File: file, Line: line, Col: col, Severity: SeverityError,
					Msg: fmt.Sprintf("%s references form variable %q, which is not declared", strings.Join(r.Segs, "."), key)})
			case fv == nil:
				c.probs = append(c.probs, Problem{File: file, Line: line, Col: col, Severity: SeverityWarning, Ours: true,
					Msg: fmt.Sprintf("%s passes form variable %q, which is not declared, to a helper; it is undefined there", strings.Join(r.Segs, "."), key)})
			case !fv.Type.InTemplateScope():
				c.probs = append(c.probs, Problem{File: file, Line: line, Col: col, Severity: SeverityWarning,
					Msg: fmt.Sprintf("%s references form variable %q of type %q, which the framework does not pass to templates", strings.Join(r.Segs, "."), key, fv.Type)})
			}
		}
	}
}

// LoadDir loads the integration in a directory on disk; path is shown in
// problems as given.
func LoadDir(dir string) (*Integration, Problems) {
	return LoadFS(os.DirFS(dir), ".", dir, dirName(dir))
}

func dirName(dir string) string {
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	return filepath.Base(dir)
}

// Result is the outcome of loading one integration directory.
type Result struct {
	Name        string
	Path        string       // the directory as shown in problems
	Integration *Integration // nil when Problems holds an error
	Problems    Problems     // sorted
}

// Scan loads what path names: an integration directory, a directory of
// integration directories (such as the framework repository's
// integrations/ folder), or a manifest.json file. It returns one Result
// per integration directory, in name order, and the problems that concern
// no single integration (path unreadable, nothing found, subdirectories
// without a manifest).
func Scan(p string) ([]Result, Problems) {
	one := func(dir string) []Result {
		in, probs := LoadDir(dir)
		return []Result{{Name: dirName(dir), Path: dir, Integration: in, Problems: probs}}
	}
	st, err := os.Stat(p)
	if err != nil {
		return nil, Problems{{File: p, Severity: SeverityError, Msg: "cannot read: " + fsErr(err)}}
	}
	if !st.IsDir() {
		if filepath.Base(p) != ManifestFile {
			return nil, Problems{{File: p, Severity: SeverityError, Msg: "not an integration: expected a directory or a manifest.json file"}}
		}
		return one(filepath.Dir(p)), nil
	}
	if _, err := os.Stat(filepath.Join(p, ManifestFile)); err == nil {
		return one(p), nil
	}
	entries, err := os.ReadDir(p)
	if err != nil {
		return nil, Problems{{File: p, Severity: SeverityError, Msg: "cannot read directory: " + fsErr(err)}}
	}
	var (
		results []Result
		probs   Problems
	)
	for _, e := range entries { // ReadDir sorts by name
		if strings.HasPrefix(e.Name(), ".") {
			continue
		}
		sub := filepath.Join(p, e.Name())
		if st, err := os.Stat(sub); err != nil || !st.IsDir() {
			continue
		}
		if _, err := os.Stat(filepath.Join(sub, ManifestFile)); err != nil {
			probs = append(probs, Problem{File: sub, Severity: SeverityWarning, Msg: "no manifest.json: not an integration, skipped"})
			continue
		}
		results = append(results, one(sub)...)
	}
	if len(results) == 0 {
		return nil, Problems{{File: p, Severity: SeverityError, Msg: "no integration found: expected manifest.json in the directory or in its subdirectories"}}
	}
	return results, probs
}

// Load is Scan flattened: the integrations without errors, and every
// problem, sorted.
func Load(p string) ([]*Integration, Problems) {
	results, probs := Scan(p)
	var out []*Integration
	for _, r := range results {
		probs = append(probs, r.Problems...)
		if r.Integration != nil {
			out = append(out, r.Integration)
		}
	}
	probs.Sort()
	return out, probs
}
