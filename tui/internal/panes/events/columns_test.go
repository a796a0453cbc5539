package events

import "testing"

// TestColumnsByContentPriority: member and project/environment get the
// width their values need (up to maxInfoW) before the title grows; in
// narrower panes they shrink, then go, before the title drops below
// titleMin.
func TestColumnsByContentPriority(t *testing.T) {
	tests := []struct {
		name                 string
		w, memNeed, whNeed   int
		member, where, title int
	}{
		// A row's fixed part (marker, time, kind, status, spaces) is 27 cells.
		{"wide, long values: both whole", 200, 30, 28, 30, 28, 113},
		{"wide, values longer than the cap", 200, 60, 50, maxInfoW, maxInfoW, 107},
		{"wide, short values: the title takes the rest", 200, 10, 8, 10, 8, 153},
		{"medium: shrunk in proportion, title keeps its minimum", 100, 30, 30, 23, 24, 24},
		{"narrower: both still shown", 80, 30, 30, 13, 14, 24},
		{"narrow: member only", 70, 30, 30, 16, 0, 26},
		{"narrowest: title only", 60, 30, 30, 0, 0, 33},
	}
	for _, tt := range tests {
		c := layoutColumns(tt.w, tt.memNeed, tt.whNeed)
		if c.member != tt.member || c.where != tt.where || c.title != tt.title {
			t.Errorf("%s: member %d where %d title %d, want %d %d %d", tt.name, c.member, c.where, c.title, tt.member, tt.where, tt.title)
		}
		used := markerW + c.time + 1 + c.kind + 1 + c.status + 1 + c.title
		if c.member > 0 {
			used += c.member + 1
		}
		if c.where > 0 {
			used += c.where + 1
		}
		if used != tt.w {
			t.Errorf("%s: columns use %d cells of %d", tt.name, used, tt.w)
		}
	}
}
