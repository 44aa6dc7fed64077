package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"runtime/pprof"
	"time"

	"supportbot/bot"
	"supportbot/bot/telegram"
	"supportbot/flows"
	"supportbot/locales"
	"supportbot/portal"
	"supportbot/portal/demo"
	"supportbot/store"
)

// loadBot is the bot under load, wired as cmd/supportbot wires a webhook
// run on the embedded demo portal: the same store options, portal client,
// engine and Telegram channel. Only the channel's rate limits differ, and
// its engine is wrapped to time each update.
type loadBot struct {
	db         *store.DB
	channel    *telegram.Channel
	stopPortal func(context.Context) error
}

// botOptions configure openBot.
type botOptions struct {
	DataDir       string
	DemoCustomers int
	Workers       int
	APIURL        string // the fake Bot API
	Token         string
	Secret        string // the webhook's secret token
	Logger        *slog.Logger
	Timeline      *timeline
	// Limits keeps the channel's default (Telegram's) rate limits.
	Limits bool
	// PortalWrap, if set, wraps the demo portal's handler.
	PortalWrap func(http.Handler) http.Handler
}

// openBot opens the database in o.DataDir, starts the demo portal and
// builds the engine and the Telegram channel in webhook mode, its handler
// left for the caller to serve. The demo portal's goroutines carry the
// pprof label part=demo-portal.
func openBot(ctx context.Context, o botOptions) (b *loadBot, err error) {
	b = &loadBot{}
	defer func() {
		if err != nil {
			b.close()
			b = nil
		}
	}()
	key, err := store.LoadOrCreateKey(filepath.Join(o.DataDir, "token.key"))
	if err != nil {
		return b, err
	}
	b.db, err = store.Open(filepath.Join(o.DataDir, "supportbot.db"), store.Options{Key: key, Timeout: time.Second, Batch: true, DeliveredDelay: 100 * time.Millisecond})
	if err != nil {
		return b, err
	}
	var portalURL string
	pprof.Do(ctx, pprof.Labels("part", "demo-portal"), func(context.Context) {
		var h http.Handler = demo.New(demo.Options{ExtraCustomers: o.DemoCustomers})
		if o.PortalWrap != nil {
			h = o.PortalWrap(h)
		}
		portalURL, b.stopPortal, err = demo.Listen(context.WithoutCancel(ctx), "127.0.0.1:0", h)
	})
	if err != nil {
		return b, fmt.Errorf("start demo portal: %w", err)
	}
	// Many chats call the one portal host at once: keep their connections.
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 128
	client := portal.NewClient(portalURL, portal.WithHTTPClient(&http.Client{Timeout: 10 * time.Second, Transport: tr}))
	bundle, err := locales.Load()
	if err != nil {
		return b, err
	}
	eng, err := bot.New(bot.Config{
		Store:       b.db,
		Bundle:      bundle,
		Flows:       flows.All(client, o.Logger),
		DefaultLang: "en",
		IdleTimeout: 30 * time.Minute,
		Logger:      o.Logger,
	})
	if err != nil {
		return b, err
	}
	opt := telegram.Options{
		APIURL:      o.APIURL,
		Logger:      o.Logger,
		DefaultLang: "en",
		Workers:     o.Workers,
		// Webhook mode; the handler is served by the caller.
		Webhook: telegram.Webhook{Secret: o.Secret},
	}
	if !o.Limits {
		// Lift Telegram's limits: the run measures the bot, not them.
		opt.PerChatInterval = time.Nanosecond
		opt.PerChatBurst = 1 << 20
		opt.GlobalPerSecond = 1_000_000_000
	}
	b.channel, err = telegram.New(o.Token, timedEngine{Engine: eng, tl: o.Timeline}, opt)
	return b, err
}

// close stops the demo portal and closes the database.
func (b *loadBot) close() error {
	var errs []error
	if b.stopPortal != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		errs = append(errs, b.stopPortal(ctx))
		cancel()
	}
	if b.db != nil {
		errs = append(errs, b.db.Close())
	}
	return errors.Join(errs...)
}

// timedEngine stamps when handling of each update starts and ends.
type timedEngine struct {
	telegram.Engine
	tl *timeline
}

func (e timedEngine) Handle(ctx context.Context, in bot.Inbound) ([]bot.Envelope, error) {
	e.tl.mark(in.UpdateID, stampStarted)
	envs, err := e.Engine.Handle(ctx, in)
	e.tl.mark(in.UpdateID, stampHandled)
	return envs, err
}
