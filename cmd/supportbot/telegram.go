package main

import (
	"context"
	"net/http"
	"time"

	"supportbot/bot/telegram"
)

// openTelegram builds the Telegram channel from the configuration.
func (m *Main) openTelegram() error {
	c := &m.Config
	opt := telegram.Options{
		APIURL:       c.TelegramAPIURL,
		Logger:       m.Logger,
		DefaultLang:  c.Lang,
		Now:          m.Now,
		FlushTimeout: c.ShutdownTimeout,
		// Telegram allows about 30 messages a second in all and one a
		// second per chat; 0 lifts a limit (a 429 still pauses sending).
		GlobalPerSecond: noLimitIfZero(c.TelegramGlobalRate),
		PerChatInterval: perMessage(c.TelegramChatRate),
		Webhook: telegram.Webhook{
			Listen: c.TelegramWebhookListen,
			Secret: c.TelegramWebhookSecret,
			URL:    c.TelegramWebhookURL,
			Path:   c.TelegramWebhookPath,
		},
	}
	m.observeTelegram(&opt)
	if m.TelegramOptions != nil {
		m.TelegramOptions(&opt)
	}
	if m.replica != nil {
		// Once this replica is no longer active, not one more Bot API
		// call: the new active replica owns the chats and their outbox.
		hc := &http.Client{}
		if opt.HTTPClient != nil {
			*hc = *opt.HTTPClient
		}
		next := hc.Transport
		if next == nil {
			next = http.DefaultTransport
		}
		hc.Transport = activeOnlyTransport{next: next, lost: &m.replica.lost}
		opt.HTTPClient = hc
	}
	var err error
	m.Telegram, err = telegram.New(c.TelegramToken, m.Engine, opt)
	return err
}

// runTelegram registers the command menu and serves Telegram until ctx is
// done; then it takes no new updates, lets those in flight finish and
// sends the pending replies for up to Config.ShutdownTimeout.
func (m *Main) runTelegram(ctx context.Context) error {
	stop := context.AfterFunc(ctx, func() {
		m.Logger.Info("shutting down: finishing updates in flight, then sending pending replies", "timeout", m.Config.ShutdownTimeout)
	})
	defer stop()
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	if err := m.Telegram.SetCommands(cctx); err != nil && ctx.Err() == nil {
		m.Logger.Warn("set telegram commands", "err", err)
	}
	cancel()
	return m.Telegram.Run(ctx)
}

// noLimitIfZero maps a rate of 0 (no limit) to the channel's "no limit",
// a negative rate.
func noLimitIfZero(rate float64) float64 {
	if rate == 0 {
		return -1
	}
	return rate
}

// perMessage is the interval between messages at rate messages a second;
// for 0 (no limit), a negative interval.
func perMessage(rate float64) time.Duration {
	if rate == 0 {
		return -1
	}
	return max(time.Duration(float64(time.Second)/rate), time.Nanosecond)
}
