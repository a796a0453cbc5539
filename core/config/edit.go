package config

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"

	"go.yaml.in/yaml/v3"
)

// SetSubscriptionValues writes form-variable values of one subscription into
// the config file, atomically (temporary file, fsync, rename) and keeping
// the operator's comments and layout elsewhere. Values are strings or
// bools. A variable configured by reference (env:, file:) is never replaced
// by its value: callers must not pass it.
func SetSubscriptionValues(file, subscription string, values map[string]any) error {
	return editFile(file, func(root *yaml.Node) error {
		sub, err := findSubscription(root, subscription)
		if err != nil {
			return err
		}
		vars := lookupNode(sub, keyVars)
		if vars == nil || vars.Kind != yaml.MappingNode {
			vars = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
			setMapValue(sub, keyVars, vars)
		}
		for k, v := range values {
			n := &yaml.Node{Kind: yaml.ScalarNode}
			switch t := v.(type) {
			case bool:
				n.Tag, n.Value = "!!bool", fmt.Sprint(t)
			case string:
				n.Tag, n.Value = "!!str", t
			default:
				return fmt.Errorf("value of %s: expected a string or boolean, got %T", k, v)
			}
			setMapValue(vars, k, n)
		}
		return nil
	})
}

// SetSubscriptionTemplate points a subscription's template key at a file
// (a per-subscription override), atomically like SetSubscriptionValues.
func SetSubscriptionTemplate(file, subscription, key, path string) error {
	return editFile(file, func(root *yaml.Node) error {
		sub, err := findSubscription(root, subscription)
		if err != nil {
			return err
		}
		tpl := lookupNode(sub, keyTemplates)
		if tpl == nil || tpl.Kind != yaml.MappingNode {
			tpl = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
			setMapValue(sub, keyTemplates, tpl)
		}
		if rel, err := filepath.Rel(filepath.Dir(file), path); err == nil && !filepath.IsAbs(rel) && rel[0] != '.' {
			path = rel
		}
		setMapValue(tpl, key, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: path})
		return nil
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

func setMapValue(m *yaml.Node, key string, v *yaml.Node) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			v.HeadComment, v.LineComment = m.Content[i+1].HeadComment, m.Content[i+1].LineComment
			m.Content[i+1] = v
			return
		}
	}
	m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key}, v)
}

func editFile(file string, edit func(root *yaml.Node) error) error {
	if file == "" {
		return fmt.Errorf("no config file to save to (start with --config FILE)")
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("reading config: %w", err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return fmt.Errorf("parsing %s: %w", file, err)
	}
	if len(doc.Content) == 0 {
		return fmt.Errorf("%s is empty", file)
	}
	if err := edit(doc.Content[0]); err != nil {
		return err
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return fmt.Errorf("encoding %s: %w", file, err)
	}
	return WriteFileAtomic(file, buf.Bytes())
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
