package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/auditrelay/auditrelay/core/source/ldfake"
)

// TestReplayListItems replays a saved audit-log API page, whose items lack
// the full version: replay says how many, and --fetch-details fetches
// their full entries from the API with the token it is given.
func TestReplayListItems(t *testing.T) {
	api, err := ldfake.Start(ldfake.Config{Token: "api-secret-token"})
	if err != nil {
		t.Fatal(err)
	}
	defer api.Close()
	var items []string
	for i := range 3 {
		list := fmt.Sprintf(`{"_id":"li%d","date":%d,"kind":"flag","accesses":[{"action":"updateOn","resource":"proj/p:env/production:flag/f%d"}],"name":"F%d"}`, i, 1000+i, i, i)
		items = append(items, list)
		full := strings.TrimSuffix(list, "}") + `,"currentVersion":{"tags":["t"]}}`
		if err := api.Add([]byte(full)); err != nil {
			t.Fatal(err)
		}
	}
	file := filepath.Join(t.TempDir(), "page.json")
	if err := os.WriteFile(file, []byte(`{"items":[`+strings.Join(items, ",")+`],"_links":{}}`), 0o600); err != nil {
		t.Fatal(err)
	}

	code, _, stderr := runCommand(t, "replay", file, "--data-dir", t.TempDir())
	if code != 0 || !strings.Contains(stderr, "3 entries lacked the full version") || !strings.Contains(stderr, "--fetch-details") {
		t.Errorf("replay: exit %d, want 0 and the list items counted with --fetch-details offered:\n%s", code, stderr)
	}

	t.Setenv("TEST_LD_TOKEN", "api-secret-token")
	code, _, stderr = runCommand(t, "replay", file, "--data-dir", t.TempDir(), "--fetch-details", "--api-url", api.URL(), "--api-token", "env:TEST_LD_TOKEN")
	if code != 0 || !strings.Contains(stderr, "3 entries lacked the full version: fetched 3 full entries") {
		t.Errorf("replay --fetch-details: exit %d, want 0 and 3 fetched:\n%s", code, stderr)
	}
	if strings.Contains(stderr, "api-secret-token") {
		t.Errorf("the token is shown:\n%s", stderr)
	}
	details := 0
	for _, r := range api.Requests() {
		if strings.HasPrefix(r.Path, "/api/v2/auditlog/li") && r.Status == 200 {
			details++
		}
	}
	if details != 3 {
		t.Errorf("%d detail requests answered, want 3", details)
	}

	code, _, stderr = runCommand(t, "replay", file, "--data-dir", t.TempDir(), "--fetch-details", "--api-url", api.URL())
	if code != 2 || !strings.Contains(stderr, "needs an access token") {
		t.Errorf("replay --fetch-details without a token: exit %d, want 2 and the token asked for:\n%s", code, stderr)
	}
}
