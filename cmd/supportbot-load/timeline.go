package main

import (
	"net/http"
	"strconv"
	"sync"
	"time"
)

// updateHeader carries the update id of a load run's webhook request, so
// the webhook's arrival can be stamped without decoding the body. Telegram
// sends no such header; the bot ignores it.
const updateHeader = "X-Load-Update"

// The moments of an update the bot's side stamps.
const (
	stampReceived = iota // the webhook handler got the request
	stampStarted         // the engine's Handle began
	stampHandled         // Handle returned: the replies are committed
)

// stamps are the moments of one update, zero until stamped.
type stamps [3]time.Time

func (s stamps) complete() bool {
	return !s[stampReceived].IsZero() && !s[stampStarted].IsZero() && !s[stampHandled].IsZero()
}

// timeline keeps the stamps of the updates in flight, by update id. The
// customer that posted an update takes its stamps once answered.
type timeline struct {
	mu sync.Mutex
	m  map[int64]*stamps
}

func newTimeline() *timeline { return &timeline{m: map[int64]*stamps{}} }

// mark stamps the moment which of update id as now.
func (tl *timeline) mark(id int64, which int) {
	now := time.Now()
	tl.mu.Lock()
	defer tl.mu.Unlock()
	s := tl.m[id]
	if s == nil {
		s = new(stamps)
		tl.m[id] = s
	}
	s[which] = now
}

// take returns and forgets the stamps of update id.
func (tl *timeline) take(id int64) stamps {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	s := tl.m[id]
	delete(tl.m, id)
	if s == nil {
		return stamps{}
	}
	return *s
}

// forget drops the stamps of the given updates.
func (tl *timeline) forget(ids ...int64) {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	for _, id := range ids {
		delete(tl.m, id)
	}
}

// webhook stamps each request's arrival before h handles it.
func (tl *timeline) webhook(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if id, err := strconv.ParseInt(r.Header.Get(updateHeader), 10, 64); err == nil {
			tl.mark(id, stampReceived)
		}
		h.ServeHTTP(w, r)
	})
}
