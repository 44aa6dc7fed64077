package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"
)

// repeatWindow is how long repeats of a warning are held back after it is
// logged.
const repeatWindow = 10 * time.Second

// newLogger returns the program's logger: text (key=value) or json lines
// at level and above, written to w, with repeated warnings rate-limited
// (see repeatFilter). Call the filter's flush before w is closed.
func newLogger(w io.Writer, level slog.Level, format string) (*slog.Logger, *repeatFilter) {
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler = slog.NewTextHandler(w, opts)
	if format == "json" {
		h = slog.NewJSONHandler(w, opts)
	}
	f := newRepeatFilter(h, repeatWindow, time.Now, func(d time.Duration, fn func()) { time.AfterFunc(d, fn) })
	return slog.New(f), f
}

// repeatFilter is a slog.Handler that rate-limits repeated warnings, so a
// flood (bad webhook secrets, a backend down) costs a couple of lines. The
// first record of a level (warn or above) and message passes; the same
// level and message again within the window after it are held back and
// counted, whatever their attributes; when the window ends — or, at the
// latest, when the next one arrives after it — one line "<message>
// (repeated N times)" with the attribute repeated=N says how many were held
// back. Records below warn always pass.
//
// Loggers derived with With or WithGroup share the counts.
type repeatFilter struct {
	next slog.Handler
	s    *repeatState
}

type repeatState struct {
	// root logs the summaries: the handler without the attributes of any
	// one occurrence.
	root   slog.Handler
	window time.Duration
	now    func() time.Time
	// after runs fn once d has passed (time.AfterFunc).
	after func(d time.Duration, fn func())

	mu   sync.Mutex
	seen map[repeatKey]*repeats
}

type repeatKey struct {
	level slog.Level
	msg   string
}

// repeats is one window: the record that opened it passed at start; n
// more were held back since.
type repeats struct {
	start time.Time
	n     int
}

// newRepeatFilter wraps next. now is the clock; after schedules the
// summary at the end of a window (both injected for tests).
func newRepeatFilter(next slog.Handler, window time.Duration, now func() time.Time, after func(time.Duration, func())) *repeatFilter {
	return &repeatFilter{next: next, s: &repeatState{root: next, window: window, now: now, after: after, seen: map[repeatKey]*repeats{}}}
}

func (h *repeatFilter) Enabled(ctx context.Context, l slog.Level) bool {
	return h.next.Enabled(ctx, l)
}

func (h *repeatFilter) WithAttrs(as []slog.Attr) slog.Handler {
	return &repeatFilter{next: h.next.WithAttrs(as), s: h.s}
}

func (h *repeatFilter) WithGroup(name string) slog.Handler {
	return &repeatFilter{next: h.next.WithGroup(name), s: h.s}
}

func (h *repeatFilter) Handle(ctx context.Context, r slog.Record) error {
	if r.Level < slog.LevelWarn {
		return h.next.Handle(ctx, r)
	}
	s, k, now := h.s, repeatKey{r.Level, r.Message}, h.s.now()
	s.mu.Lock()
	w := s.seen[k]
	if w != nil && now.Sub(w.start) < s.window {
		w.n++
		if w.n == 1 {
			s.after(w.start.Add(s.window).Sub(now), func() { s.expire(k, w) })
		}
		s.mu.Unlock()
		return nil
	}
	held := 0
	if w != nil {
		held = w.n // the window is over; its timer finds it replaced
	}
	s.seen[k] = &repeats{start: now}
	s.mu.Unlock()
	if held > 0 {
		s.summary(ctx, k, held, now)
	}
	return h.next.Handle(ctx, r)
}

// expire ends window w of k, if it is still the current one, and logs
// its summary.
func (s *repeatState) expire(k repeatKey, w *repeats) {
	s.mu.Lock()
	if s.seen[k] != w || w.n == 0 {
		s.mu.Unlock()
		return
	}
	delete(s.seen, k)
	n := w.n
	s.mu.Unlock()
	s.summary(context.Background(), k, n, s.now())
}

// flush logs the summaries of every window still open, as at shutdown.
func (h *repeatFilter) flush() {
	s := h.s
	s.mu.Lock()
	held := s.seen
	s.seen = map[repeatKey]*repeats{}
	s.mu.Unlock()
	now := s.now()
	for k, w := range held {
		if w.n > 0 {
			s.summary(context.Background(), k, w.n, now)
		}
	}
}

func (s *repeatState) summary(ctx context.Context, k repeatKey, n int, now time.Time) {
	r := slog.NewRecord(now, k.level, fmt.Sprintf("%s (repeated %d times)", k.msg, n), 0)
	r.AddAttrs(slog.Int("repeated", n))
	_ = s.root.Handle(ctx, r) // as slog.Logger does: a failed write is dropped
}
