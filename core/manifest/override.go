package manifest

import (
	"fmt"
	"maps"

	"github.com/auditrelay/auditrelay/core/render"
)

// WithTemplate returns a copy of in whose template key (flag, project,
// environment, member, default, validation) is source, read from file. The
// copy is what one subscription renders after an operator edited or
// overrode that template; in itself, shared by other subscriptions, is left
// unchanged. The template must parse: the error is a *render.Error with its
// position. The copy is checked the same way as on load, except that the
// JSON-ness of the template follows file's name.
func (in *Integration) WithTemplate(key, file, source string) (*Integration, error) {
	h := in.Hook()
	if h == nil {
		return nil, fmt.Errorf("%s has no auditLogEventsHook capability", in.Name)
	}
	if !validTemplateKey(key) {
		return nil, fmt.Errorf("unknown template key %q (expected one of %v)", key, TemplateKeys())
	}
	compiled, err := render.Parse(file, source)
	if err != nil {
		return nil, err
	}
	hook := *h
	hook.Templates = h.Templates.with(key, file)
	m := *in.Manifest
	m.Capabilities.AuditLogEventsHook = &hook
	out := *in
	out.Manifest = &m
	out.templates = maps.Clone(in.templates)
	out.templates[file] = &Template{Path: file, Source: source, JSON: render.IsJSONTemplate(file), Compiled: compiled}
	out.locs = maps.Clone(in.locs)
	out.locs[file] = locator{file: file, strOff: -1}
	return &out, nil
}

func validTemplateKey(key string) bool {
	for _, k := range TemplateKeys() {
		if k == key {
			return true
		}
	}
	return false
}

// with returns t with key pointing at p.
func (t Templates) with(key, p string) Templates {
	switch key {
	case "flag":
		t.Flag = p
	case "project":
		t.Project = p
	case "environment":
		t.Environment = p
	case "member":
		t.Member = p
	case "default":
		t.Default = p
	case "validation":
		t.Validation = p
	}
	return t
}
