package main

import (
	"maps"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func TestParseRawssaReadsSecondsAndRefusesErrors(t *testing.T) {
	secs, err := parseRawssa([]byte("rawssa n=3000 objects=12000 workers=32 errors=0 seconds=37.42 applies_per_s=320\n"))
	if err != nil || secs != 37.42 {
		t.Errorf("parseRawssa = %v, %v; want 37.42", secs, err)
	}
	if _, err := parseRawssa([]byte("some error\nrawssa delete=ideal n=3 requests=12 workers=32 errors=2 seconds=1.00\n")); err == nil {
		t.Error("a run with errors=2 was accepted")
	}
	if _, err := parseRawssa([]byte("panic: no kubeconfig\n")); err == nil {
		t.Error("output without seconds= was accepted")
	}
}

func TestLightReadyOnlyForTheCurrentGeneration(t *testing.T) {
	light := func(gen, observed int64, ready string) *unstructured.Unstructured {
		u := newLight(1)
		u.SetGeneration(gen)
		u.Object["status"] = map[string]any{"observedGeneration": observed, "conditions": []any{
			map[string]any{"type": "Applied", "status": "True"},
			map[string]any{"type": "Ready", "status": ready},
		}}
		return u
	}
	for _, tc := range []struct {
		name string
		u    *unstructured.Unstructured
		want bool
	}{
		{"Ready for its generation", light(2, 2, "True"), true},
		{"Ready for an older generation", light(2, 1, "True"), false},
		{"not Ready", light(1, 1, "False"), false},
		{"no status", newLight(1), false},
	} {
		if got := lightReady(tc.u); got != tc.want {
			t.Errorf("%s: lightReady = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestRawssaMediansPerNSkipFailedRounds(t *testing.T) {
	rounds := []RawssaRound{
		{N: 1000, Round: 1, RawssaSeconds: 10, BosunSeconds: 12, ConvergeRatio: 1.2},
		{N: 1000, Round: 2, RawssaSeconds: 14, BosunSeconds: 15, ConvergeRatio: 1.07},
		{N: 1000, Round: 3, RawssaSeconds: 11, BosunSeconds: 30, ConvergeRatio: 2.73},
		{N: 1000, Round: 4, Error: "bosun converge: timeout"},
		{N: 3000, Round: 1, RawssaSeconds: 40, BosunSeconds: 50, ConvergeRatio: 1.26},
		{N: 3000, Round: 2, RawssaSeconds: 44, BosunSeconds: 52, ConvergeRatio: 1.18},
	}
	got := rawssaMedians(rounds)
	if len(got) != 2 || got[0].N != 1000 || got[1].N != 3000 {
		t.Fatalf("medians = %+v, want one per N in order", got)
	}
	if got[0].RawssaSeconds != 11 || got[0].BosunSeconds != 15 || got[0].ConvergeRatio != 1.2 {
		t.Errorf("N=1000 medians = %+v, want rawssa 11, bosun 15, ratio 1.2 (the failed round left out)", got[0])
	}
	if got[1].RawssaSeconds != 42 || got[1].BosunSeconds != 51 || got[1].ConvergeRatio != 1.22 {
		t.Errorf("N=3000 medians = %+v, want the means of the middle two: 42, 51, 1.22", got[1])
	}
}

// TestReconcilesPerOwner sums bosun's reconciles over watch and result, by trigger.
func TestReconcilesPerOwner(t *testing.T) {
	samples := map[string]float64{
		`bosun_reconciles_total{result="success",trigger="owner",watch="lights"}`: 100,
		`bosun_reconciles_total{result="requeue",trigger="owner",watch="lights"}`: 50,
		`bosun_reconciles_total{result="success",trigger="child",watch="lights"}`: 250,
		`bosun_requests_total{verb="patch"}`:                                      999,
	}
	got := reconcilesPerOwner(samples, 100)
	want := map[string]float64{"owner": 1.5, "child": 2.5}
	if !maps.Equal(got, want) {
		t.Errorf("reconciles per owner %v, want %v", got, want)
	}
}
