package engine

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"sort"
	"strings"

	"github.com/auditrelay/auditrelay/core/config"
	"github.com/auditrelay/auditrelay/core/hook"
	"github.com/auditrelay/auditrelay/core/jsonv"
	"github.com/auditrelay/auditrelay/core/manifest"
	"github.com/auditrelay/auditrelay/core/mask"
)

// formPlan is a checked form save: what changes, the subscription it
// builds, and what undoes it.
type formPlan struct {
	changed  map[string]any // key → new value; nil removes the key (its default applies)
	keys     []string       // the changed keys, sorted
	previous map[string]any // key → configured value before; nil = it was not set
	next     *subscription
	view     []FormChange
}

// planForm checks values against the manifest, the references and the
// endpoint they build. Values equal to the configured ones, and the mask
// sent back for a secret, change nothing.
func (ed *editor) planForm(s *subscription, values map[string]any) (*formPlan, error) {
	if ed.file == "" {
		return nil, fmt.Errorf("form variables: %w: no config file to save to (start with --config FILE)", ErrNotEditable)
	}
	man := s.source.Manifest
	merged := map[string]any{}
	for k, v := range s.cfg.Vars {
		merged[k] = v.Value
	}
	p := &formPlan{changed: map[string]any{}, previous: map[string]any{}}
	ferr := &FormError{Fields: map[string]string{}}
	for k, v := range values {
		fv := man.FormVariable(k)
		cv, had := s.cfg.Vars[k]
		if had && cv.Ref != "" {
			if fmt.Sprint(cv.Value) != fmt.Sprint(v) {
				ferr.Fields[k] = "comes from " + cv.Ref + "; change it there"
			}
			continue
		}
		if fv != nil && fv.IsSecret && v == mask.Masked {
			continue // the mask is how a secret is shown, never a value
		}
		if str, ok := v.(string); ok && str == "" && fv != nil && !fv.Required() {
			if had {
				delete(merged, k) // cleared: the default applies
				p.changed[k], p.previous[k] = nil, cv.Value
			}
			continue
		}
		if had && fmt.Sprint(cv.Value) == fmt.Sprint(v) {
			continue
		}
		merged[k] = v
		p.changed[k] = v
		p.previous[k] = nil
		if had {
			p.previous[k] = cv.Value
		}
	}
	next, errs := ed.host.buildSubscription(s.cfg, merged, s.version+1)
	for _, err := range errs {
		var te *targetError
		if errors.As(err, &te) {
			ferr.Fields[te.key] = "target refused: " + te.err.Error()
			continue
		}
		var ves manifest.ValueErrors
		if errors.As(err, &ves) {
			for _, ve := range ves {
				ferr.Fields[ve.Key] = ve.Msg
			}
			continue
		}
		ferr.Fields[""] = err.Error()
	}
	if len(errs) == 0 && next != nil {
		if key, msg := endpointProblem(next.hook, next.bound, p.changed); msg != "" {
			ferr.Fields[key] = msg
		}
	}
	if len(ferr.Fields) > 0 {
		return nil, ferr
	}
	p.next = next
	for k := range p.changed {
		p.keys = append(p.keys, k)
	}
	sort.Strings(p.keys)
	for _, fv := range man.FormVariables {
		if _, ok := p.changed[fv.Key]; !ok {
			continue
		}
		c := FormChange{Key: fv.Key, Name: fv.Name, Secret: fv.IsSecret,
			Old: showValue(s.values[fv.Key]), New: showValue(next.values[fv.Key])}
		if c.Secret {
			c.Old, c.New = mask.Value(c.Old), mask.Value(c.New)
		}
		p.view = append(p.view, c)
	}
	return p, nil
}

func showValue(v jsonv.Value) string {
	if v.IsNullish() {
		return ""
	}
	return jsonv.ToJSString(v)
}

// endpointProblem reports a static endpoint URL that the values make
// relative or unparsable (such as a webhook URL replaced by "q"), against
// the form variable it is built from. The message never quotes the URL:
// it may hold a secret.
func endpointProblem(hk *hook.Integration, b *hook.Bound, changed map[string]any) (key, msg string) {
	raw, ok, err := b.StaticURL()
	if !ok {
		return "", ""
	}
	keys := hk.URLFormVariables()
	for _, k := range keys {
		if _, ok := changed[k]; ok {
			key = k
			break
		}
	}
	if key == "" && len(keys) > 0 {
		key = keys[0]
	}
	if err != nil {
		return key, "makes the endpoint URL fail to render: " + err.Error()
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return key, "must make the endpoint an absolute URL with scheme and host (such as https://hooks.example.com/path)"
	}
	return "", ""
}

