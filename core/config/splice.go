package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// The console edits the operator's file by splicing bytes, never by
// re-encoding the document: yaml.v3 gives each node's line and column, so
// the edited value's bytes can be found and replaced while every other
// byte (comments, blank lines, indentation, quoting, key order) stays. A
// splice is then proved by decoding the result: the document must equal
// the old one with just that value changed, or nothing is written.

// setInPlace sets (or, for a nil value, removes) subscriptions[name=sub].
// section.key in the YAML document data and returns the new bytes.
func setInPlace(data []byte, sub, section, key string, value any) ([]byte, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("parsing: %w", err)
	}
	if len(doc.Content) == 0 {
		return nil, errors.New("the file is empty")
	}
	item, err := findSubscription(doc.Content[0], sub)
	if err != nil {
		return nil, err
	}
	where := fmt.Sprintf("subscription %q, %s.%s", sub, section, key)
	var text string
	if value != nil {
		if text, err = yamlScalar(value); err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
	}
	lines := newLineIndex(data)
	var out []byte
	dropSection := false // the removal took the section's last entry and its key line
	m := lookupNode(item, section)
	switch {
	case m != nil && m.Kind == yaml.MappingNode && m.Style&yaml.FlowStyle == 0 && len(m.Content) > 0:
		kn, vn := mapEntry(m, key)
		switch {
		case kn == nil && value == nil:
			return data, nil // nothing to remove
		case kn == nil:
			// A new first entry, indented like the others.
			first := m.Content[0]
			at := lines.offset(first.Line, 1)
			line := strings.Repeat(" ", first.Column-1) + yamlKey(key) + ": " + text + "\n"
			out = splice(data, at, at, line)
		case value == nil:
			start, end, ok := lines.wholeLine(kn, vn, data)
			if !ok {
				return nil, fmt.Errorf("%s: cannot remove it in place (it is not alone on its line); edit the file by hand", where)
			}
			// The section's only entry, right under its "section:" line:
			// both go, so an added-then-removed entry leaves no trace.
			if sk, _ := mapEntry(item, section); len(m.Content) == 2 && sk != nil && kn.Line == sk.Line+1 {
				if s0 := lines.start[sk.Line-1]; strings.TrimSpace(string(data[s0:lines.offset(sk.Line, sk.Column)])) == "" &&
					strings.TrimSpace(string(data[lines.offset(sk.Line, sk.Column):lines.lineEnd(s0)])) == section+":" {
					start, dropSection = s0, true
				}
			}
			out = splice(data, start, end, "")
		default:
			if vn.Kind != yaml.ScalarNode {
				return nil, fmt.Errorf("%s: expected a single value, found %s", where, kindName(vn))
			}
			start, end, ok := scalarSpan(data, lines, vn)
			if !ok {
				return nil, fmt.Errorf("%s: its current value spans lines; edit the file by hand", where)
			}
			out = splice(data, start, end, text)
		}
	case m == nil || (m.Kind == yaml.ScalarNode && m.Tag == "!!null" && m.Value == ""):
		if value == nil {
			return data, nil
		}
		// A section of its own, after the subscription's name line.
		nk, nv := mapEntry(item, keyName)
		if nk == nil || nv.Line != nk.Line {
			return nil, fmt.Errorf("%s: cannot find where to add %s:; add it by hand", where, section)
		}
		at := lines.offset(nk.Line+1, 1)
		if m != nil { // "section:" with nothing after it: replace that line
			sk, _ := mapEntry(item, section)
			start, end, ok := lines.wholeLine(sk, m, data)
			if !ok {
				return nil, fmt.Errorf("%s: cannot edit %s: in place; edit the file by hand", where, section)
			}
			data = splice(data, start, end, "")
			if start < at {
				at -= end - start
			}
		}
		ind := strings.Repeat(" ", nk.Column-1)
		out = splice(data, at, at, ind+section+":\n"+ind+"  "+yamlKey(key)+": "+text+"\n")
	default:
		return nil, fmt.Errorf("%s: %s is written in a style the console does not edit (%s); edit the file by hand", where, section, kindName(m))
	}
	if err := verifySplice(data, out, sub, section, key, value, dropSection); err != nil {
		return nil, fmt.Errorf("%s: the edit would not be exact (%v); edit the file by hand", where, err)
	}
	return out, nil
}

func mapEntry(m *yaml.Node, key string) (k, v *yaml.Node) {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil, nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i], m.Content[i+1]
		}
	}
	return nil, nil
}

func splice(data []byte, start, end int, text string) []byte {
	out := make([]byte, 0, len(data)-(end-start)+len(text))
	out = append(out, data[:start]...)
	out = append(out, text...)
	return append(out, data[end:]...)
}

