package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"supportbot/bot"
	"supportbot/bot/telegram"
	"supportbot/portal"
)

// This file serves --metrics-listen: /healthz, /readyz and /metrics. It is
// the only importer of the Prometheus client: the packages it observes
// declare small observer interfaces (bot.Observer, telegram.Observer,
// portal.WithObserver) and metrics implements them.

// metrics holds supportbot's Prometheus metrics, in a registry of its own.
// Every label value comes from a small fixed set: channel names, update
// kinds, flow names, reasons, portal routes, Bot API methods and results;
// never a chat id, a customer's text or a token.
type metrics struct {
	reg *prometheus.Registry

	updates         *prometheus.CounterVec
	duplicates      *prometheus.CounterVec
	flowStarts      *prometheus.CounterVec
	flowCompletions *prometheus.CounterVec
	flowAbandons    *prometheus.CounterVec
	stepSeconds     prometheus.Histogram
	portalSeconds   *prometheus.HistogramVec
	portalErrors    *prometheus.CounterVec
	sends           *prometheus.CounterVec
	pauses          prometheus.Counter
	pauseSeconds    prometheus.Counter
	superseded      prometheus.Counter
	commitSeconds   prometheus.Histogram
	active          prometheus.Gauge
}

var (
	_ bot.Observer      = (*metrics)(nil)
	_ telegram.Observer = (*metrics)(nil)
)

