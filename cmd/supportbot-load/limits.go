package main

import (
	"encoding/json"
	"math"
	"net/http"
	"sync"
	"time"
)

// apiLimits makes the fake Bot API enforce Telegram's rate limits, as
// Telegram does: about 30 messages a second over all chats and one a
// second per chat (in bursts of 3); a message beyond them is answered 429
// with retry_after.
type apiLimits struct {
	mu     sync.Mutex
	global time.Time           // theoretical arrival time of the next message
	chats  map[int64]time.Time // the same per chat
}

const (
	apiGlobalInterval = time.Second / 30
	apiGlobalBurst    = 30
	apiChatInterval   = time.Second
	apiChatBurst      = 3
)

func newAPILimits() *apiLimits { return &apiLimits{chats: map[int64]time.Time{}} }

// admit reports whether a message to chat may go now; if not, how long to
// wait. A refused message takes no slot.
func (l *apiLimits) admit(chat int64, now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	g := maxTime(l.global, now)
	c := maxTime(l.chats[chat], now)
	waitG := g.Add(-(apiGlobalBurst - 1) * apiGlobalInterval).Sub(now)
	waitC := c.Add(-(apiChatBurst - 1) * apiChatInterval).Sub(now)
	if w := max(waitG, waitC); w > 0 {
		return false, w
	}
	l.global = g.Add(apiGlobalInterval)
	l.chats[chat] = c.Add(apiChatInterval)
	return true, 0
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// tooMany answers 429 as Telegram does.
func tooMany(w http.ResponseWriter, wait time.Duration) {
	secs := max(1, int(math.Ceil(wait.Seconds())))
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusTooManyRequests)
	json.NewEncoder(w).Encode(map[string]any{
		"ok": false, "error_code": http.StatusTooManyRequests,
		"description": "Too Many Requests: retry after " + itoa(secs),
		"parameters":  map[string]any{"retry_after": secs},
	})
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }
