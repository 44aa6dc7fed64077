package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// With --hung, N extra customers' guest lookups hang at the demo portal
// until the end of the run, while the --users customers send /help: the
// /help latency shows whether a chat waiting on a hung backend call holds
// other chats up.

// portalHold wraps the demo portal: a guest lookup with one of its emails
// blocks until release is called, or until the portal client gives the
// attempt up (after 5 s; it tries again, and that attempt blocks too).
type portalHold struct {
	emails  map[string]bool
	release chan struct{}
	once    sync.Once
	held    atomic.Int64 // lookup attempts blocked so far
}

func newPortalHold() *portalHold {
	return &portalHold{emails: map[string]bool{}, release: make(chan struct{})}
}

func (h *portalHold) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && r.URL.Path == "/v1/guest/orders/lookup" {
			body, err := io.ReadAll(r.Body)
			r.Body.Close()
			if err == nil {
				var in struct {
					Email string `json:"email"`
				}
				if json.Unmarshal(body, &in) == nil && h.emails[in.Email] {
					h.held.Add(1)
					select {
					case <-h.release:
					case <-r.Context().Done():
						return
					}
				}
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		next.ServeHTTP(w, r)
	})
}

func (h *portalHold) releaseAll() { h.once.Do(func() { close(h.release) }) }

// waitHeld waits until n lookups are held, or timeout.
func (h *portalHold) waitHeld(ctx context.Context, n int64, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for h.held.Load() < n {
		if ctx.Err() != nil || time.Now().After(deadline) {
			return false
		}
		time.Sleep(5 * time.Millisecond)
	}
	return true
}

// hang takes the customer to the guest lookup of its order and posts its
// email, whose portal call hangs; it returns once the post is answered
// (after the release).
func (u *customer) hang(ctx context.Context, p *webhookPoster, timeout time.Duration) error {
	has := func(data string) func(botMessage) bool {
		return func(m botMessage) bool { return m.has(data) }
	}
	m, err := u.step(ctx, p, func() tgUpdate { return u.text("/menu") }, has("menu|track"), timeout)
	if err != nil {
		return err
	}
	if m, err = u.step(ctx, p, func() tgUpdate { return u.press(m.id, "menu|track") }, has("track.start|e:guest"), timeout); err != nil {
		return err
	}
	if _, err = u.step(ctx, p, func() tgUpdate { return u.press(m.id, "track.start|e:guest") }, has("cmd|cancel"), timeout); err != nil {
		return err
	}
	if _, err = u.step(ctx, p, func() tgUpdate { return u.text(u.order) }, has("cmd|cancel"), timeout); err != nil {
		return err
	}
	id, body, err := p.encode(u.text(u.email))
	if err != nil {
		return err
	}
	return p.postOK(ctx, id, body)
}

// help sends /help until deadline, each time waiting for the reply.
func (u *customer) help(ctx context.Context, p *webhookPoster, deadline time.Time, timeout time.Duration) {
	defer u.posts.Wait()
	anyReply := func(botMessage) bool { return true }
	for n := 0; ctx.Err() == nil && time.Now().Before(deadline); n++ {
		if u.rng != nil && !u.pause(ctx, u.thinkTime(), deadline) {
			return
		}
		_, err := u.step(ctx, p, func() tgUpdate { return u.text("/help") }, anyReply, timeout)
		switch {
		case err == nil:
			u.conversations++
		case ctx.Err() != nil:
			return
		case errors.Is(err, errGaveUp):
			u.abandoned++
		default:
			u.errs.add("chat %d: /help: %v", u.chat, err)
		}
	}
}
