package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"supportbot/bot"
	"supportbot/bot/telegram"
	"supportbot/bot/telegram/telegramtest"
	"supportbot/portal"
	"supportbot/portal/demo"
)

// startMain opens m and runs it until the test ends; the returned stop
// ends it sooner and returns what Run returned.
func startMain(t *testing.T, m *Main, logs io.Writer) func() error {
	t.Helper()
	m.Stdin, m.Stdout, m.Stderr = strings.NewReader(""), io.Discard, logs
	m.Logger = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	m.TelegramOptions = fastOptions
	return runMain(t, m)
}

// get fetches path from the metrics server of m and returns the status
// and the body.
func get(t *testing.T, m *Main, path string) (int, string) {
	t.Helper()
	resp, err := http.Get("http://" + m.MetricsAddr + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	return resp.StatusCode, string(body)
}

// scrape fetches and parses /metrics.
func scrape(t *testing.T, m *Main) map[string]*dto.MetricFamily {
	t.Helper()
	code, body := get(t, m, "/metrics")
	if code != http.StatusOK {
		t.Fatalf("GET /metrics: status %d\n%s", code, body)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("parse /metrics: %v\n%s", err, body)
	}
	return fams
}

// value sums the samples of family name whose labels include want: counter
// and gauge values, histogram sample counts.
func value(fams map[string]*dto.MetricFamily, name string, want map[string]string) (float64, bool) {
	f, ok := fams[name]
	if !ok {
		return 0, false
	}
	var sum float64
	found := false
next:
	for _, m := range f.GetMetric() {
		labels := map[string]string{}
		for _, l := range m.GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		for k, v := range want {
			if labels[k] != v {
				continue next
			}
		}
		found = true
		switch {
		case m.Counter != nil:
			sum += m.GetCounter().GetValue()
		case m.Gauge != nil:
			sum += m.GetGauge().GetValue()
		case m.Histogram != nil:
			sum += float64(m.GetHistogram().GetSampleCount())
		}
	}
	return sum, found
}

// TestMetricsAfterJourney runs a customer through the bot on the fake
// Telegram — the menu, Track an order, logging in on the way, then back to
// the menu — with a 429 on the way and an update redelivered, and checks
// what /metrics says.
func TestMetricsAfterJourney(t *testing.T) {
	const (
		chat     = 4243
		email    = "dana.levi@example.com"
		password = "demo-dana"
	)
	srv := telegramtest.NewServer(t)
	srv.Inject(telegramtest.Fault{Method: "sendMessage", Times: 1, Code: http.StatusTooManyRequests, RetryAfter: 1})
	m := NewMain()
	m.Config = config(srv, t.TempDir())
	m.Config.MetricsListen = "127.0.0.1:0"
	logs := newLogBuffer()
	startMain(t, m, logs)
	a := &app{t: t, m: m, srv: srv, logs: logs}
	u := telegramtest.User{ID: chat, FirstName: "Dana", LanguageCode: "en"}

	first := srv.PushText(u, "/start")
	menu := a.await(chat, 0, "the main menu", hasButton("menu|track"))
	srv.PushCallback(u, menu.ID, "menu|track")
	choose := a.await(chat, menu.ID, "log in or guest", hasButton("track.start|e:login"))
	srv.PushCallback(u, choose.ID, "track.start|e:login")
	askEmail := a.await(chat, choose.ID, "the email prompt", containing(msg(t, "en", "login.ask_email.prompt", nil)))
	srv.PushText(u, email)
	askPassword := a.await(chat, askEmail.ID, "the password prompt", containing(email))
	srv.PushText(u, password)
	orders := a.await(chat, askPassword.ID, "the order list", hasButton("track.list_orders|v:SB-104233"))
	srv.PushText(u, "/menu")
	a.await(chat, orders.ID, "the menu again", hasButton("menu|track"))
	// Telegram delivers the first update again.
	if envs, err := m.Engine.Handle(context.Background(), bot.Inbound{Key: telegram.Key(chat), UpdateID: first, Text: "/start"}); err != nil || len(envs) != 0 {
		t.Fatalf("redelivered update: %d replies, %v; want none", len(envs), err)
	}

	// The customer sees a message before its send is counted: wait for
	// the last one (six messages, one a screen each: the welcome on top of
	// the menu, the login note on top of the order list).
	srv.WaitFor(wait, func() bool {
		n, _ := value(scrape(t, m), "supportbot_telegram_sends_total", map[string]string{"method": "sendMessage", "result": "ok"})
		return n >= 6
	})
	fams := scrape(t, m)
	for _, tc := range []struct {
		name   string
		labels map[string]string
		min    float64 // the value must be at least this
		max    float64 // and at most this (0: no bound)
	}{
		{"supportbot_updates_total", map[string]string{"channel": "telegram", "kind": "command"}, 3, 3},
		{"supportbot_updates_total", map[string]string{"channel": "telegram", "kind": "button"}, 2, 2},
		{"supportbot_updates_total", map[string]string{"channel": "telegram", "kind": "text"}, 2, 2},
		{"supportbot_duplicate_updates_total", map[string]string{"channel": "telegram"}, 1, 1},
		{"supportbot_flow_starts_total", map[string]string{"flow": "track"}, 1, 1},
		{"supportbot_flow_starts_total", map[string]string{"flow": "login"}, 1, 1},
		{"supportbot_flow_completions_total", map[string]string{"flow": "login"}, 1, 1},
		{"supportbot_flow_abandons_total", map[string]string{"flow": "track", "reason": "menu"}, 1, 1},
		{"supportbot_step_duration_seconds", nil, 6, 6},
		{"supportbot_portal_request_duration_seconds", map[string]string{"op": "POST /v1/auth/login"}, 1, 1},
		{"supportbot_portal_request_duration_seconds", map[string]string{"op": "GET /v1/orders"}, 1, 0},
		{"supportbot_telegram_sends_total", map[string]string{"method": "sendMessage", "result": "ok"}, 6, 0},
		{"supportbot_telegram_sends_total", map[string]string{"method": "sendMessage", "result": "rate_limited"}, 1, 1},
		{"supportbot_telegram_sends_total", map[string]string{"method": "deleteMessage", "result": "ok"}, 1, 1},
		{"supportbot_telegram_rate_limit_pauses_total", nil, 1, 1},
		{"supportbot_telegram_rate_limit_pause_seconds_total", nil, 1, 1},
		{"supportbot_outbox_depth", nil, 0, 0},
		{"supportbot_outbox_oldest_age_seconds", nil, 0, 0},
		{"go_goroutines", nil, 1, 0},
		{"process_cpu_seconds_total", nil, 0, 0},
	} {
		got, ok := value(fams, tc.name, tc.labels)
		switch {
		case !ok:
			t.Errorf("%s%v: not in /metrics", tc.name, tc.labels)
		case got < tc.min || (tc.max > 0 && got > tc.max):
			t.Errorf("%s%v = %v, want %v..%v", tc.name, tc.labels, got, tc.min, tc.max)
		}
	}
	// No label value names a chat, a customer or a secret.
	for name, f := range fams {
		for _, mt := range f.GetMetric() {
			for _, l := range mt.GetLabel() {
				for _, secret := range []string{fmt.Sprint(chat), email, password, telegramtest.Token, "SB-104233"} {
					if strings.Contains(l.GetValue(), secret) {
						t.Errorf("%s label %s=%q holds %q", name, l.GetName(), l.GetValue(), secret)
					}
				}
			}
		}
	}
}

// TestReadiness serves /healthz and /readyz on a bot whose portal and
// Bot API fail and come back.
func TestReadiness(t *testing.T) {
	var portalDown atomic.Bool
	d := demo.New(demo.Options{Now: demo.Epoch})
	ps := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if portalDown.Load() {
			http.Error(w, `{"error":{"code":"unavailable","message":"down for maintenance"}}`, http.StatusServiceUnavailable)
			return
		}
		d.ServeHTTP(w, r)
	}))
	t.Cleanup(ps.Close)
	srv := telegramtest.NewServer(t)
	m := NewMain()
	m.Config = config(srv, t.TempDir())
	m.Config.PortalURL = ps.URL
	m.Config.MetricsListen = "127.0.0.1:0"
	m.ReadyEvery = time.Nanosecond // check on every probe
	startMain(t, m, newLogBuffer())

	for _, step := range []struct {
		name     string
		change   func()
		path     string
		wantCode int
		wantBody string
	}{
		{"healthz", nil, "/healthz", http.StatusOK, "ok"},
		{"all up", nil, "/readyz", http.StatusOK, "ready"},
		{"portal down", func() { portalDown.Store(true) }, "/readyz", http.StatusServiceUnavailable, "portal"},
		{"healthz with the portal down", nil, "/healthz", http.StatusOK, "ok"},
		{"portal back", func() { portalDown.Store(false) }, "/readyz", http.StatusOK, "ready"},
		{"telegram down", func() { srv.Inject(telegramtest.Fault{Method: "getMe", Code: http.StatusBadGateway}) }, "/readyz", http.StatusServiceUnavailable, "telegram"},
		{"telegram back", srv.Clear, "/readyz", http.StatusOK, "ready"},
	} {
		if step.change != nil {
			step.change()
		}
		code, body := get(t, m, step.path)
		if code != step.wantCode || !strings.Contains(body, step.wantBody) {
			t.Errorf("%s: GET %s = %d %q, want %d with %q", step.name, step.path, code, body, step.wantCode, step.wantBody)
		}
		if code != http.StatusOK && strings.Contains(body, "portal") && strings.Contains(body, "telegram") {
			t.Errorf("%s: both blamed: %q", step.name, body)
		}
	}
}

