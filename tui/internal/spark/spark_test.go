package spark

import "testing"

func TestRender(t *testing.T) {
	tests := []struct {
		name   string
		values []float64
		width  int
		want   string
	}{
		{"empty pads", nil, 3, "   "},
		{"all zero", []float64{0, 0, 0}, 3, "▁▁▁"},
		{"peak fills", []float64{0, 5, 10}, 3, "▁▅█"},
		{"small is visible", []float64{0.01, 100}, 2, "▂█"},
		{"keeps newest", []float64{9, 9, 1, 2}, 2, "▅█"},
		{"right aligned", []float64{1}, 4, "   █"},
		{"negative is zero", []float64{-3, 4}, 2, "▁█"},
		{"zero width", []float64{1}, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Render(tt.values, tt.width); got != tt.want {
				t.Errorf("Render(%v, %d) = %q, want %q", tt.values, tt.width, got, tt.want)
			}
		})
	}
}
