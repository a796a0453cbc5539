package engine

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/auditrelay/auditrelay/core/config"
	"github.com/auditrelay/auditrelay/core/hook"
	"github.com/auditrelay/auditrelay/core/jsonv"
	"github.com/auditrelay/auditrelay/core/manifest"
	"github.com/auditrelay/auditrelay/core/mask"
	"github.com/auditrelay/auditrelay/core/prodcheck"
	"github.com/auditrelay/auditrelay/core/render"
	"github.com/auditrelay/auditrelay/core/store"
)

// editor is the part of the engine an operator edits through: form
// values and templates. It owns every file the engine writes — the config
// file (form values and template override paths, through core/config's
// atomic rewrites that keep comments and env:/file: references) and the
// template override files under the data directory with their .bak — and
// it is the only part that swaps in a new subscription version besides
// New. Its lock serialises saves, so a save reads, checks, writes and
// swaps without another save in between: two consoles saving the same
// template see ErrConflict rather than overwriting each other. Reads (Form,
// Templates, Preview, RevealSecret) take no lock; they use the current
// immutable subscription version.
type editor struct {
	mu      sync.Mutex  // held by SaveForm and SaveTemplate from read to swap
	file    string      // the config file saves go to; "" = nothing is editable
	dataDir string      // new template overrides go to dataDir/templates/SUBSCRIPTION/
	st      store.Store // entries to preview with, actions to name a conflicting editor
	now     func() time.Time
	host    editHost
	undo    map[string]undoStep // per subscription, the last save's inverse; under mu
}

// editHost is what the editor uses of the engine.
type editHost interface {
	// sub returns a subscription's entry (whose version a save swaps) and
	// its current version.
	sub(name string) (*subEntry, *subscription, error)
	// buildSubscription compiles a subscription with edited values.
	buildSubscription(sc config.Subscription, values map[string]any, version int) (*subscription, []error)
	// event builds the template context of a stored entry.
	event(id string, raw []byte) (*hook.Event, error)
	// record stores an operator action; publishSubscription tells the
	// consoles a subscription changed.
	record(ctx context.Context, actor, kind, target, detail string)
	publishSubscription(name string)
}

func newEditor(e *Engine) *editor {
	return &editor{file: e.cfg.File, dataDir: e.cfg.DataDir, st: e.st, now: e.now, host: e}
}

// Form returns the subscription's form variables, secrets masked.
func (ed *editor) Form(subscription string) (Form, error) {
	_, s, err := ed.host.sub(subscription)
	if err != nil {
		return Form{}, err
	}
	f := Form{Subscription: subscription, Integration: s.source.Name, Editable: ed.file != ""}
	if !f.Editable {
		f.Note = "no config file: start auditrelay with --config FILE to save edits"
	}
	for _, fv := range s.source.Manifest.FormVariables {
		if !fv.Type.InTemplateScope() && fv.Type != manifest.TypeEnum {
			continue // oauth, multiselect, ...: LaunchDarkly fills these, not the operator
		}
		field := FormField{
			Key:           fv.Key,
			Name:          fv.Name,
			Type:          string(fv.Type),
			Description:   fv.Description,
			Required:      fv.Required(),
			Secret:        fv.IsSecret,
			Hidden:        fv.IsHidden,
			AllowedValues: fv.AllowedValues,
			Placeholder:   fv.Placeholder,
		}
		if fv.Type == manifest.TypeEnum && len(fv.AllowedValues) == 0 {
			field.Type = string(manifest.TypeString) // nothing to choose from: free text (the load warned)
		}
		if !fv.DefaultValue.IsUndefined() {
			field.Default = jsonv.ToJSString(fv.DefaultValue)
		}
		if v, ok := s.values[fv.Key]; ok {
			field.Value = jsonv.ToJSString(v)
			field.Set = true
		}
		if cv, ok := s.cfg.Vars[fv.Key]; ok {
			field.Ref = cv.Ref
		}
		if field.Secret {
			field.Value = mask.Value(field.Value)
		}
		f.Fields = append(f.Fields, field)
	}
	return f, nil
}

