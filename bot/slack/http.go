package slack

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/slack-go/slack"
)

// maxBody bounds a request body from Slack.
const maxBody = 1 << 20

// Handler serves Slack's HTTP requests, each verified with the signing
// secret: POST /slack/events, /slack/interactivity and /slack/commands.
// A bad or stale signature answers 401.
func (a *Adapter) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /slack/events", a.verified(a.serveEvents))
	mux.HandleFunc("POST /slack/interactivity", a.verified(a.serveInteractivity))
	mux.HandleFunc("POST /slack/commands", a.verified(a.serveCommands))
	return mux
}

// verified reads the body (up to maxBody), checks its signature and
// hands it on.
func (a *Adapter) verified(next func(w http.ResponseWriter, r *http.Request, body []byte)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
		if err != nil {
			http.Error(w, "request too large", http.StatusRequestEntityTooLarge)
			return
		}
		sv, err := slack.NewSecretsVerifier(r.Header, a.cfg.SigningSecret)
		if err == nil {
			_, err = sv.Write(body)
		}
		if err == nil {
			err = sv.Ensure()
		}
		if err != nil {
			a.log.Warn("slack request refused", "path", r.URL.Path, "err", err)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		next(w, r, body)
	}
}

func (a *Adapter) serveEvents(w http.ResponseWriter, r *http.Request, body []byte) {
	var cb eventCallback
	if err := json.Unmarshal(body, &cb); err != nil {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	switch cb.Type {
	case "url_verification":
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, cb.Challenge)
		return
	case "app_rate_limited":
		a.log.Warn("slack rate-limited this app's events")
	case "event_callback":
		a.answer(w, r, func(ctx context.Context) response { return a.onEvent(ctx, cb, cb.EventID) })
		return
	}
	w.WriteHeader(http.StatusOK)
}

func (a *Adapter) serveInteractivity(w http.ResponseWriter, r *http.Request, body []byte) {
	form, err := url.ParseQuery(string(body))
	if err != nil {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	cb, err := decodeInteraction([]byte(form.Get("payload")))
	if err != nil {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	a.answer(w, r, func(ctx context.Context) response { return a.onInteraction(ctx, cb, "") })
}

func (a *Adapter) serveCommands(w http.ResponseWriter, r *http.Request, body []byte) {
	if form, err := url.ParseQuery(string(body)); err == nil && form.Get("ssl_check") == "1" {
		w.WriteHeader(http.StatusOK) // Slack checking the certificate
		return
	}
	req, _ := http.NewRequestWithContext(r.Context(), http.MethodPost, "/", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	cmd, err := slack.SlashCommandParse(req)
	if err != nil {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	a.answer(w, r, func(ctx context.Context) response { return a.onCommand(ctx, cmd) })
}

// answer runs the quick part of a request within quickTimeout, writes its
// ack and starts the slow part.
func (a *Adapter) answer(w http.ResponseWriter, r *http.Request, quick func(ctx context.Context) response) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), quickTimeout+500*time.Millisecond)
	res := a.safely(ctx, quick)
	cancel()
	if res.body != nil {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(res.body)
	} else {
		w.WriteHeader(http.StatusOK)
	}
	a.later(res.key, res.after)
}

// safely runs quick, turning a panic into an empty answer.
func (a *Adapter) safely(ctx context.Context, quick func(ctx context.Context) response) (res response) {
	defer func() {
		if p := recover(); p != nil {
			a.log.Error("panic handling slack request", "panic", p)
			res = response{}
		}
	}()
	return quick(ctx)
}

// serveHTTP serves Handler on Config.Listen until ctx ends.
func (a *Adapter) serveHTTP(ctx context.Context) error {
	srv := &http.Server{
		Addr:              a.cfg.Listen,
		Handler:           a.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
