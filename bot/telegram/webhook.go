package telegram

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	tg "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"
)

// maxUpdateBytes bounds a webhook body.
const maxUpdateBytes = 4 << 20

// Handler returns the webhook endpoint. It answers:
//   - 401 when X-Telegram-Bot-Api-Secret-Token is missing or wrong (compared
//     in constant time);
//   - 400 when the body is not an update;
//   - 200 once the update is committed, or when it is not for us;
//   - 500 when Handle failed, so Telegram sends it again;
//   - 503 while Run is not running in webhook mode, or is shutting down:
//     Telegram sends the update again after the restart; also when the
//     update queues are full (Options.MaxQueued, MaxQueuedPerChat), so
//     Telegram sends it again later.
//
// It handles the update before answering; the body is never logged. It
// answers on any path: the server Run starts on Webhook.Listen serves it
// on Webhook.Path only.
func (c *Channel) Handler() http.Handler {
	secret := sha256.Sum256([]byte(c.opt.Webhook.Secret))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		got := sha256.Sum256([]byte(r.Header.Get("X-Telegram-Bot-Api-Secret-Token")))
		if c.opt.Webhook.Secret == "" || subtle.ConstantTimeCompare(got[:], secret[:]) != 1 {
			c.log.Warn("webhook request with a wrong secret", "remote", r.RemoteAddr)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		// A slow body must not hold the connection: bound its reading,
		// then lift the bound (the answer waits for the commit).
		rc := http.NewResponseController(w)
		_ = rc.SetReadDeadline(time.Now().Add(readBodyTimeout)) // unsupported in tests' recorders
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxUpdateBytes))
		_ = rc.SetReadDeadline(time.Time{})
		if err != nil {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		// One decoding: the update, and whether update_id was there at
		// all (the shallower field takes the key).
		u := new(models.Update)
		wire := struct {
			ID *int64 `json:"update_id"`
			*models.Update
		}{Update: u}
		if err := json.Unmarshal(body, &wire); err != nil || wire.ID == nil {
			var head struct {
				ID *int64 `json:"update_id"`
			}
			if json.Unmarshal(body, &head) != nil || head.ID == nil {
				http.Error(w, "bad request", http.StatusBadRequest)
				return
			}
			// Valid JSON the SDK's types reject: nothing we handle.
			c.log.Warn("update not decoded, ignored", "update", *head.ID, c.errAttr(err))
			w.WriteHeader(http.StatusOK)
			return
		}
		u.ID = *wire.ID
		d := c.disp.Load()
		if d == nil || c.opt.Webhook.Secret == "" || !d.hooks.enter() {
			w.Header().Set("Connection", "close")
			http.Error(w, "not running", http.StatusServiceUnavailable)
			return
		}
		defer d.hooks.leave()
		done, full := c.dispatch(d, u, nil)
		if full {
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		select {
		case ok := <-done:
			if !ok {
				http.Error(w, "not committed", http.StatusInternalServerError)
				return
			}
			w.WriteHeader(http.StatusOK)
		case <-r.Context().Done():
			// Telegram gave up; the worker still finishes the update.
		}
	})
}

// Limits of the server on Webhook.Listen besides Webhook.IdleTimeout and
// Webhook.MaxConns.
const (
	// readHeaderTimeout bounds reading a request's headers.
	readHeaderTimeout = 10 * time.Second
	// readBodyTimeout bounds reading a request's body; the answer may take
	// longer (it waits for the commit).
	readBodyTimeout = 30 * time.Second
)

// runWebhook serves Handler on Listen, if set, and registers the webhook
// URL, if any, until ctx ends. Then it drains: new updates are answered
// 503 while those accepted on d finish and get their answers; only then
// does the server stop listening.
func (c *Channel) runWebhook(ctx context.Context, d *dispatcher) error {
	wh := c.opt.Webhook
	var srv *http.Server
	served := make(chan error, 1)
	if wh.Listen != "" {
		ln, err := net.Listen("tcp", wh.Listen)
		if err != nil {
			return err
		}
		// Listen before setWebhook: Telegram may post at once.
		srv = c.webhookServer()
		go func() { served <- srv.Serve(c.limitListener(ln)) }()
		c.log.Info("webhook listening", "addr", ln.Addr().String(), "path", wh.Path, "max_conns", wh.MaxConns)
	}
	var err error
	if wh.URL != "" {
		err = c.setWebhook(ctx)
	}
	stopped := false // Serve returned
	if err == nil {
		select {
		case err = <-served: // never without Listen
			stopped = true
		case <-ctx.Done():
		}
	}
	c.drainWebhook(d)
	if srv != nil && !stopped {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.opt.HandleTimeout)
		defer cancel()
		if err := srv.Shutdown(sctx); err != nil {
			c.log.Warn("webhook shutdown", c.errAttr(err))
		}
		<-served
	}
	return err
}

