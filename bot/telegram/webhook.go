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
//   - 503 while Run is not running in webhook mode.
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
		if d == nil || c.opt.Webhook.Secret == "" {
			http.Error(w, "not running", http.StatusServiceUnavailable)
			return
		}
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
// Listen, if set, until ctx ends.
func (c *Channel) runWebhook(ctx context.Context) error {
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
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.opt.HandleTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		c.log.Warn("webhook shutdown", c.errAttr(err))
	}
	<-served
	return nil
}
