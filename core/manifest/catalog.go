package manifest

import (
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
)

// BuiltinPrefix starts the display path of built-in integrations.
const BuiltinPrefix = "<builtin>"

// Catalog is the set of integrations an auditrelay instance knows: the
// built-ins and those loaded from directories. Build it once, then share
// it read-only; its methods that add integrations are not safe for
// concurrent use.
type Catalog struct {
	list []*Integration
}

// NewCatalog returns an empty catalog.
func NewCatalog() *Catalog { return &Catalog{} }

// AddBuiltins loads every top-level directory of fsys holding a
// manifest.json as a built-in integration named after the directory.
func (c *Catalog) AddBuiltins(fsys fs.FS) Problems {
	results, probs := ScanBuiltins(fsys)
	for _, r := range results {
		probs = append(probs, r.Problems...)
		if r.Integration != nil {
			c.Add(r.Integration)
		}
	}
	return probs
}

// ScanBuiltins loads each built-in integration of fsys: every top-level
// directory holding a manifest.json.
func ScanBuiltins(fsys fs.FS) ([]Result, Problems) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, Problems{{File: BuiltinPrefix, Severity: SeverityError, Msg: "cannot read built-in integrations: " + err.Error()}}
	}
	var results []Result
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		if _, err := fs.Stat(fsys, path.Join(e.Name(), ManifestFile)); err != nil {
			continue
		}
		in, probs := LoadBuiltin(fsys, e.Name())
		results = append(results, Result{Name: e.Name(), Path: BuiltinPrefix + "/" + e.Name(), Integration: in, Problems: probs})
	}
	return results, nil
}

// LoadBuiltin loads the built-in integration in directory name of fsys.
func LoadBuiltin(fsys fs.FS, name string) (*Integration, Problems) {
	in, probs := LoadFS(fsys, name, BuiltinPrefix+"/"+name, name)
	if in != nil {
		in.Builtin = true
	}
	return in, probs
}

// AddDir loads the integrations path names (see Load) into the catalog.
// An integration with the name of one already present replaces it, so a
// directory can override a built-in.
func (c *Catalog) AddDir(p string) Problems {
	ins, probs := Load(p)
	for _, in := range ins {
		c.Add(in)
	}
	return probs
}

// Add puts in into the catalog, replacing an integration of the same name.
func (c *Catalog) Add(in *Integration) {
	for i, x := range c.list {
		if x.Name == in.Name {
			c.list[i] = in
			return
		}
	}
	c.list = append(c.list, in)
	slices.SortStableFunc(c.list, func(a, b *Integration) int { return strings.Compare(a.Name, b.Name) })
}

// All returns the integrations sorted by name.
func (c *Catalog) All() []*Integration { return slices.Clone(c.list) }

// Get returns the integration with the given name, or nil.
func (c *Catalog) Get(name string) *Integration {
	for _, in := range c.list {
		if in.Name == name {
			return in
		}
	}
	return nil
}

// Lookup finds an integration by name, or loads it when ref is a path to
// an integration directory or its manifest.json. A bare word is a name
// first; anything that looks like a path, or a word naming no integration
// but an existing directory, is loaded from disk. Load problems come back
// as the error (Problems).
func (c *Catalog) Lookup(ref string) (*Integration, error) {
	isPath := strings.ContainsAny(ref, `/\`) || ref == "." || ref == ".." || strings.HasSuffix(ref, ".json")
	if !isPath {
		if in := c.Get(ref); in != nil {
			return in, nil
		}
		if _, err := os.Stat(ref); err != nil {
			return nil, fmt.Errorf("unknown integration %q (known: %s)%s", ref, strings.Join(c.names(), ", "), suggest(ref, c.names()))
		}
	}
	p := ref
	if st, err := os.Stat(p); err == nil && !st.IsDir() {
		p = filepath.Dir(p)
	} else if err != nil {
		return nil, fmt.Errorf("integration %s: %s", ref, fsErr(err))
	}
	if _, err := os.Stat(filepath.Join(p, ManifestFile)); err != nil {
		return nil, fmt.Errorf("integration %s: no manifest.json in %s", ref, p)
	}
	in, probs := LoadDir(p)
	if in == nil {
		return nil, probs.Errors()
	}
	return in, nil
}

func (c *Catalog) names() []string {
	out := make([]string, len(c.list))
	for i, in := range c.list {
		out[i] = in.Name
	}
	return out
}