// newMetrics registers supportbot's metrics and the Go runtime and process
// collectors in a new registry.
func newMetrics() *metrics {
	reg := prometheus.NewRegistry()
	f := func(c prometheus.Collector) { reg.MustRegister(c) }
	m := &metrics{reg: reg}
	m.updates = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "supportbot_updates_total",
		Help: "Inbound updates by channel and kind (text, button, command, unsupported, edited), redelivered ones included.",
	}, []string{"channel", "kind"})
	m.duplicates = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "supportbot_duplicate_updates_total",
		Help: "Redelivered updates dropped because their id was already handled.",
	}, []string{"channel"})
	m.flowStarts = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "supportbot_flow_starts_total",
		Help: "Flows put on a conversation's stack, by flow.",
	}, []string{"flow"})
	m.flowCompletions = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "supportbot_flow_completions_total",
		Help: "Flows ended by one of their End states, or handing the customer on to another journey, by flow.",
	}, []string{"flow"})
	m.flowAbandons = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "supportbot_flow_abandons_total",
		Help: "Flows left without reaching an End state, by flow and reason (cancel, menu, other_flow, timeout, attempts, aborted, blocked, gone).",
	}, []string{"flow", "reason"})
	m.stepSeconds = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "supportbot_step_duration_seconds",
		Help:    "Time to handle one update (not a duplicate): the conversation's lock, its steps with their portal calls, and the commit.",
		Buckets: prometheus.DefBuckets,
	})
	m.portalSeconds = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "supportbot_portal_request_duration_seconds",
		Help:    "Portal calls by operation (method and route), retries included.",
		Buckets: prometheus.DefBuckets,
	}, []string{"op"})
	m.portalErrors = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "supportbot_portal_errors_total",
		Help: "Portal calls that returned an error, by operation and error (unavailable, unauthorized, not_found, conflict, invalid, canceled, other).",
	}, []string{"op", "error"})
	m.sends = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "supportbot_telegram_sends_total",
		Help: "Bot API calls delivering replies, by method and result (ok, retry, rate_limited, forbidden, error).",
	}, []string{"method", "result"})
	m.pauses = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "supportbot_telegram_rate_limit_pauses_total",
		Help: "Times Telegram answered 429 and all sending paused.",
	})
	m.pauseSeconds = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "supportbot_telegram_rate_limit_pause_seconds_total",
		Help: "Seconds of sending pauses Telegram asked for with 429 (retry_after).",
	})
	m.superseded = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "supportbot_superseded_screens_total",
		Help: "Screens (replies with buttons) dropped unsent because a newer screen for the same chat was queued behind them.",
	})
	m.commitSeconds = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "supportbot_store_commit_seconds",
		Help:    "Time of one store commit (a step's session, handled update id and replies), bbolt or etcd.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
	})
	m.active = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "supportbot_replica_active",
		Help: "1 while this process serves the customers, 0 while it is a standby (--store=etcd) or stopped.",
	})
	for _, c := range []prometheus.Collector{m.updates, m.duplicates, m.flowStarts, m.flowCompletions, m.flowAbandons,
		m.stepSeconds, m.portalSeconds, m.portalErrors, m.sends, m.pauses, m.pauseSeconds, m.superseded,
		m.commitSeconds, m.active} {
		f(c)
	}
	f(collectors.NewGoCollector())
	f(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Update implements bot.Observer.
func (m *metrics) Update(channel, kind string) { m.updates.WithLabelValues(channel, kind).Inc() }

// Duplicate implements bot.Observer.
func (m *metrics) Duplicate(channel string) { m.duplicates.WithLabelValues(channel).Inc() }

// FlowStarted implements bot.Observer.
func (m *metrics) FlowStarted(flow string) { m.flowStarts.WithLabelValues(flow).Inc() }

// FlowEnded implements bot.Observer.
func (m *metrics) FlowEnded(flow, how string) {
	if how == bot.EndCompleted {
		m.flowCompletions.WithLabelValues(flow).Inc()
		return
	}
	m.flowAbandons.WithLabelValues(flow, how).Inc()
}

// Handled implements bot.Observer.
func (m *metrics) Handled(d time.Duration) { m.stepSeconds.Observe(d.Seconds()) }

// Sent implements telegram.Observer.
func (m *metrics) Sent(method, result string) { m.sends.WithLabelValues(method, result).Inc() }

// Paused implements telegram.Observer.
func (m *metrics) Paused(d time.Duration) {
	m.pauses.Inc()
	m.pauseSeconds.Add(d.Seconds())
}

// Superseded implements telegram.Observer.
func (m *metrics) Superseded() { m.superseded.Inc() }

// portalCall observes one portal call (portal.WithObserver).
func (m *metrics) portalCall(op string, d time.Duration, err error) {
	m.portalSeconds.WithLabelValues(op).Observe(d.Seconds())
	if err != nil {
		m.portalErrors.WithLabelValues(op, portalError(err)).Inc()
	}
}

// portalError names the kind of a portal error, from a fixed set.
func portalError(err error) string {
	switch {
	case errors.Is(err, portal.ErrUnavailable):
		return "unavailable"
	case errors.Is(err, portal.ErrUnauthorized):
		return "unauthorized"
	case errors.Is(err, portal.ErrNotFound):
		return "not_found"
	case errors.Is(err, portal.ErrConflict):
		return "conflict"
	case errors.Is(err, portal.ErrInvalid):
		return "invalid"
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return "canceled"
	}
	return "other"
}

// backlogCollector reports the Telegram channel's undelivered replies on
// each scrape.
type backlogCollector struct {
	backlog func() (int, time.Time)
	now     func() time.Time
	depth   *prometheus.Desc
	age     *prometheus.Desc
}

func newBacklogCollector(backlog func() (int, time.Time), now func() time.Time) *backlogCollector {
	return &backlogCollector{
		backlog: backlog,
		now:     now,
		depth: prometheus.NewDesc("supportbot_outbox_depth",
			"Replies committed and not yet delivered by the Telegram channel.", nil, nil),
		age: prometheus.NewDesc("supportbot_outbox_oldest_age_seconds",
			"Age of the oldest reply the Telegram channel has not delivered (0 if none).", nil, nil),
	}
}

func (c *backlogCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.depth
	ch <- c.age
}

func (c *backlogCollector) Collect(ch chan<- prometheus.Metric) {
	n, oldest := c.backlog()
	age := 0.0
	if !oldest.IsZero() {
		age = max(c.now().Sub(oldest).Seconds(), 0)
	}
	ch <- prometheus.MustNewConstMetric(c.depth, prometheus.GaugeValue, float64(n))
	ch <- prometheus.MustNewConstMetric(c.age, prometheus.GaugeValue, age)
}

// defaultReadyEvery is how long a readiness verdict is kept.
const defaultReadyEvery = 5 * time.Second

// readyTimeout bounds one round of readiness checks.
const readyTimeout = 2 * time.Second

// readyCheck is one dependency /readyz checks; check returns nil when it
// is usable.
type readyCheck struct {
	name  string
	check func(context.Context) error
}

// readiness answers /readyz: 200 when every check passes, else 503 with
// the names of those failing. Checks run at most once every every; the
// verdict is kept in between, so probes cost the dependencies nothing.
type readiness struct {
	checks []readyCheck
	every  time.Duration
	now    func() time.Time
	log    *slog.Logger
	// draining reports a shutdown under way: not ready, whatever the
	// checks say, so a load balancer stops sending work at once.
	draining func() bool
	// standby returns why this replica does not serve customers ("" if
	// it does): not ready, so a load balancer routes to the active one.
	standby func() string

	mu      sync.Mutex // held while checking: one round at a time
	checked time.Time
	reason  string // "" when ready
}

func (r *readiness) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	var reason string
	if r.standby != nil {
		reason = r.standby()
	}
	switch {
	case reason != "":
	case r.draining != nil && r.draining():
		reason = "shutting down"
	default:
		reason = r.verdict(req.Context())
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if reason != "" {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintln(w, "not ready:", reason)
		return
	}
	fmt.Fprintln(w, "ready")
}

// verdict returns why the bot is not ready, or "" if it is.
func (r *readiness) verdict(ctx context.Context) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.checked.IsZero() && r.now().Sub(r.checked) < r.every {
		return r.reason
	}
	// A probe that hangs up must not make a dependency look down.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), readyTimeout)
	defer cancel()
	errs := make([]error, len(r.checks))
	var wg sync.WaitGroup
	for i, c := range r.checks {
		wg.Go(func() { errs[i] = c.check(ctx) })
	}
	wg.Wait()
	var failing []string
	var attrs []any
	for i, c := range r.checks {
		if errs[i] != nil {
			failing = append(failing, c.name+" unreachable")
			attrs = append(attrs, c.name, errs[i].Error())
		}
	}
	reason := strings.Join(failing, ", ")
	switch {
	case reason != "" && reason != r.reason:
		r.log.Warn("not ready", attrs...)
	case reason == "" && r.reason != "":
		r.log.Info("ready again")
	}
	r.reason, r.checked = reason, r.now()
	return reason
}

