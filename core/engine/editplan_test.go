package engine

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/auditrelay/auditrelay/core/mask"
)

const slackSub = `  # Slack, with its secret webhook URL.
  - name: slack-prod

    integration: slack
    vars:
      webhookUrl: https://hooks.slack.test/T000/B000/XXXX   # rotated yearly
`

// The accident: a secret webhook URL replaced by "q". The plan
// refuses it against the variable, a valid replacement shows masked in
// the plan, the save touches only the value's bytes, the audit record
// names who and never the value, and Undo puts the old secret back.
func TestEditorPlanSaveUndoSecret(t *testing.T) {
	cfg := testConfig(t, slackSub)
	h := startEngine(t, cfg)
	ctx := context.Background()
	original := readFile(t, cfg.File)

	var ferr *FormError
	_, err := h.eng.PlanForm(ctx, "slack-prod", map[string]any{"webhookUrl": "q"})
	if !errors.As(err, &ferr) || !strings.Contains(ferr.Fields["webhookUrl"], "absolute URL") {
		t.Fatalf(`PlanForm("q") = %v, want an absolute-URL error on webhookUrl`, err)
	}
	if err := h.eng.SaveForm(ctx, "alice", "slack-prod", map[string]any{"webhookUrl": "q"}); !errors.As(err, &ferr) {
		t.Fatalf(`SaveForm("q") = %v`, err)
	}
	if _, err := h.eng.PlanForm(ctx, "slack-prod", map[string]any{"webhookUrl": "  "}); !errors.As(err, &ferr) || !strings.Contains(ferr.Fields["webhookUrl"], "required") {
		t.Errorf("blank secret: %v", err)
	}
	// The mask sent back is no change.
	if p, err := h.eng.PlanForm(ctx, "slack-prod", map[string]any{"webhookUrl": mask.Masked}); err != nil || len(p.Changes) != 0 {
		t.Errorf("the mask as a value: %+v, %v", p, err)
	}

	const next = "https://hooks.slack.test/T000/B000/YYYY"
	p, err := h.eng.PlanForm(ctx, "slack-prod", map[string]any{"webhookUrl": next})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Changes) != 1 || p.Changes[0].Old != mask.Masked || p.Changes[0].New != mask.Masked || !p.Changes[0].Secret {
		t.Errorf("plan: %+v", p)
	}
	if readFile(t, cfg.File) != original {
		t.Fatal("PlanForm wrote the file")
	}
	if err := h.eng.SaveForm(ctx, "ssh:alice@laptop", "slack-prod", map[string]any{"webhookUrl": next}); err != nil {
		t.Fatal(err)
	}
	if got, want := readFile(t, cfg.File), strings.Replace(original, "XXXX", "YYYY", 1); got != want {
		t.Errorf("config file:\n%s\nwant:\n%s", got, want)
	}
	acts, _ := h.eng.Actions(ctx, time.Time{}, 10)
	if len(acts) == 0 || acts[0].Actor != "ssh:alice@laptop" || acts[0].Kind != "edit-vars" || acts[0].Detail != "changed webhookUrl" {
		t.Errorf("audit record: %+v", acts)
	}
	for _, a := range acts {
		if strings.Contains(a.Detail, "hooks.slack.test") {
			t.Errorf("a secret in the audit record: %+v", a)
		}
	}

	what, err := h.eng.Undo(ctx, "bob", "slack-prod")
	if err != nil || what != "form variables webhookUrl" {
		t.Fatalf("Undo = %q, %v", what, err)
	}
	if got := readFile(t, cfg.File); got != original {
		t.Errorf("after undo:\n%s\nwant:\n%s", got, original)
	}
	if v, _ := h.eng.RevealSecret(ctx, "bob", "slack-prod", "webhookUrl"); !strings.HasSuffix(v, "XXXX") {
		t.Errorf("secret after undo ends %q", v[len(v)-4:])
	}
	if _, err := h.eng.Undo(ctx, "bob", "slack-prod"); !errors.Is(err, ErrNothingToUndo) {
		t.Errorf("second Undo: %v", err)
	}
}

// A template save records the old and new hashes, and Undo restores the
// previous source.
func TestEditorUndoTemplate(t *testing.T) {
	cfg := testConfig(t, strings.Replace(slackSub, "slack-prod", "archive", 1))
	h := startEngine(t, cfg)
	ctx := context.Background()
	before := templateInfo(t, h.eng, "archive", "default")
	info, err := h.eng.SaveTemplate(ctx, "alice", "archive", "default", `{"v": 2}`, before.Hash)
	if err != nil {
		t.Fatal(err)
	}
	acts, _ := h.eng.Actions(ctx, time.Time{}, 1)
	if len(acts) != 1 || !strings.Contains(acts[0].Detail, shortHash(before.Hash)+" → "+shortHash(info.Hash)) {
		t.Errorf("audit record: %+v", acts)
	}
	if _, err := h.eng.Undo(ctx, "alice", "archive"); err != nil {
		t.Fatal(err)
	}
	if got := templateInfo(t, h.eng, "archive", "default"); got.Source != before.Source {
		t.Errorf("after undo the template is %q", got.Source)
	}
	if b, _ := os.ReadFile(info.Path); string(b) != before.Source {
		t.Errorf("override file after undo: %q", b)
	}
}

// Undoing the save of a template the integration did not have removes the
// override again: the config file is as before, and the template is unset.
func TestEditorUndoNewTemplate(t *testing.T) {
	cfg := testConfig(t, slackSub)
	h := startEngine(t, cfg)
	ctx := context.Background()
	original := readFile(t, cfg.File)
	if ti := templateInfo(t, h.eng, "slack-prod", "flag"); ti.Source != "" {
		t.Fatalf("slack has a flag template: %q", ti.Source)
	}
	info, err := h.eng.SaveTemplate(ctx, "alice", "slack-prod", "flag", `{"text": "flag"}`, "")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(readFile(t, cfg.File), "flag: ") {
		t.Fatalf("no override in the config file:\n%s", readFile(t, cfg.File))
	}
	if _, err := h.eng.Undo(ctx, "alice", "slack-prod"); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, cfg.File); got != original {
		t.Errorf("config file after undo:\n%s\nwant:\n%s", got, original)
	}
	if ti := templateInfo(t, h.eng, "slack-prod", "flag"); ti.Source != "" || ti.Override != "" {
		t.Errorf("flag template after undo: %+v", ti)
	}
	if _, err := os.Stat(info.Path + ".bak"); err != nil {
		t.Errorf("the override file is not kept as .bak: %v", err)
	}
}