// TestReadinessCached checks that /readyz asks its dependencies at most
// once per interval and keeps the verdict in between.
func TestReadinessCached(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var calls atomic.Int32
	var failing atomic.Bool
	r := &readiness{
		every: 5 * time.Second,
		now:   func() time.Time { return now },
		log:   slog.New(slog.DiscardHandler),
		checks: []readyCheck{
			{"store", func(context.Context) error { return nil }},
			{"portal", func(context.Context) error {
				calls.Add(1)
				if failing.Load() {
					return errors.New("connection refused")
				}
				return nil
			}},
		},
	}
	for _, step := range []struct {
		name      string
		after     time.Duration
		fail      bool
		wantCode  int
		wantCalls int32
	}{
		{"first probe checks", 0, false, http.StatusOK, 1},
		{"within the interval: cached", 4 * time.Second, true, http.StatusOK, 1},
		{"interval over: checked again", 2 * time.Second, true, http.StatusServiceUnavailable, 2},
		{"failure cached too", time.Second, false, http.StatusServiceUnavailable, 2},
		{"recovered", 5 * time.Second, false, http.StatusOK, 3},
	} {
		now = now.Add(step.after)
		failing.Store(step.fail)
		w := httptest.NewRecorder()
		r.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/readyz", nil))
		if w.Code != step.wantCode || calls.Load() != step.wantCalls {
			t.Errorf("%s: status %d after %d checks, want %d after %d (%q)", step.name, w.Code, calls.Load(), step.wantCode, step.wantCalls, w.Body.String())
		}
		if w.Code != http.StatusOK && w.Body.String() != "not ready: portal unreachable\n" {
			t.Errorf("%s: body %q, want the failing dependency named", step.name, w.Body.String())
		}
	}
}