// RevealSecret returns a secret form value unmasked and records who saw it.
func (ed *editor) RevealSecret(ctx context.Context, actor, subscription, key string) (string, error) {
	_, s, err := ed.host.sub(subscription)
	if err != nil {
		return "", err
	}
	v, ok := s.values[key]
	if !ok {
		return "", fmt.Errorf("form variable %q: %w", key, ErrNotFound)
	}
	ed.host.record(ctx, actor, "reveal", subscription, "revealed form variable "+key)
	return jsonv.ToJSString(v), nil
}

// SaveForm validates values, writes the changed ones to the config file and
// swaps in the subscription built from them.
func (ed *editor) SaveForm(ctx context.Context, actor, subscription string, values map[string]any) error {
	ed.mu.Lock()
	defer ed.mu.Unlock()
	ent, s, err := ed.host.sub(subscription)
	if err != nil {
		return err
	}
	p, err := ed.planForm(s, values)
	if err != nil {
		return err
	}
	if len(p.changed) == 0 {
		return nil
	}
	if err := ed.applyForm(ent, s, p); err != nil {
		return err
	}
	ed.remember(subscription, undoStep{form: p.previous, what: "form variables " + strings.Join(p.keys, ", ")})
	ed.host.record(ctx, actor, "edit-vars", subscription, "changed "+strings.Join(p.keys, ", "))
	ed.host.publishSubscription(subscription)
	return nil
}

// PlanForm implements API: SaveForm's checks without the save.
func (ed *editor) PlanForm(ctx context.Context, subscription string, values map[string]any) (FormPlan, error) {
	_, s, err := ed.host.sub(subscription)
	if err != nil {
		return FormPlan{}, err
	}
	p, err := ed.planForm(s, values)
	if err != nil {
		return FormPlan{}, err
	}
	return FormPlan{Subscription: subscription, Changes: p.view}, nil
}

// Templates lists the subscription's templates with their sources.
func (ed *editor) Templates(subscription string) ([]TemplateInfo, error) {
	_, s, err := ed.host.sub(subscription)
	if err != nil {
		return nil, err
	}
	h := s.source.Hook()
	var out []TemplateInfo
	for _, key := range manifest.TemplateKeys() {
		info := TemplateInfo{Key: key, Override: s.cfg.Templates[key], Editable: ed.file != ""}
		if !info.Editable {
			info.Note = "no config file: start auditrelay with --config FILE to save edits"
		}
		if h.UseStandardWebhookPayload {
			info.Editable, info.Note = false, "this integration sends LaunchDarkly's standard payload (the raw entry); it has no templates"
		}
		if t := s.source.Template(key); t != nil {
			info.Path = templatePath(s.source, t.Path, info.Override)
			info.Source = t.Source
			info.Hash = hashSource(t.Source)
			info.JSON = t.JSON
		} else {
			fallback, _ := h.Templates.ForKind(kindFor(key))
			if key != "default" && key != "validation" && fallback != "" {
				info.Note = joinNote(info.Note, "not set: "+key+" entries use the "+fallback+" template")
			} else {
				info.Note = joinNote(info.Note, "not set")
			}
			info.JSON = true
		}
		out = append(out, info)
	}
	return out, nil
}

func kindFor(key string) string {
	if key == "default" || key == "validation" {
		return "segment"
	}
	return key
}

func templatePath(in *manifest.Integration, p, override string) string {
	if override != "" {
		return override
	}
	if in.Builtin {
		return "builtin:" + in.Name + "/" + p
	}
	return in.File(p)
}

func hashSource(src string) string {
	sum := sha256.Sum256([]byte(src))
	return hex.EncodeToString(sum[:])
}

// overrideFile is where an edited template of a subscription is saved: its
// existing override, else a new file under the data directory named like
// the template it replaces (so JSON templates stay JSON templates).
func (ed *editor) overrideFile(s *subscription, key string) string {
	if f := s.cfg.Templates[key]; f != "" {
		return f
	}
	name := key + ".json.hbs"
	if t := s.source.Template(key); t != nil {
		name = key + templateExt(t.Path)
	} else if t := s.source.Template("default"); t != nil {
		name = key + templateExt(t.Path)
	}
	return filepath.Join(filepath.Join(ed.dataDir, "templates", s.cfg.Name), name)
}

func templateExt(p string) string {
	base := path.Base(p)
	if i := strings.IndexByte(base, '.'); i >= 0 {
		return base[i:]
	}
	return ".hbs"
}