// applyForm writes a checked plan to the config file and swaps in its
// subscription.
func (ed *editor) applyForm(ent *subEntry, s *subscription, p *formPlan) error {
	if err := config.SetSubscriptionValues(ed.file, s.cfg.Name, p.changed); err != nil {
		return err
	}
	// The new version carries the values as configured now.
	cfg := p.next.cfg
	cfg.Vars = map[string]config.Var{}
	for k, v := range s.cfg.Vars {
		cfg.Vars[k] = v
	}
	for k, v := range p.changed {
		if v == nil {
			delete(cfg.Vars, k)
			continue
		}
		cfg.Vars[k] = config.Var{Value: v}
	}
	p.next.cfg = cfg
	ent.cur.Store(p.next)
	return nil
}

// undoStep is the inverse of one save, kept in memory only: it may hold
// secret values, which are never written anywhere but the config file.
type undoStep struct {
	what string
	form map[string]any // form values to restore (nil = remove)
	// For a template: its key, the source to restore (none when the
	// integration had no such template: the override is removed), and the
	// hash the template has now (a later change blocks the undo).
	tplKey, tplSource, tplHash string
	tplNone                    bool
}

func (ed *editor) remember(subscription string, u undoStep) {
	if ed.undo == nil {
		ed.undo = map[string]undoStep{}
	}
	ed.undo[subscription] = u
}

// Undo reverts the subscription's last form or template save.
func (ed *editor) Undo(ctx context.Context, actor, subscription string) (string, error) {
	ed.mu.Lock()
	defer ed.mu.Unlock()
	ent, s, err := ed.host.sub(subscription)
	if err != nil {
		return "", err
	}
	u, ok := ed.undo[subscription]
	if !ok {
		return "", fmt.Errorf("%s: %w (no form or template save since the relay started)", subscription, ErrNothingToUndo)
	}
	if u.form != nil {
		values := map[string]any{}
		for k, v := range u.form {
			if v == nil {
				v = ""
				if fv := s.source.Manifest.FormVariable(k); fv != nil && fv.Type == manifest.TypeBoolean {
					v = false
				}
			}
			values[k] = v
		}
		p, err := ed.planForm(s, values)
		if err != nil {
			return "", fmt.Errorf("undoing %s: %w", u.what, err)
		}
		if len(p.changed) > 0 {
			if err := ed.applyForm(ent, s, p); err != nil {
				return "", err
			}
		}
		delete(ed.undo, subscription)
		ed.host.record(ctx, actor, "undo", subscription, "undid the change of "+strings.Join(p.keys, ", "))
		ed.host.publishSubscription(subscription)
		return u.what, nil
	}
	cur := ""
	if t := s.source.Template(u.tplKey); t != nil {
		cur = hashSource(t.Source)
	}
	if cur != u.tplHash {
		delete(ed.undo, subscription)
		return "", fmt.Errorf("template %s of %s changed again since: %w", u.tplKey, subscription, ErrConflict)
	}
	if u.tplNone {
		if err := ed.removeTemplate(ent, s, u.tplKey); err != nil {
			return "", fmt.Errorf("undoing %s: %w", u.what, err)
		}
	} else if _, err := ed.saveTemplate(ctx, ent, s, u.tplKey, u.tplSource); err != nil {
		return "", fmt.Errorf("undoing %s: %w", u.what, err)
	}
	delete(ed.undo, subscription)
	ed.host.record(ctx, actor, "undo", subscription, fmt.Sprintf("%s template back to sha256 %s (was %s)", u.tplKey, shortHash(hashSource(u.tplSource)), shortHash(cur)))
	ed.host.publishSubscription(subscription)
	return u.what, nil
}

// removeTemplate drops the subscription's override of key (the file is
// kept as .bak) so the integration's own templates apply again.
func (ed *editor) removeTemplate(ent *subEntry, s *subscription, key string) error {
	file := s.cfg.Templates[key]
	if file == "" {
		return nil
	}
	cfg := s.cfg
	cfg.Templates = map[string]string{}
	for k, v := range s.cfg.Templates {
		if k != key {
			cfg.Templates[k] = v
		}
	}
	next, errs := ed.host.buildSubscription(cfg, nil, s.version+1)
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	if err := config.RemoveSubscriptionTemplate(ed.file, s.cfg.Name, key); err != nil {
		return err
	}
	if err := os.Rename(file, file+".bak"); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	ent.cur.Store(next)
	return nil
}

// shortHash is how a template's hash appears in the activity log: enough
// to tell versions apart and to find them with `config history`.
func shortHash(h string) string {
	if len(h) > 16 {
		return h[:16]
	}
	return h
}
