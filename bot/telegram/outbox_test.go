package telegram

import (
	"testing"
	"time"
)

// TestBackoff: the wait after the nth failure doubles from RetryBackoff up
// to MaxBackoff, and is a random half to all of that (jitter).
func TestBackoff(t *testing.T) {
	o := &outbox{c: &Channel{opt: Options{RetryBackoff: 500 * time.Millisecond, MaxBackoff: 30 * time.Second}}}
	for n, full := range map[int]time.Duration{
		1: 500 * time.Millisecond, 2: time.Second, 3: 2 * time.Second, 6: 16 * time.Second,
		7: 30 * time.Second, 8: 30 * time.Second, 100: 30 * time.Second, 1 << 30: 30 * time.Second,
	} {
		for range 200 {
			if d := o.backoff(n); d < full/2 || d > full {
				t.Fatalf("backoff(%d) = %v, want %v to %v", n, d, full/2, full)
			}
		}
	}
	// A first wait above the cap is not cut.
	o.c.opt.RetryBackoff = time.Minute
	if d := o.backoff(3); d < 30*time.Second || d > time.Minute {
		t.Errorf("backoff(3) with RetryBackoff 1m = %v, want 30s to 1m", d)
	}
}
