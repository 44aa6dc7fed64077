package telegram_test

import (
	"context"
	"maps"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"supportbot/bot/telegram"
	"supportbot/bot/telegram/telegramtest"
)

// sendRecorder is an Observer that counts what it is told.
type sendRecorder struct {
	mu         sync.Mutex
	changed    chan struct{}
	sent       map[string]int // "method result" → calls
	pauses     []time.Duration
	superseded int
}

var _ telegram.Observer = (*sendRecorder)(nil)

func newSendRecorder() *sendRecorder {
	return &sendRecorder{changed: make(chan struct{}), sent: map[string]int{}}
}

func (r *sendRecorder) Sent(method, result string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sent[method+" "+result]++
	close(r.changed)
	r.changed = make(chan struct{})
}

func (r *sendRecorder) Superseded() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.superseded++
}

func (r *sendRecorder) Paused(d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.pauses = append(r.pauses, d)
}

// waitSent waits until the calls counted add up to n and returns them.
func (r *sendRecorder) waitSent(t *testing.T, n int) map[string]int {
	t.Helper()
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	for {
		r.mu.Lock()
		total := 0
		for _, c := range r.sent {
			total += c
		}
		got, ch := maps.Clone(r.sent), r.changed
		r.mu.Unlock()
		if total >= n {
			return got
		}
		select {
		case <-ch:
		case <-deadline.C:
			t.Fatalf("timed out waiting for %d sends; got %v", n, got)
		}
	}
}

// TestObserverSends checks what the Observer hears for each answer
// Telegram can give a send.
func TestObserverSends(t *testing.T) {
	tests := []struct {
		name   string
		faults []telegramtest.Fault
		want   map[string]int
		pauses int
	}{
		{"ok", nil, map[string]int{"sendMessage ok": 1}, 0},
		{"retried", []telegramtest.Fault{{Method: "sendMessage", Times: 2, Code: http.StatusInternalServerError}},
			map[string]int{"sendMessage retry": 2, "sendMessage ok": 1}, 0},
		{"rate limited", []telegramtest.Fault{{Method: "sendMessage", Times: 1, Code: http.StatusTooManyRequests, RetryAfter: 1}},
			map[string]int{"sendMessage rate_limited": 1, "sendMessage ok": 1}, 1},
		{"blocked", []telegramtest.Fault{{Method: "sendMessage", Code: http.StatusForbidden}},
			map[string]int{"sendMessage forbidden": 1}, 0},
		{"refused", []telegramtest.Fault{{Method: "sendMessage", Times: 1, Code: http.StatusBadRequest}},
			map[string]int{"sendMessage error": 1}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := newSendRecorder()
			h := newHarness(t, func(o *telegram.Options) { o.Observer = rec })
			for _, f := range tt.faults {
				h.srv.Inject(f)
			}
			h.start()
			h.srv.PushText(user(1), "hi")
			n := 0
			for _, c := range tt.want {
				n += c
			}
			got := rec.waitSent(t, n)
			if err := h.stop(); err != nil {
				t.Fatalf("Run: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("sends (-want +got):\n%s", diff)
			}
			rec.mu.Lock()
			defer rec.mu.Unlock()
			if len(rec.pauses) != tt.pauses {
				t.Errorf("pauses = %v, want %d", rec.pauses, tt.pauses)
			}
			for _, d := range rec.pauses {
				if d != time.Second {
					t.Errorf("pause of %v, want the 1 s Telegram asked for", d)
				}
			}
		})
	}
}

// TestBacklog leaves a reply that keeps failing in the channel: it counts
// in the backlog, since it was queued, until it is delivered.
func TestBacklog(t *testing.T) {
	rec := newSendRecorder()
	h := newHarness(t, func(o *telegram.Options) { o.Observer, o.MaxAttempts = rec, 2 })
	if n, oldest := h.ch.Backlog(); n != 0 || !oldest.IsZero() {
		t.Errorf("Backlog before Run = %d, %v; want 0 and zero", n, oldest)
	}
	h.srv.Inject(telegramtest.Fault{Method: "sendMessage", Code: http.StatusBadGateway})
	before := time.Now()
	h.start()
	h.srv.PushText(user(1), "hi")
	rec.waitSent(t, 2) // failed twice, retried with backoff
	n, oldest := h.ch.Backlog()
	if n != 1 || oldest.Before(before) || oldest.After(time.Now()) {
		t.Errorf("Backlog = %d, %v; want 1 queued after %v", n, oldest, before)
	}
}

// TestPing calls getMe, and reports a Bot API that fails without the token.
func TestPing(t *testing.T) {
	h := newHarness(t, nil)
	if err := h.ch.Ping(context.Background()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	h.srv.Inject(telegramtest.Fault{Method: "getMe", Code: http.StatusInternalServerError})
	err := h.ch.Ping(context.Background())
	if err == nil {
		t.Fatal("Ping succeeded against a failing getMe")
	}
	if strings.Contains(err.Error(), telegramtest.Token) {
		t.Errorf("Ping error holds the token: %v", err)
	}
}
