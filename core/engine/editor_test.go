package engine

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/auditrelay/auditrelay/core/mask"
)

func templateInfo(t *testing.T, eng *Engine, sub, key string) TemplateInfo {
	t.Helper()
	ts, err := eng.Templates(sub)
	if err != nil {
		t.Fatal(err)
	}
	for _, ti := range ts {
		if ti.Key == key {
			return ti
		}
	}
	t.Fatalf("%s has no template %s", sub, key)
	return TemplateInfo{}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// SaveTemplate writes the override under the data directory, records it
// in the config file, keeps the previous version as .bak, and makes the
// subscription use it; a save from an outdated hash or of a template that
// does not parse changes nothing.
func TestEditorSaveTemplate(t *testing.T) {
	cfg := testConfig(t, "  - name: chat\n    integration: slack\n    vars:\n      webhookUrl: https://hooks.example.com/x\n")
	h := startEngine(t, cfg)
	ctx := context.Background()
	orig := templateInfo(t, h.eng, "chat", "default")
	if orig.Source == "" || orig.Override != "" || !orig.Editable {
		t.Fatalf("default template before any edit: %+v", orig)
	}

	v1 := `{"text": "v1 {{{title.plainText}}}"}`
	saved, err := h.eng.SaveTemplate(ctx, "alice", "chat", "default", v1, orig.Hash)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(cfg.DataDir, "templates", "chat", "default.json.hbs")
	if saved.Path != file || saved.Override != file || saved.Hash != hashSource(v1) {
		t.Errorf("SaveTemplate = %+v, want it saved to %s", saved, file)
	}
	if got := readFile(t, file); got != v1 {
		t.Errorf("%s = %q", file, got)
	}
	if _, err := os.Stat(file + ".bak"); !os.IsNotExist(err) {
		t.Errorf("a first save has nothing to back up: %v", err)
	}
	// The config file records it relative to itself.
	if conf := readFile(t, cfg.File); !strings.Contains(conf, "default: templates/chat/default.json.hbs") {
		t.Errorf("the config file does not record the override:\n%s", conf)
	}
	if now := templateInfo(t, h.eng, "chat", "default"); now.Source != v1 || now.Override != file {
		t.Errorf("Templates after the save: %+v", now)
	}
	p, err := h.eng.Preview(ctx, "chat", "default", v1, "")
	if err != nil || !strings.Contains(p.Request.Body, `"v1 `) {
		t.Errorf("Preview = %+v, %v", p.Request, err)
	}

	v2 := `{"text": "v2 {{{title.plainText}}}"}`
	if _, err := h.eng.SaveTemplate(ctx, "bob", "chat", "default", v2, hashSource(v1)); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, file+".bak"); got != v1 {
		t.Errorf(".bak = %q, want the previous version", got)
	}

	// Saved from v1 after bob saved v2: refused, naming bob.
	_, err = h.eng.SaveTemplate(ctx, "alice", "chat", "default", `{"text": "late"}`, hashSource(v1))
	if !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), "by bob") {
		t.Errorf("stale save: %v, want ErrConflict naming bob", err)
	}
	// A template that does not parse is refused with the reason.
	if _, err := h.eng.SaveTemplate(ctx, "alice", "chat", "default", `{"text": "{{#if}}"}`, hashSource(v2)); err == nil || !strings.Contains(err.Error(), "not saved") {
		t.Errorf("bad template: %v", err)
	}
	if got := readFile(t, file); got != v2 {
		t.Errorf("refused saves changed the file: %q", got)
	}

	acts, err := h.eng.Actions(ctx, time.Time{}, 10)
	if err != nil {
		t.Fatal(err)
	}
	var edits []string
	for _, a := range acts {
		if a.Kind == "edit-template" {
			edits = append(edits, a.Actor)
		}
	}
	if strings.Join(edits, ",") != "bob,alice" {
		t.Errorf("edit-template actions by %v, want bob then alice (newest first)", edits)
	}
}