// Preview renders source (not saved) for an entry or a sample.
func (ed *editor) Preview(ctx context.Context, subscription, key, source, entryID string) (Preview, error) {
	_, s, err := ed.host.sub(subscription)
	if err != nil {
		return Preview{}, err
	}
	file := ed.overrideFile(s, key)
	in, err := s.source.WithTemplate(key, file, source)
	var p Preview
	if err != nil {
		var re *render.Error
		if errors.As(err, &re) {
			p.Errors = append(p.Errors, TemplateIssue{Line: re.Line, Col: re.Col, Severity: "error", Msg: re.Msg})
			return p, nil
		}
		return p, err
	}
	hk, err := hook.New(in)
	if err != nil {
		return p, err
	}
	for _, pr := range hk.Lint() {
		if pr.File == in.File(file) || pr.File == file {
			p.Errors = append(p.Errors, TemplateIssue{Line: pr.Line, Col: pr.Col, Severity: string(pr.Severity), Msg: pr.Msg})
		}
	}
	var ev *hook.Event
	if entryID != "" {
		ent, err := ed.st.GetEntry(ctx, entryID)
		if err != nil {
			return p, fmt.Errorf("entry %s: %w", entryID, err)
		}
		if ev, err = ed.host.event(ent.ID, ent.Raw); err != nil {
			return p, err
		}
		p.EntryID = entryID
	} else {
		sample, err := hook.Sample(sampleFor(key))
		if err != nil {
			return p, err
		}
		ev = hook.NewEvent(sample, nil)
	}
	req, err := hk.Bind(s.vars).RenderTemplate(ev, key)
	if err != nil {
		var re *render.Error
		if errors.As(err, &re) {
			p.Errors = append(p.Errors, TemplateIssue{Line: re.Line, Col: re.Col, Severity: "error", Msg: re.Msg})
			return p, nil
		}
		return p, err
	}
	p.Request = s.requestView(req)
	return p, nil
}

func sampleFor(key string) string {
	switch key {
	case "project", "environment", "member":
		return key
	case "validation":
		return "environment"
	}
	return "flag"
}

// SaveTemplate writes source to the template's override file (keeping a
// .bak of the previous one), records the override in the config file and
// swaps in the subscription using it.
func (ed *editor) SaveTemplate(ctx context.Context, actor, subscription, key, source, baseHash string) (TemplateInfo, error) {
	ed.mu.Lock()
	defer ed.mu.Unlock()
	ent, s, err := ed.host.sub(subscription)
	if err != nil {
		return TemplateInfo{}, err
	}
	if ed.file == "" {
		return TemplateInfo{}, fmt.Errorf("templates: %w: no config file to record the override in (start with --config FILE)", ErrNotEditable)
	}
	if s.source.Hook().UseStandardWebhookPayload {
		return TemplateInfo{}, fmt.Errorf("templates: %w: the integration sends the standard payload", ErrNotEditable)
	}
	current := ""
	if t := s.source.Template(key); t != nil {
		current = hashSource(t.Source)
	}
	if baseHash != current {
		who := ""
		if acts, err := ed.st.ListActions(ctx, ed.now().AddDate(0, 0, -7), 200); err == nil {
			for i := range acts { // newest first
				if acts[i].Kind == "edit-template" && acts[i].Target == subscription && strings.HasPrefix(acts[i].Detail, key+" ") {
					who = fmt.Sprintf(" by %s at %s", acts[i].Actor, acts[i].At.Format("15:04:05"))
					break
				}
			}
		}
		return TemplateInfo{}, fmt.Errorf("template %s of %s was changed%s since you opened it: %w", key, subscription, who, ErrConflict)
	}
	prev, none := "", true
	if t := s.source.Template(key); t != nil {
		prev, none = t.Source, false
	}
	info, err := ed.saveTemplate(ctx, ent, s, key, source)
	if err != nil {
		return TemplateInfo{}, err
	}
	ed.remember(subscription, undoStep{what: key + " template", tplKey: key, tplSource: prev, tplHash: info.Hash, tplNone: none})
	ed.host.record(ctx, actor, "edit-template", subscription, fmt.Sprintf("%s saved to %s (sha256 %s → %s)", key, info.Path, shortHash(current), shortHash(info.Hash)))
	ed.host.publishSubscription(subscription)
	return info, nil
}

