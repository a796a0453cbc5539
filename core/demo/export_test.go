package demo

// Actions lists the kind/action pairs the generator produces, as
// "kind/action", for the tests of package demo_test.
func Actions() []string {
	out := make([]string, len(mix))
	for i, m := range mix {
		out[i] = m.kind + "/" + m.action
	}
	return out
}
