package slackfake

import (
	"strings"
	"testing"
)

func TestNextTSNeverWholeSeconds(t *testing.T) {
	s := &Server{seq: 9_998}
	prev := ""
	for range 4 {
		ts := s.nextTS()
		if strings.HasSuffix(ts, ".000000") || ts <= prev || len(ts) != len("1700000000.000100") {
			t.Fatalf("ts %q after %q: want increasing, fixed width, never whole seconds", ts, prev)
		}
		prev = ts
	}
	if first := (&Server{}).nextTS(); first != "1700000000.000100" {
		t.Errorf("first ts = %q, want 1700000000.000100", first)
	}
}