// webhookServer is the server on Webhook.Listen: Handler on Webhook.Path
// only (404 elsewhere), idle connections closed after Webhook.IdleTimeout.
func (c *Channel) webhookServer() *http.Server {
	h, path := c.Handler(), c.opt.Webhook.Path
	return &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != path {
				http.NotFound(w, r)
				return
			}
			h.ServeHTTP(w, r)
		}),
		ReadHeaderTimeout: readHeaderTimeout,
		IdleTimeout:       c.opt.Webhook.IdleTimeout,
		ErrorLog:          slog.NewLogLogger(c.log.Handler(), slog.LevelDebug),
	}
}

// setWebhook registers Webhook.URL. A 429 is retried after its
// retry_after, a 5xx or a network failure after a backoff that doubles up
// to 30 s, until ctx ends (nil then); any other refusal (a URL Telegram
// rejects, a revoked token) is returned.
func (c *Channel) setWebhook(ctx context.Context) error {
	wh := c.opt.Webhook
	var backoff time.Duration
	for attempt := 1; ; attempt++ {
		cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		_, err := c.api.SetWebhook(cctx, &tg.SetWebhookParams{
			URL:            wh.URL,
			SecretToken:    wh.Secret,
			AllowedUpdates: allowedUpdates,
		})
		cancel()
		if err == nil {
			if attempt > 1 {
				c.log.Info("setWebhook succeeded", "attempt", attempt)
			}
			return nil
		}
		if ctx.Err() != nil {
			return nil
		}
		var tooMany *tg.TooManyRequestsError
		switch {
		case errors.As(err, &tooMany):
			backoff = max(time.Duration(tooMany.RetryAfter)*time.Second, c.opt.RetryBackoff)
		case errors.Is(err, tg.ErrorBadRequest), errors.Is(err, tg.ErrorUnauthorized),
			errors.Is(err, tg.ErrorForbidden), errors.Is(err, tg.ErrorNotFound):
			return errors.New("telegram: setWebhook: " + c.redact(err.Error()))
		default:
			backoff = c.nextBackoff(backoff)
		}
		c.log.Warn("setWebhook failed, retrying", "attempt", attempt, "retry_in", backoff.String(), c.errAttr(err))
		if !sleep(ctx, backoff) {
			return nil
		}
	}
}

// limitListener wraps ln so that at most Webhook.MaxConns accepted
// connections are open at once: Accept waits for one to close before it
// accepts another (those waiting queue in the kernel's backlog). Reaching
// the cap is logged as a warning.
func (c *Channel) limitListener(ln net.Listener) net.Listener {
	return &limitListener{Listener: ln, slots: make(chan struct{}, c.opt.Webhook.MaxConns), closed: make(chan struct{}), log: c.log}
}

type limitListener struct {
	net.Listener
	slots     chan struct{} // one token per open connection
	closed    chan struct{}
	closeOnce sync.Once
	full      atomic.Bool // the cap was reached, and logged
	log       *slog.Logger
}

func (l *limitListener) Accept() (net.Conn, error) {
	select {
	case l.slots <- struct{}{}:
		l.full.Store(false)
	default:
		if !l.full.Swap(true) { // once until a slot is free at once again
			l.log.Warn("webhook connections at the limit: more wait to be accepted", "max_conns", cap(l.slots))
		}
		select {
		case l.slots <- struct{}{}:
		case <-l.closed:
			return nil, net.ErrClosed
		}
	}
	conn, err := l.Listener.Accept()
	if err != nil {
		<-l.slots
		return nil, err
	}
	return &limitConn{Conn: conn, release: func() { <-l.slots }}, nil
}

func (l *limitListener) Close() error {
	l.closeOnce.Do(func() { close(l.closed) })
	return l.Listener.Close()
}

// limitConn gives its slot back once closed.
type limitConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}

// drainWebhook turns new webhook updates away (503) and waits until those
// accepted on d have been answered.
func (c *Channel) drainWebhook(d *dispatcher) {
	d.hooks.close()
	c.log.Info("webhook draining: new updates answered 503")
	d.hooks.wait()
}

// gate admits webhook requests until it is closed, and lets the shutdown
// wait for those it admitted. The zero value is open.
type gate struct {
	mu     sync.Mutex
	closed bool
	wg     sync.WaitGroup // admitted requests not yet answered
}

// enter admits a request, unless the gate is closed; an admitted request
// calls leave once answered.
func (g *gate) enter() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return false
	}
	g.wg.Add(1)
	return true
}

func (g *gate) leave() { g.wg.Done() }

// close admits no more requests.
func (g *gate) close() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.closed = true
}

// wait waits for the admitted requests; call it after close.
func (g *gate) wait() { g.wg.Wait() }
