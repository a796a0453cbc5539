package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/auditrelay/auditrelay/core/render"
)

// Saving a template that differs under Go Handlebars (LaunchDarkly's
// renderer) saves it and says where, with the line.
func TestSaveTemplateProductionWarnings(t *testing.T) {
	cfg := testConfig(t, "  - name: chat\n    integration: slack\n    vars:\n      webhookUrl: https://hooks.example.com/x\n")
	h := startEngine(t, cfg)
	orig := templateInfo(t, h.eng, "chat", "default")
	src := "{\n  \"text\": \"{{{title.plainText}}}\",\n  \"kind\": [\n    {{#if title}}\n    \"t\",\n    {{/if}}\n    {{#if kind}}\n    \"{{kind}}\"\n    {{/if}}\n  ]\n}\n"
	saved, err := h.eng.SaveTemplate(context.Background(), "alice", "chat", "default", src, orig.Hash)
	if err != nil {
		t.Fatal(err)
	}
	want := TemplateIssue{Line: 7, Col: 5, Severity: "warning",
		Msg: "Go Handlebars (LaunchDarkly's renderer): a standalone `{{#if kind}}` line keeps its indentation and newline under Go Handlebars"}
	if len(saved.Warnings) != 1 || saved.Warnings[0] != want {
		t.Errorf("warnings = %+v\nwant %+v", saved.Warnings, want)
	}
	// A template both render alike saves without warnings.
	plain := `{"text": "{{{title.plainText}}}"}`
	saved, err = h.eng.SaveTemplate(context.Background(), "alice", "chat", "default", plain, saved.Hash)
	if err != nil || len(saved.Warnings) > 0 {
		t.Errorf("SaveTemplate = %+v, %v", saved.Warnings, err)
	}
}

// raymond's parser leaks a goroutine per template it fails to parse, so it
// only sees templates core/render parsed, on save: 1,000 saves of
// templates that do not parse leave the goroutine count where it was.
func TestSaveTemplateInvalidKeepsGoroutinesFlat(t *testing.T) {
	cfg := testConfig(t, "  - name: chat\n    integration: slack\n    vars:\n      webhookUrl: https://hooks.example.com/x\n")
	h := startEngine(t, cfg)
	ctx := context.Background()
	base := templateInfo(t, h.eng, "chat", "default").Hash
	// Block and argument errors: the kinds raymond leaks on.
	invalid := []string{`{{#if a}}x{{/each}}`, `{{a b=}}`, `{{/if}}`, `{{#each}}`, `{"t": "{{#with x}}"}`}
	saveAll := func(n int) {
		for i := range n {
			src := fmt.Sprintf("%s %d", invalid[i%len(invalid)], i)
			_, err := h.eng.SaveTemplate(ctx, "alice", "chat", "default", src, base)
			var re *render.Error
			if !errors.As(err, &re) {
				t.Fatalf("save %d of %q: %v, want a parse error", i, src, err)
			}
		}
	}
	saveAll(10) // warm up whatever the first saves start
	before := runtime.NumGoroutine()
	saveAll(1000)
	// The engine's own goroutines (store connections, timers) come and go
	// by a few; one leaked per save would add 1,000.
	if after := settledGoroutines(before + 25); after > before+25 {
		t.Errorf("goroutines: %d before 1,000 saves of invalid templates, %d after", before, after)
	}
}

// settledGoroutines waits (up to 5s) for the goroutine count to drop to at
// most limit, and returns it.
func settledGoroutines(limit int) int {
	deadline := time.Now().Add(5 * time.Second)
	n := runtime.NumGoroutine()
	for n > limit && time.Now().Before(deadline) {
		runtime.Gosched()
		time.Sleep(10 * time.Millisecond)
		n = runtime.NumGoroutine()
	}
	return n
}

// An integration that validate accepts with warnings (rules of
// auditrelay's own) runs, and its warnings are logged once however many
// subscriptions use it.
func TestStartLogsIntegrationWarningsOnce(t *testing.T) {
	dir := t.TempDir()
	manifest := `{
  "name": "Warned", "version": "1.0.0", "overview": "A warned integration.",
  "description": "An integration that breaks a rule of auditrelay's but none of LaunchDarkly's.",
  "author": "tests", "supportEmail": "tests@example.com",
  "links": {"site": "https://example.com", "privacyPolicy": "https://example.com/p"},
  "categories": ["monitoring"], "icons": {"square": "a.svg", "horizontal": "b.svg"},
  "formVariables": [{"key": "endpointUrl", "name": "URL", "type": "uri", "description": "Where."}],
  "capabilities": {"auditLogEventsHook": {
    "includeErrorResponseBody": true,
    "endpoint": {"url": "{{ endpointUrl }}/hook", "method": "POST", "headers": []},
    "templates": {"default": "templates/default.json.hbs"}
  }}
}`
	if err := os.MkdirAll(filepath.Join(dir, "warned", "templates"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string]string{"manifest.json": manifest, "templates/default.json.hbs": `{"t": "{{{title.plainText}}}"}`} {
		if err := os.WriteFile(filepath.Join(dir, "warned", name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	in := filepath.Join(dir, "warned")
	cfg := testConfig(t, fmt.Sprintf("  - name: a\n    integration: %s\n    vars:\n      endpointUrl: https://a.example.com\n  - name: b\n    integration: %s\n    vars:\n      endpointUrl: https://b.example.com\n", in, in))
	var logs syncBuffer
	startEngineWith(t, cfg, func(o *Options) { o.Logger = slog.New(slog.NewTextHandler(&logs, nil)) })
	if n := strings.Count(logs.String(), "includeErrorResponseBody is true, so the endpoint host should be static"); n != 1 {
		t.Errorf("the warning was logged %d times, want once:\n%s", n, logs.String())
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