// yamlScalar is value as a one-line YAML scalar: plain when YAML reads it
// back as the same string, else double-quoted (JSON quoting is valid YAML).
func yamlScalar(value any) (string, error) {
	switch v := value.(type) {
	case bool:
		return fmt.Sprint(v), nil
	case string:
		if !utf8.ValidString(v) {
			return "", errors.New("the value is not valid UTF-8")
		}
		if b, err := yaml.Marshal(v); err == nil {
			s := strings.TrimSuffix(string(b), "\n")
			if !strings.ContainsAny(s, "\n") && !strings.HasPrefix(s, "|") && !strings.HasPrefix(s, ">") {
				return s, nil
			}
		}
		b, err := json.Marshal(v)
		return string(b), err
	}
	return "", fmt.Errorf("expected a string or boolean, got %T", value)
}

func yamlKey(k string) string {
	s, err := yamlScalar(k)
	if err != nil {
		return k
	}
	return s
}

// lineIndex maps yaml.v3 positions (1-based line, 1-based column in
// characters) to byte offsets.
type lineIndex struct {
	data  []byte
	start []int // byte offset of each line
}

func newLineIndex(data []byte) lineIndex {
	li := lineIndex{data: data, start: []int{0}}
	for i, b := range data {
		if b == '\n' {
			li.start = append(li.start, i+1)
		}
	}
	return li
}

func (li lineIndex) offset(line, col int) int {
	if line-1 >= len(li.start) {
		return len(li.data)
	}
	off := li.start[line-1]
	for c := 1; c < col && off < len(li.data) && li.data[off] != '\n'; c++ {
		_, n := utf8.DecodeRune(li.data[off:])
		off += n
	}
	return off
}

func (li lineIndex) lineEnd(off int) int {
	if i := bytes.IndexByte(li.data[off:], '\n'); i >= 0 {
		return off + i + 1
	}
	return len(li.data)
}

// wholeLine is the byte range of the line holding a key and its one-line
// value, when nothing else is on it.
func (li lineIndex) wholeLine(k, v *yaml.Node, data []byte) (start, end int, ok bool) {
	if k == nil || v.Line != k.Line || (v.Kind != yaml.ScalarNode) {
		return 0, 0, false
	}
	start = li.start[k.Line-1]
	if strings.TrimSpace(string(data[start:li.offset(k.Line, k.Column)])) != "" {
		return 0, 0, false // e.g. "- key: v": the line starts a list item
	}
	return start, li.lineEnd(start), true
}

// scalarSpan is the byte range of a one-line scalar's text, quotes
// included, trailing spaces and comment excluded.
func scalarSpan(data []byte, li lineIndex, n *yaml.Node) (start, end int, ok bool) {
	if n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
		return 0, 0, false
	}
	start = li.offset(n.Line, n.Column)
	eol := li.lineEnd(start)
	line := data[start:eol]
	switch {
	case n.Style&yaml.DoubleQuotedStyle != 0:
		for i := 1; i < len(line); i++ {
			switch line[i] {
			case '\\':
				i++
			case '"':
				return start, start + i + 1, true
			}
		}
		return 0, 0, false
	case n.Style&yaml.SingleQuotedStyle != 0:
		for i := 1; i < len(line); i++ {
			if line[i] == '\'' {
				if i+1 < len(line) && line[i+1] == '\'' {
					i++
					continue
				}
				return start, start + i + 1, true
			}
		}
		return 0, 0, false
	}
	text := strings.TrimRight(string(line), "\r\n")
	if i := strings.Index(text, " #"); i >= 0 {
		text = text[:i]
	}
	if i := strings.Index(text, "\t#"); i >= 0 {
		text = text[:i]
	}
	text = strings.TrimRight(text, " \t")
	// An empty plain scalar ("key:" alone) has its position after the
	// colon; a plain scalar continued on the next line is not one line.
	if text == "" && n.Value != "" {
		return 0, 0, false
	}
	return start, start + len(text), true
}

// verifySplice checks that after differs from before only in the edited
// value, by decoding both.
func verifySplice(before, after []byte, sub, section, key string, value any, dropSection bool) error {
	var want, got any
	if err := yaml.Unmarshal(before, &want); err != nil {
		return err
	}
	if err := yaml.Unmarshal(after, &got); err != nil {
		return fmt.Errorf("the result does not parse: %w", err)
	}
	root, ok := want.(map[string]any)
	if !ok {
		return errors.New("the document is not a mapping")
	}
	subs, _ := root[keySubscriptions].([]any)
	found := false
	for _, it := range subs {
		m, ok := it.(map[string]any)
		if !ok || m[keyName] != sub {
			continue
		}
		found = true
		sec, _ := m[section].(map[string]any)
		if sec == nil {
			sec = map[string]any{}
		}
		if value == nil {
			delete(sec, key)
		} else {
			sec[key] = value
		}
		if len(sec) == 0 {
			if dropSection {
				delete(m, section)
			} else if _, had := m[section]; had {
				m[section] = nil // "vars:" left with no entries reads as null
			}
		} else {
			m[section] = sec
		}
		break
	}
	if !found {
		return fmt.Errorf("subscription %q is not in the file", sub)
	}
	if !reflect.DeepEqual(want, got) {
		return errors.New("other values would change")
	}
	return nil
}
