package subs

// Select moves the cursor to the named subscription; false when it is not
// listed.
func (m *Model) Select(name string) bool {
	if _, ok := m.Get(name); !ok {
		return false
	}
	m.cursorName = name
	m.sync()
	return true
}

// Names lists the subscriptions in display order, for completion.
func (m *Model) Names() []string {
	out := make([]string, len(m.subs))
	for i, s := range m.subs {
		out[i] = s.Name
	}
	return out
}
