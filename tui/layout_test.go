package tui

import "testing"

func TestLayoutFillsTheBody(t *testing.T) {
	for w := MinWidth; w <= 260; w += 7 {
		for h := MinHeight; h <= 80; h += 3 {
			for _, nsubs := range []int{0, 1, 4, 30} {
				l := computeLayout(w, h, nsubs)
				if l.tooSmall {
					t.Fatalf("%dx%d reported too small", w, h)
				}
				if l.totalHeights != l.body {
					t.Fatalf("%dx%d (%d subs): panes take %d lines of %d", w, h, nsubs, l.totalHeights, l.body)
				}
				for _, b := range []box{l.events, l.policy, l.deliveries, l.subs, l.secondary} {
					if b != (box{}) && (b.h < minPane || b.w < MinWidth/2) {
						t.Fatalf("%dx%d: a pane of %dx%d", w, h, b.w, b.h)
					}
				}
				if l.wide && l.policy.w+l.deliveries.w != w {
					t.Fatalf("%dx%d: side-by-side panes take %d columns", w, h, l.policy.w+l.deliveries.w)
				}
			}
		}
	}
	if !computeLayout(MinWidth-1, 40, 0).tooSmall || !computeLayout(120, MinHeight-1, 0).tooSmall {
		t.Fatal("below the minimum the layout must say too small")
	}
}
