//go:build !unix

package sqlite

// diagnose has nothing to add where access(2) and statfs(2) are missing.
func diagnose(file, dir string) string { return "" }