// The editor's lock: of two saves from the same version, one wins and the
// other is told the template changed.
func TestEditorConcurrentSavesConflict(t *testing.T) {
	cfg := testConfig(t, "  - name: chat\n    integration: slack\n    vars:\n      webhookUrl: https://hooks.example.com/x\n")
	h := startEngine(t, cfg)
	base := templateInfo(t, h.eng, "chat", "default").Hash
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, who := range []string{"alice", "bob"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = h.eng.SaveTemplate(context.Background(), who, "chat", "default", `{"text": "by `+who+`"}`, base)
		}()
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, ErrConflict):
			t.Errorf("unexpected error: %v", err)
		}
	}
	if won != 1 {
		t.Fatalf("%d saves won, want 1: %v", won, errs)
	}
	src := templateInfo(t, h.eng, "chat", "default").Source
	if got := readFile(t, filepath.Join(cfg.DataDir, "templates", "chat", "default.json.hbs")); got != src {
		t.Errorf("file %q, engine %q", got, src)
	}
}

// SaveForm validates every value, writes only what changed to the config
// file, refuses values that come from elsewhere, and masks secrets in Form;
// RevealSecret records who saw one.
func TestEditorForm(t *testing.T) {
	dir := t.TempDir()
	secretFile := filepath.Join(dir, "secret.txt")
	if err := os.WriteFile(secretFile, []byte("hmac-key-0123456789"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(t, webhookSub("archive", "https://hooks.example.com/a", "      secret: file:"+secretFile+"\n"))
	h := startEngine(t, cfg)
	ctx := context.Background()

	f, err := h.eng.Form("archive")
	if err != nil {
		t.Fatal(err)
	}
	byKey := map[string]FormField{}
	for _, fd := range f.Fields {
		byKey[fd.Key] = fd
	}
	if !f.Editable || byKey["url"].Value != "https://hooks.example.com/a" {
		t.Errorf("form: %+v", f)
	}
	if s := byKey["secret"]; s.Value != mask.Masked || !s.Secret || s.Ref != "file:"+secretFile {
		t.Errorf("secret field: %+v", s)
	}

	var ferr *FormError
	if err := h.eng.SaveForm(ctx, "alice", "archive", map[string]any{"url": "not a url"}); !errors.As(err, &ferr) || ferr.Fields["url"] == "" {
		t.Errorf("invalid url: %v", err)
	}
	if err := h.eng.SaveForm(ctx, "alice", "archive", map[string]any{"secret": "typed-over"}); !errors.As(err, &ferr) || !strings.Contains(ferr.Fields["secret"], "file:") {
		t.Errorf("value from a file: %v", err)
	}
	before := readFile(t, cfg.File)
	if strings.Contains(before, "not a url") || strings.Contains(before, "typed-over") {
		t.Fatalf("refused values reached the config file:\n%s", before)
	}

	if err := h.eng.SaveForm(ctx, "alice", "archive", map[string]any{"url": "https://hooks.example.com/b"}); err != nil {
		t.Fatal(err)
	}
	conf := readFile(t, cfg.File)
	if !strings.Contains(conf, "https://hooks.example.com/b") || !strings.Contains(conf, "file:"+secretFile) {
		t.Errorf("config file after the save:\n%s", conf)
	}
	if f, _ := h.eng.Form("archive"); f.Fields[0].Value != "https://hooks.example.com/b" {
		t.Errorf("form after the save: %+v", f.Fields[0])
	}

	if v, err := h.eng.RevealSecret(ctx, "carol", "archive", "secret"); err != nil || v != "hmac-key-0123456789" {
		t.Errorf("RevealSecret = %q, %v", v, err)
	}
	acts, _ := h.eng.Actions(ctx, time.Time{}, 10)
	kinds := map[string]string{}
	for _, a := range acts {
		kinds[a.Kind] = a.Actor + " " + a.Detail
	}
	if kinds["edit-vars"] != "alice changed url" || kinds["reveal"] != "carol revealed form variable secret" {
		t.Errorf("actions: %v", kinds)
	}
}

// Without a config file nothing is editable, and saving says why.
func TestEditorWithoutConfigFile(t *testing.T) {
	cfg := testConfig(t, webhookSub("archive", "https://hooks.example.com/a", ""))
	cfg.File = ""
	h := startEngine(t, cfg)
	if f, _ := h.eng.Form("archive"); f.Editable || f.Note == "" {
		t.Errorf("form: %+v", f)
	}
	err := h.eng.SaveForm(context.Background(), "alice", "archive", map[string]any{"url": "https://hooks.example.com/b"})
	if !errors.Is(err, ErrNotEditable) {
		t.Errorf("SaveForm: %v, want ErrNotEditable", err)
	}
}
