package main

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// fakeTimers is a clock that moves only when told to, and the summaries
// scheduled on it.
type fakeTimers struct {
	now    time.Time
	timers []fakeTimer
}

type fakeTimer struct {
	at time.Time
	fn func()
}

func (c *fakeTimers) Now() time.Time { return c.now }

func (c *fakeTimers) After(d time.Duration, fn func()) {
	c.timers = append(c.timers, fakeTimer{c.now.Add(d), fn})
}

// advance moves the clock on by d and fires the timers due by then.
func (c *fakeTimers) advance(d time.Duration) {
	c.now = c.now.Add(d)
	var left []fakeTimer
	for _, t := range c.timers {
		if t.at.After(c.now) {
			left = append(left, t)
			continue
		}
		t.fn()
	}
	c.timers = left
}

// filteredLogs returns a JSON logger through a repeatFilter on clock, and
// a function returning its lines as "LEVEL msg [repeated=N] [attrs]".
func filteredLogs(clock *fakeTimers) (*slog.Logger, *repeatFilter, func() []string) {
	var buf bytes.Buffer
	f := newRepeatFilter(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}), 10*time.Second, clock.Now, clock.After)
	lines := func() []string {
		var out []string
		for l := range strings.SplitSeq(strings.TrimSpace(buf.String()), "\n") {
			if l == "" {
				continue
			}
			var m map[string]any
			if err := json.Unmarshal([]byte(l), &m); err != nil {
				panic(err)
			}
			s := m["level"].(string) + " " + m["msg"].(string)
			for _, k := range []string{"repeated", "update", "n"} {
				if v, ok := m[k]; ok {
					b, _ := json.Marshal(v)
					s += " " + k + "=" + string(b)
				}
			}
			out = append(out, s)
		}
		buf.Reset()
		return out
	}
	return slog.New(f), f, lines
}

func TestRepeatFilter(t *testing.T) {
	clock := &fakeTimers{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	log, _, lines := filteredLogs(clock)

	// A flood: the first passes, the rest are held back, whatever their
	// attributes or the logger they come through; info lines and other
	// messages are not affected.
	for i := range 5 {
		log.Warn("webhook request with a wrong secret", "n", i)
	}
	log.With("update", 7).Warn("webhook request with a wrong secret")
	log.Error("webhook request with a wrong secret") // another level
	log.Warn("portal logout")
	for range 3 {
		log.Info("sent")
	}
	clock.advance(9 * time.Second)
	log.Warn("webhook request with a wrong secret")
	want := []string{
		"WARN webhook request with a wrong secret n=0",
		"ERROR webhook request with a wrong secret",
		"WARN portal logout",
		"INFO sent", "INFO sent", "INFO sent",
	}
	if diff := cmp.Diff(want, lines()); diff != "" {
		t.Fatalf("within the window (-want +got):\n%s", diff)
	}

	// The window ends: one summary for the message repeated, none for
	// those logged once.
	clock.advance(time.Second)
	want = []string{"WARN webhook request with a wrong secret (repeated 6 times) repeated=6"}
	if diff := cmp.Diff(want, lines()); diff != "" {
		t.Fatalf("at the end of the window (-want +got):\n%s", diff)
	}

	// The next one opens a new window.
	log.Warn("webhook request with a wrong secret", "n", 9)
	log.Warn("webhook request with a wrong secret", "n", 10)
	clock.advance(time.Minute)
	log.Warn("webhook request with a wrong secret", "n", 11) // a window later, on its own
	clock.advance(time.Minute)
	want = []string{
		"WARN webhook request with a wrong secret n=9",
		"WARN webhook request with a wrong secret (repeated 1 times) repeated=1",
		"WARN webhook request with a wrong secret n=11",
	}
	if diff := cmp.Diff(want, lines()); diff != "" {
		t.Fatalf("a new window (-want +got):\n%s", diff)
	}
}

// TestRepeatFilterNextFirst has the next occurrence arrive after the
// window but before its timer fires: the summary comes first, once.
func TestRepeatFilterNextFirst(t *testing.T) {
	clock := &fakeTimers{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	log, _, lines := filteredLogs(clock)
	log.Warn("portal unavailable", "n", 1)
	log.Warn("portal unavailable", "n", 2)
	log.Warn("portal unavailable", "n", 3)
	clock.now = clock.now.Add(15 * time.Second) // the timer has not run yet
	log.Warn("portal unavailable", "n", 4)
	clock.advance(0) // now it runs: nothing left to say
	want := []string{
		"WARN portal unavailable n=1",
		"WARN portal unavailable (repeated 2 times) repeated=2",
		"WARN portal unavailable n=4",
	}
	if diff := cmp.Diff(want, lines()); diff != "" {
		t.Fatalf("(-want +got):\n%s", diff)
	}
}

// TestRepeatFilterFlush: at shutdown the open windows are summed up.
func TestRepeatFilterFlush(t *testing.T) {
	clock := &fakeTimers{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	log, f, lines := filteredLogs(clock)
	log.Warn("getUpdates")
	log.Warn("getUpdates")
	log.Warn("getUpdates")
	log.Warn("deleteWebhook")
	f.flush()
	clock.advance(time.Minute) // the timer finds nothing to report
	want := []string{
		"WARN getUpdates",
		"WARN deleteWebhook",
		"WARN getUpdates (repeated 2 times) repeated=2",
	}
	if diff := cmp.Diff(want, lines()); diff != "" {
		t.Fatalf("(-want +got):\n%s", diff)
	}
}

// TestLogFormat: --log-format picks the handler; an unknown format is
// refused, named as it was given.
func TestLogFormat(t *testing.T) {
	for format, want := range map[string]string{
		"text": `level=WARN msg="backend down" err=x`,
		"json": `{"level":"WARN","msg":"backend down","err":"x"}`,
	} {
		var buf bytes.Buffer
		log, _ := newLogger(&buf, slog.LevelInfo, format)
		log.Debug("hidden")
		log.Warn("backend down", "err", "x")
		got := strings.TrimSpace(buf.String())
		// Drop the time, the first field.
		if i := strings.Index(got, "level"); i >= 0 {
			got = got[i:]
			if format == "json" {
				got = "{\"" + got
			}
		}
		if got != want {
			t.Errorf("%s: got %s, want %s", format, got, want)
		}
	}

	clearEnv(t)
	t.Setenv("SUPPORTBOT_LOG_FORMAT", "logfmt")
	m := NewMain()
	m.Stderr = &bytes.Buffer{}
	err := m.ParseFlags([]string{"--data-dir", t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), `SUPPORTBOT_LOG_FORMAT=logfmt: want text or json`) {
		t.Errorf("env: got %v, want an error naming SUPPORTBOT_LOG_FORMAT=logfmt", err)
	}
	t.Setenv("SUPPORTBOT_LOG_FORMAT", "")
	err = m.ParseFlags([]string{"--data-dir", t.TempDir(), "--log-format=xml"})
	if err == nil || !strings.Contains(err.Error(), `--log-format=xml: want text or json`) {
		t.Errorf("flag: got %v, want an error naming --log-format=xml", err)
	}
	m = NewMain()
	t.Setenv("SUPPORTBOT_LOG_FORMAT", "json")
	if err := m.ParseFlags([]string{"--data-dir", t.TempDir()}); err != nil || m.Config.LogFormat != "json" {
		t.Errorf("SUPPORTBOT_LOG_FORMAT=json: format %q, err %v", m.Config.LogFormat, err)
	}
}
