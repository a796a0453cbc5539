package hook

import "github.com/auditrelay/auditrelay/core/manifest"

// StaticURL renders the endpoint URL from the bound form values alone, for
// checks made before any entry arrives (the delivery target rules at
// config load and on a form save). ok is false when nothing is sent over
// HTTP or the URL reads the entry, so that it is known only per delivery.
func (b *Bound) StaticURL() (u string, ok bool, err error) {
	in := b.in
	if in.method == "" || in.custom || in.endpointContext {
		return "", false, nil
	}
	// Without endpointContext the scope holds no entry, so none is needed.
	u, err = in.url.render(b.endpointRoot(nil), b.vars.Budget)
	if err != nil {
		return "", false, err
	}
	return u, true, nil
}

// URLFormVariables lists the form variables the endpoint URL template
// reads, in order of appearance, so a problem with the URL can be
// reported against the value an operator sets.
func (in *Integration) URLFormVariables() []string {
	ep := in.hook.Endpoint
	if ep == nil {
		return nil
	}
	var out []string
	for _, r := range manifest.TemplateRefs(ep.URL) {
		if len(r.Segs) == 0 || in.src.Manifest.FormVariable(r.Segs[0]) == nil {
			continue
		}
		dup := false
		for _, k := range out {
			dup = dup || k == r.Segs[0]
		}
		if !dup {
			out = append(out, r.Segs[0])
		}
	}
	return out
}
