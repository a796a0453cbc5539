package ui

import "strings"

// Highlight renders every case-insensitive occurrence of terms in line
// (plain text) with st; overlapping matches merge.
func Highlight(line string, terms []string, st Style) string {
	if len(terms) == 0 {
		return line
	}
	lower := strings.ToLower(line)
	if len(lower) != len(line) {
		return line // case folding changed byte offsets: leave it plain
	}
	mark := make([]bool, len(line))
	any := false
	for _, t := range terms {
		if t == "" {
			continue
		}
		for i := 0; ; {
			j := strings.Index(lower[i:], t)
			if j < 0 {
				break
			}
			for k := i + j; k < i+j+len(t); k++ {
				mark[k] = true
			}
			any = true
			i += j + len(t)
		}
	}
	if !any {
		return line
	}
	var b strings.Builder
	for i := 0; i < len(line); {
		j := i
		for j < len(line) && mark[j] == mark[i] {
			j++
		}
		if mark[i] {
			b.WriteString(st.Render(line[i:j]))
		} else {
			b.WriteString(line[i:j])
		}
		i = j
	}
	return b.String()
}
