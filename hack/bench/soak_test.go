package main

import "testing"

// The soak's final check finds a child as rendered when every rendered field is there with
// its value, whatever the API server and other managers added.
func TestContainsComparesTheRenderedFields(t *testing.T) {
	want := map[string]any{
		"data": map[string]any{"message": "hello"},
		"spec": map[string]any{"ports": []any{map[string]any{"port": int64(80), "name": "http"}}},
	}
	tests := []struct {
		name     string
		got      map[string]any
		wantDiff string
	}{
		{"as rendered, with what others added", map[string]any{
			"data": map[string]any{"message": "hello", "extra": "x"},
			"spec": map[string]any{"clusterIP": "10.0.0.1", "ports": []any{map[string]any{"port": int64(80), "name": "http", "protocol": "TCP"}}},
		}, ""},
		{"a value edited by hand", map[string]any{
			"data": map[string]any{"message": "edited by hand"},
			"spec": map[string]any{"ports": []any{map[string]any{"port": int64(80), "name": "http"}}},
		}, ".data.message: want hello, got edited by hand"},
		{"a list item gone", map[string]any{
			"data": map[string]any{"message": "hello"},
			"spec": map[string]any{"ports": []any{}},
		}, ".spec.ports: want 1 items, got []"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, diff := contains(tt.got, want, "")
			if diff != tt.wantDiff {
				t.Errorf("diff = %q, want %q", diff, tt.wantDiff)
			}
			if tt.wantDiff == "" && n != 3 {
				t.Errorf("compared %d fields, want 3", n)
			}
		})
	}
}