// TestPortalErrorLabels checks that portal errors map to a fixed set of
// label values.
func TestPortalErrorLabels(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{fmt.Errorf("portal: GET /v1/plans/P-2001: %w: dial tcp: refused", portal.ErrUnavailable), "unavailable"},
		{fmt.Errorf("portal: GET /v1/me: %w", portal.ErrUnauthorized), "unauthorized"},
		{fmt.Errorf("portal: GET /v1/plans/P-9999: %w", portal.ErrNotFound), "not_found"},
		{fmt.Errorf("portal: PUT /v1/plans/P-2001/sim: %w", portal.ErrConflict), "conflict"},
		{fmt.Errorf("portal: PUT /v1/plans/P-2001/sim: %w", &portal.InvalidError{Message: "bad iccid"}), "invalid"},
		{fmt.Errorf("portal: GET /v1/orders: %w", context.DeadlineExceeded), "canceled"},
		{errors.New("portal: GET /v1/orders: decode response: unexpected EOF"), "other"},
	} {
		if got := portalError(tc.err); got != tc.want {
			t.Errorf("portalError(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
}

func TestMetricsListenValidated(t *testing.T) {
	clearEnv(t)
	for _, tc := range []struct {
		value string
		ok    bool
	}{
		{"127.0.0.1:9090", true},
		{":9090", true},
		{"9090", false},
		{"localhost", false},
	} {
		t.Run(tc.value, func(t *testing.T) {
			m := NewMain()
			m.Stderr = io.Discard
			err := m.ParseFlags([]string{"--data-dir", t.TempDir(), "--metrics-listen", tc.value})
			if (err == nil) != tc.ok {
				t.Errorf("ParseFlags(--metrics-listen %s) = %v, want ok=%v", tc.value, err, tc.ok)
			}
			if err != nil && !strings.Contains(err.Error(), "--metrics-listen") {
				t.Errorf("error %q does not name --metrics-listen", err)
			}
		})
	}
	t.Run("env", func(t *testing.T) {
		t.Setenv("SUPPORTBOT_METRICS_LISTEN", "nope")
		m := NewMain()
		m.Stderr = io.Discard
		err := m.ParseFlags([]string{"--data-dir", t.TempDir()})
		if err == nil || !strings.Contains(err.Error(), "SUPPORTBOT_METRICS_LISTEN") {
			t.Errorf("ParseFlags with SUPPORTBOT_METRICS_LISTEN=nope = %v, want an error naming it", err)
		}
	})
}

// TestReadinessDraining: once shutdown begins /readyz answers 503 at once,
// however healthy the dependencies, so no new work is routed here.
func TestReadinessDraining(t *testing.T) {
	var draining atomic.Bool
	r := &readiness{
		every:    time.Hour,
		now:      time.Now,
		log:      slog.New(slog.DiscardHandler),
		checks:   []readyCheck{{"store", func(context.Context) error { return nil }}},
		draining: draining.Load,
	}
	probe := func() (int, string) {
		rec := httptest.NewRecorder()
		r.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
		return rec.Code, rec.Body.String()
	}
	if code, _ := probe(); code != http.StatusOK {
		t.Fatalf("before shutdown: %d, want 200", code)
	}
	draining.Store(true)
	if code, body := probe(); code != http.StatusServiceUnavailable || !strings.Contains(body, "shutting down") {
		t.Errorf("while draining: %d %q, want 503 shutting down", code, body)
	}
}