// saveTemplate writes source as the subscription's template key and swaps
// in the subscription using it; the caller holds mu and records.
func (ed *editor) saveTemplate(ctx context.Context, ent *subEntry, s *subscription, key, source string) (TemplateInfo, error) {
	subscription := s.cfg.Name
	file := ed.overrideFile(s, key)
	next, err := s.source.WithTemplate(key, file, source)
	if err != nil {
		return TemplateInfo{}, fmt.Errorf("not saved: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		return TemplateInfo{}, fmt.Errorf("saving template: %w", err)
	}
	if old, err := os.ReadFile(file); err == nil {
		if err := config.WriteFileAtomic(file+".bak", old); err != nil {
			return TemplateInfo{}, fmt.Errorf("keeping a backup: %w", err)
		}
	}
	if err := config.WriteFileAtomic(file, []byte(source)); err != nil {
		return TemplateInfo{}, err
	}
	if s.cfg.Templates[key] != file {
		if err := config.SetSubscriptionTemplate(ed.file, subscription, key, file); err != nil {
			return TemplateInfo{}, err
		}
	}
	hk, err := hook.New(next)
	if err != nil {
		return TemplateInfo{}, err
	}
	ns := *s
	ns.cfg.Templates = map[string]string{}
	for k, v := range s.cfg.Templates {
		ns.cfg.Templates[k] = v
	}
	ns.cfg.Templates[key] = file
	ns.source, ns.hook, ns.bound = next, hk, hk.Bind(s.vars)
	ns.version = s.version + 1
	ent.cur.Store(&ns)
	return TemplateInfo{Key: key, Path: file, Override: file, Source: source, Hash: hashSource(source), JSON: render.IsJSONTemplate(file), Editable: true,
		Warnings: productionWarnings(hk, key)}, nil
}

// productionWarnings renders the saved template with Go Handlebars, as
// LaunchDarkly would, for the sample contexts. Only here, on a save of a
// template core/render parsed, and never for the live preview: raymond's
// parser leaks a goroutine on every template it cannot parse.
func productionWarnings(hk *hook.Integration, key string) []TemplateIssue {
	rep, err := prodcheck.Check(hk, prodcheck.Options{Keys: []string{key}})
	if err != nil {
		return []TemplateIssue{{Severity: "warning", Msg: "production render check: " + err.Error()}}
	}
	var out []TemplateIssue
	for _, f := range rep.Findings {
		msg := "Go Handlebars (LaunchDarkly's renderer): " + f.Msg
		if len(f.Samples) > 0 {
			msg += " (sample " + strings.Join(f.Samples, ", ") + ")"
		}
		out = append(out, TemplateIssue{Line: f.Line, Col: f.Col, Severity: "warning", Msg: msg})
	}
	return out
}

// The API's editing methods are the editor's.

// Form implements API.
func (e *Engine) Form(subscription string) (Form, error) { return e.editor.Form(subscription) }

// RevealSecret implements API.
func (e *Engine) RevealSecret(ctx context.Context, actor, subscription, key string) (string, error) {
	return e.editor.RevealSecret(ctx, actor, subscription, key)
}

// SaveForm implements API.
func (e *Engine) SaveForm(ctx context.Context, actor, subscription string, values map[string]any) error {
	return e.editor.SaveForm(ctx, actor, subscription, values)
}

// PlanForm implements API.
func (e *Engine) PlanForm(ctx context.Context, subscription string, values map[string]any) (FormPlan, error) {
	return e.editor.PlanForm(ctx, subscription, values)
}

// Undo implements API.
func (e *Engine) Undo(ctx context.Context, actor, subscription string) (string, error) {
	return e.editor.Undo(ctx, actor, subscription)
}

// Templates implements API.
func (e *Engine) Templates(subscription string) ([]TemplateInfo, error) {
	return e.editor.Templates(subscription)
}

// Preview implements API.
func (e *Engine) Preview(ctx context.Context, subscription, key, source, entryID string) (Preview, error) {
	return e.editor.Preview(ctx, subscription, key, source, entryID)
}

// SaveTemplate implements API.
func (e *Engine) SaveTemplate(ctx context.Context, actor, subscription, key, source, baseHash string) (TemplateInfo, error) {
	return e.editor.SaveTemplate(ctx, actor, subscription, key, source, baseHash)
}
