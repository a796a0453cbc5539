package main

import (
	"archive/tar"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// frameworkGitDir finds a mirror of LaunchDarkly's integration-framework
// repository: $AUDITRELAY_LD_FRAMEWORK (a checkout or a bare git
// directory), else .mirror/launchdarkly+integration-framework/repo in a
// directory above the repository, where the project's tooling puts it. It
// is read in place (git archive into a temporary directory), never copied
// into the repository.
func frameworkGitDir(t *testing.T) string {
	t.Helper()
	if d := os.Getenv("AUDITRELAY_LD_FRAMEWORK"); d != "" {
		if st, err := os.Stat(filepath.Join(d, ".git")); err == nil && st.IsDir() {
			return filepath.Join(d, ".git")
		}
		return d
	}
	dir, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	for range 4 {
		cand := filepath.Join(dir, ".mirror", "launchdarkly+integration-framework", "repo")
		if _, err := os.Stat(filepath.Join(cand, "HEAD")); err == nil {
			return cand
		}
		dir = filepath.Dir(dir)
	}
	t.Skip("LaunchDarkly's integration-framework repository is not here: set AUDITRELAY_LD_FRAMEWORK to a checkout (or a bare git directory) of github.com/launchdarkly/integration-framework to run this test")
	return ""
}

// extractIntegrations writes the integrations/ folder of the framework's
// HEAD into dir and returns the number of integration directories.
func extractIntegrations(t *testing.T, gitDir, dir string) int {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed; it reads the framework mirror")
	}
	cmd := exec.Command("git", "--git-dir", gitDir, "archive", "--format=tar", "HEAD", "integrations")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(out)
	dirs := map[string]bool{}
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		name := filepath.FromSlash(h.Name)
		if !filepath.IsLocal(name) || h.Typeflag != tar.TypeReg {
			continue
		}
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(io.LimitReader(tr, 16<<20))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		if parts := strings.Split(h.Name, "/"); len(parts) == 3 && parts[2] == "manifest.json" {
			dirs[parts[1]] = true
		}
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("git archive: %v: %s", err, stderr.String())
	}
	return len(dirs)
}

// TestValidateAcceptsEveryFrameworkIntegration checks that validate's
// default accepts every integration LaunchDarkly ships in its
// integration-framework repository (all of which its own test suite
// accepts), and that --strict still reports auditrelay's own rules.
func TestValidateAcceptsEveryFrameworkIntegration(t *testing.T) {
	gitDir := frameworkGitDir(t)
	root := t.TempDir()
	n := extractIntegrations(t, gitDir, root)
	if n < 100 {
		t.Fatalf("the mirror at %s holds %d integrations; expected the framework's 100 and more", gitDir, n)
	}
	dir := filepath.Join(root, "integrations")
	code, out, errOut := runMain(t, "", "validate", dir)
	if code != 0 {
		var bad []string
		for _, l := range strings.Split(out, "\n") {
			if strings.HasPrefix(l, "FAIL") || (strings.Contains(l, ": ") && !strings.Contains(l, "warning: ") && strings.HasPrefix(l, dir)) {
				bad = append(bad, l)
			}
		}
		t.Fatalf("validate exit %d; refused:\n%s\n%s", code, strings.Join(bad, "\n"), errOut)
	}
	summary := regexp.MustCompile(`(?m)^(\d+) of (\d+) integrations valid$`).FindStringSubmatch(out)
	if summary == nil || summary[1] != summary[2] || summary[2] != strconv.Itoa(n) {
		t.Fatalf("summary %q, want all %d integrations valid", summary, n)
	}
	t.Logf("validate accepts all %d integrations of %s", n, gitDir)

	// last9 breaks auditrelay's own static-host rule ({{ endpointUrl }} of
	// type uri with includeErrorResponseBody): a warning by default, an
	// error with --strict.
	if _, err := os.Stat(filepath.Join(dir, "last9")); err == nil {
		if !strings.Contains(out, "last9/manifest.json:") || !strings.Contains(out, "warning: includeErrorResponseBody is true") {
			t.Errorf("no static-host warning for last9:\n%s", out)
		}
		code, out, _ = runMain(t, "", "validate", "--strict", filepath.Join(dir, "last9"))
		if code != 1 || !strings.Contains(out, "FAIL  last9") {
			t.Errorf("validate --strict last9: exit %d, want 1 with FAIL:\n%s", code, out)
		}
	}
}