// openMetrics builds the metrics and listens on Config.MetricsListen, when
// it is set; Run serves there.
func (m *Main) openMetrics() error {
	if m.Config.MetricsListen == "" {
		return nil
	}
	ln, err := net.Listen("tcp", m.Config.MetricsListen)
	if err != nil {
		return fmt.Errorf("%s: %w", m.Config.setting("metrics-listen", m.Config.MetricsListen), err)
	}
	m.metricsLn = ln
	m.MetricsAddr = ln.Addr().String()
	m.metrics = newMetrics()
	return nil
}

// botObserver is the engine's observer: the metrics, if they are on.
func (m *Main) botObserver() bot.Observer {
	if m.metrics == nil {
		return nil
	}
	return m.metrics
}

// portalOptions are the portal client's options for the metrics.
func (m *Main) portalOptions() []portal.Option {
	if m.metrics == nil {
		return nil
	}
	return []portal.Option{portal.WithObserver(m.metrics.portalCall)}
}

// observeTelegram wires the Telegram channel's options to the metrics.
func (m *Main) observeTelegram(opt *telegram.Options) {
	if m.metrics != nil {
		opt.Observer = m.metrics
	}
}

// metricsHandler serves /healthz, /readyz and /metrics.
func (m *Main) metricsHandler() http.Handler {
	// Readiness asks the portal on a connection of its own, once, without
	// retries, and is not counted in the portal metrics.
	hc := &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	probe := portal.NewClient(m.PortalURL, portal.WithHTTPClient(hc), portal.WithRetries(0), portal.WithTimeout(readyTimeout))
	checks := []readyCheck{
		{"store", func(ctx context.Context) error { _, err := m.sessions.Pending(ctx, "telegram", 0, 1); return err }},
		{"portal", func(ctx context.Context) error { _, err := probe.Departments(ctx); return err }},
	}
	if m.replica != nil {
		checks = append(checks, readyCheck{"etcd", m.replica.store.Ping})
	}
	if m.Slack != nil {
		checks = append(checks, readyCheck{"slack", m.Slack.Ping})
	}
	if m.Telegram != nil {
		checks = append(checks, readyCheck{"telegram", m.Telegram.Ping})
		m.metrics.reg.MustRegister(newBacklogCollector(m.Telegram.Backlog, m.Now))
	}
	every := m.ReadyEvery
	if every == 0 {
		every = defaultReadyEvery
	}
	ready := &readiness{checks: checks, every: every, now: time.Now, log: m.Logger, draining: m.draining.Load, standby: m.notActive}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	mux.Handle("GET /readyz", ready)
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.metrics.reg, promhttp.HandlerOpts{
		ErrorLog: slog.NewLogLogger(m.Logger.Handler(), slog.LevelError),
	}))
	return mux
}

// serveMetrics serves the metrics listener, if any, until the returned
// stop is called.
func (m *Main) serveMetrics() (stop func()) {
	if m.metricsLn == nil {
		return func() {}
	}
	srv := &http.Server{Handler: m.metricsHandler(), ReadHeaderTimeout: 5 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(m.metricsLn); !errors.Is(err, http.ErrServerClosed) {
			m.Logger.Error("metrics server", "err", err)
		}
	}()
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			srv.Close()
		}
		<-done
	}
}
