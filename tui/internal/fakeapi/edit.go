package fakeapi

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/auditrelay/auditrelay/core/engine/api"
)

// checkForm applies the checks a manifest implies (required, uri, enum,
// boolean) to values; key → message.
func checkForm(f *formState, values map[string]any) map[string]string {
	bad := map[string]string{}
	for i := range f.form.Fields {
		fd := &f.form.Fields[i]
		v, given := values[fd.Key]
		if !given {
			continue
		}
		if fd.Ref != "" {
			bad[fd.Key] = "comes from " + fd.Ref + " and cannot be edited here"
			continue
		}
		s := fmt.Sprint(v)
		switch {
		case fd.Required && s == "":
			bad[fd.Key] = "is required"
		case fd.Type == "uri" && s != "":
			if u, err := url.Parse(s); err != nil || u.Scheme == "" || u.Host == "" {
				bad[fd.Key] = "must be an absolute URL with scheme and host"
			}
		case fd.Type == "enum" && !slices.Contains(fd.AllowedValues, s):
			bad[fd.Key] = "must be one of " + strings.Join(fd.AllowedValues, ", ")
		case fd.Type == "boolean":
			if _, ok := v.(bool); !ok {
				bad[fd.Key] = "must be true or false"
			}
		}
	}
	for k := range values {
		if !slices.ContainsFunc(f.form.Fields, func(fd api.FormField) bool { return fd.Key == k }) {
			bad[k] = "is not a form variable of " + f.form.Integration
		}
	}
	return bad
}

// PlanForm implements api.API: SaveForm's checks and the changes, secrets
// masked.
func (a *API) PlanForm(ctx context.Context, subscription string, values map[string]any) (api.FormPlan, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.calls = append(a.calls, "PlanForm "+subscription)
	f, ok := a.forms[subscription]
	if !ok {
		return api.FormPlan{}, fmt.Errorf("%q: %w", subscription, api.ErrUnknownSub)
	}
	if bad := checkForm(f, values); len(bad) > 0 {
		return api.FormPlan{}, &api.FormError{Fields: bad}
	}
	p := api.FormPlan{Subscription: subscription}
	for _, fd := range f.form.Fields {
		v, given := values[fd.Key]
		if !given {
			continue
		}
		c := api.FormChange{Key: fd.Key, Name: fd.Name, Old: fd.Value, New: fmt.Sprint(v), Secret: fd.Secret}
		if fd.Secret {
			c.New = api.Masked
		}
		p.Changes = append(p.Changes, c)
	}
	return p, nil
}

// fakeUndo is the inverse of a subscription's last save: form values, or
// a template's previous source.
type fakeUndo struct {
	form        map[string]any
	key, source string
}

// rememberForm keeps the fields values will change, for Undo; a.mu is held.
func (a *API) rememberForm(subscription string, f *formState, values map[string]any) {
	if a.undo == nil {
		a.undo = map[string]fakeUndo{}
	}
	prev := map[string]any{}
	for _, fd := range f.form.Fields {
		if _, ok := values[fd.Key]; !ok {
			continue
		}
		switch {
		case fd.Secret:
			prev[fd.Key] = f.secrets[fd.Key]
		case fd.Type == "boolean":
			prev[fd.Key] = fd.Value == "true"
		default:
			prev[fd.Key] = fd.Value
		}
	}
	a.undo[subscription] = fakeUndo{form: prev}
}

// Undo implements api.API: the last form or template save of the
// subscription is reverted.
func (a *API) Undo(ctx context.Context, actor, subscription string) (string, error) {
	a.mu.Lock()
	a.calls = append(a.calls, "Undo "+subscription)
	u, ok := a.undo[subscription]
	delete(a.undo, subscription)
	a.mu.Unlock()
	if !ok {
		return "", fmt.Errorf("%s: %w", subscription, api.ErrNothingToUndo)
	}
	what := "form variables"
	if u.form != nil {
		if err := a.SaveForm(ctx, actor, subscription, u.form); err != nil {
			return "", err
		}
	} else {
		what = u.key + " template"
		a.mu.Lock()
		ts := a.tpls[subscription]
		if i := slices.IndexFunc(ts, func(t api.TemplateInfo) bool { return t.Key == u.key }); i >= 0 {
			ts[i].Source, ts[i].Hash = u.source, hash(u.source)
		}
		a.mu.Unlock()
	}
	a.mu.Lock()
	delete(a.undo, subscription)
	a.record(actor, "undo", subscription, what)
	a.mu.Unlock()
	return what, nil
}
