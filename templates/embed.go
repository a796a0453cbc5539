// Package templates holds auditrelay's built-in integrations, embedded in
// the binary. Each top-level directory is one integration in the
// LaunchDarkly integration-framework layout (manifest.json plus the
// templates/ it names), held to the same validation as integrations loaded
// from disk.
package templates

import (
	"embed"
	"io/fs"
)

//go:embed webhook slack msteams-card
var files embed.FS

// FS returns the built-in integrations, one directory per integration.
func FS() fs.FS { return files }
