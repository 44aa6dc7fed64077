package telegram

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
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
//     Telegram sends the update again after the restart.
//
// It handles the update before answering; the body is never logged.
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
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxUpdateBytes))
		if err != nil {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		var head struct {
			ID *int64 `json:"update_id"`
		}
		if err := json.Unmarshal(body, &head); err != nil || head.ID == nil {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		u := new(models.Update)
		if err := json.Unmarshal(body, u); err != nil {
			// Valid JSON the SDK's types reject: nothing we handle.
			c.log.Warn("update not decoded, ignored", "update", *head.ID, c.errAttr(err))
			w.WriteHeader(http.StatusOK)
			return
		}
		d := c.disp.Load()
		if d == nil || c.opt.Webhook.Secret == "" || !d.hooks.enter() {
			w.Header().Set("Connection", "close")
			http.Error(w, "not running", http.StatusServiceUnavailable)
			return
		}
		defer d.hooks.leave()
		select {
		case ok := <-c.dispatch(d, u, nil):
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

// runWebhook registers the webhook URL, if any, and serves Handler on
// Listen, if set, until ctx ends. Then it drains: new updates are answered
// 503 while those accepted on d finish and get their answers; only then
// does the server stop listening.
func (c *Channel) runWebhook(ctx context.Context, d *dispatcher) error {
	wh := c.opt.Webhook
	if wh.URL != "" {
		cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		_, err := c.api.SetWebhook(cctx, &tg.SetWebhookParams{
			URL:            wh.URL,
			SecretToken:    wh.Secret,
			AllowedUpdates: allowedUpdates,
		})
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return errors.New("telegram: setWebhook: " + c.redact(err.Error()))
		}
	}
	if wh.Listen == "" {
		<-ctx.Done()
		c.drainWebhook(d)
		return nil
	}
	ln, err := net.Listen("tcp", wh.Listen)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           c.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	c.log.Info("webhook listening", "addr", ln.Addr().String())
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	c.drainWebhook(d)
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.opt.HandleTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		c.log.Warn("webhook shutdown", c.errAttr(err))
	}
	<-served
	return nil
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
