package policy

// Key returns the key of the resource's first segment of type typ ("proj",
// "env", "flag", ...), and whether there is one.
func (r *Resource) Key(typ string) (string, bool) {
	for i := 0; i < r.n; i++ {
		if s := r.seg(i); s.typ == typ {
			return s.name, true
		}
	}
	return "", false
}
