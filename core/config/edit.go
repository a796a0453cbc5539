package config

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"go.yaml.in/yaml/v3"
)

// SetSubscriptionValues writes form-variable values of one subscription into
// the config file, atomically (temporary file, fsync, rename). The file is
// the operator's: only the bytes of each edited value change; a new key
// adds one line (or a "vars:" block of two), a nil value removes the key's
// line. Comments, blank lines, indentation and key order stay as they
// were. Values are strings, bools or nil. A variable configured by
// reference (env:, file:) is never replaced by its value: callers must not
// pass it. When a value cannot be edited in place (a multi-line or flow
// style the splice does not handle), the file is left alone and the error
// says what to edit by hand.
func SetSubscriptionValues(file, subscription string, values map[string]any) error {
	keys := make([]string, 0, len(values))
	for k := range values {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return editFile(file, func(data []byte) ([]byte, error) {
		for _, k := range keys {
			var err error
			if data, err = setInPlace(data, subscription, keyVars, k, values[k]); err != nil {
				return nil, err
			}
		}
		return data, nil
	})
}

// SetSubscriptionTemplate points a subscription's template key at a file
// (a per-subscription override), editing in place like
// SetSubscriptionValues. A path under the config file's directory is
// written relative to it.
func SetSubscriptionTemplate(file, subscription, key, path string) error {
	if rel, err := filepath.Rel(filepath.Dir(file), path); err == nil && !filepath.IsAbs(rel) && rel[0] != '.' {
		path = rel
	}
	return editFile(file, func(data []byte) ([]byte, error) {
		return setInPlace(data, subscription, keyTemplates, key, path)
	})
}

// RemoveSubscriptionTemplate removes a subscription's override of template
// key from the file, in place (its line only).
func RemoveSubscriptionTemplate(file, subscription, key string) error {
	return editFile(file, func(data []byte) ([]byte, error) {
		return setInPlace(data, subscription, keyTemplates, key, nil)
	})
}

func findSubscription(root *yaml.Node, name string) (*yaml.Node, error) {
	subs := lookupNode(root, keySubscriptions)
	if subs != nil && subs.Kind == yaml.SequenceNode {
		for _, item := range subs.Content {
			if n := lookupNode(item, keyName); n != nil && n.Value == name {
				return item, nil
			}
		}
	}
	return nil, fmt.Errorf("subscription %q is not in the config file", name)
}

func editFile(file string, edit func(data []byte) ([]byte, error)) error {
	if file == "" {
		return fmt.Errorf("no config file to save to (start with --config FILE)")
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("reading config: %w", err)
	}
	out, err := edit(data)
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	return WriteFileAtomic(file, out)
}

// WriteFileAtomic replaces path with data so that readers and a crash see
// either the old or the new content, never a mix. It keeps the file's mode.
func WriteFileAtomic(path string, data []byte) error {
	mode := os.FileMode(0o600)
	if st, err := os.Stat(path); err == nil {
		mode = st.Mode().Perm()
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("saving %s: %w", path, err)
	}
	defer os.Remove(tmp.Name()) // no-op after a successful rename
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("saving %s: %w", path, err)
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return fmt.Errorf("saving %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("saving %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("saving %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("saving %s: %w", path, err)
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		_ = d.Sync() // make the rename durable
		d.Close()
	}
	return nil
}
