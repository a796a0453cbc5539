// Package reftest locates LaunchDarkly's reference material for tests:
// ../shared/reference next to the repository root (the directory holding
// go.mod). The material is read in place, never copied into the
// repository; tests that need it skip, saying why, when it is absent.
package reftest

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Dir returns the reference directory, or skips tb.
func Dir(tb testing.TB) string {
	tb.Helper()
	ref, err := Find()
	if err != nil {
		tb.Skipf("../shared/reference not found: %v", err)
	}
	return ref
}

// Find returns the reference directory, or why there is none.
// AUDITRELAY_REFERENCE names it explicitly, for a checkout (a git worktree)
// that has no ../shared next to it.
func Find() (string, error) {
	if ref := os.Getenv("AUDITRELAY_REFERENCE"); ref != "" {
		if _, err := os.Stat(ref); err != nil {
			return "", err
		}
		return ref, nil
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the test directory")
		}
		dir = parent
	}
	ref := filepath.Join(dir, "..", "shared", "reference")
	if _, err := os.Stat(ref); err != nil {
		return "", err
	}
	return ref, nil
}

// SeedManifest returns the example integration of the seed guide (the
// "Building an audit log event hook integration" page in ../shared/seed):
// its manifest.json exactly as published, with the missing commas and the
// trailing comma, and its default flag template. It skips tb when the
// guide is absent.
func SeedManifest(tb testing.TB) (manifest, flagTemplate string) {
	tb.Helper()
	m, t, err := Seed()
	if err != nil {
		tb.Skipf("the seed guide's example manifest: %v", err)
	}
	return m, t
}

// Seed is SeedManifest for callers without a testing.TB (fuzz seeds).
func Seed() (manifest, flagTemplate string, err error) {
	ref, err := Find()
	if err != nil {
		return "", "", fmt.Errorf("../shared/reference not found: %w", err)
	}
	files, _ := filepath.Glob(filepath.Join(filepath.Dir(ref), "seed", "*.txt"))
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return "", "", err
		}
		lines := strings.Split(string(data), "\n")
		m := block(lines, "Manifest.json example", "Default flag template file")
		t := block(lines, "Here is the default template:", "Conclusion")
		if m != "" && t != "" {
			return m, t, nil
		}
	}
	return "", "", errors.New("../shared/seed holds no guide with an example manifest")
}

// block is the text from the first line that is exactly "{" after the
// line after, up to the last line that is exactly "}" before the line
// before.
func block(lines []string, after, before string) string {
	start, end := -1, -1
	for i, l := range lines {
		switch {
		case start < 0 && strings.TrimSpace(l) == after:
			start = -2
		case start == -2 && l == "{":
			start = i
		case start >= 0 && strings.TrimSpace(l) == before:
			for j := i; j > start; j-- {
				if lines[j] == "}" {
					end = j
					break
				}
			}
			if end < 0 {
				return ""
			}
			return strings.Join(lines[start:end+1], "\n") + "\n"
		}
	}
	return ""
}
