package main

import (
	"context"
	"time"

	"supportbot/bot/telegram"
)

// openTelegram builds the Telegram channel from the configuration.
func (m *Main) openTelegram() error {
	c := &m.Config
	opt := telegram.Options{
		APIURL:      c.TelegramAPIURL,
		Logger:      m.Logger,
		DefaultLang: c.Lang,
		Now:         m.Now,
		Webhook: telegram.Webhook{
			Listen: c.TelegramWebhookListen,
			Secret: c.TelegramWebhookSecret,
			URL:    c.TelegramWebhookURL,
		},
	}
	if m.TelegramOptions != nil {
		m.TelegramOptions(&opt)
	}
	var err error
	m.Telegram, err = telegram.New(c.TelegramToken, m.Engine, opt)
	return err
}

// runTelegram registers the command menu and serves Telegram until ctx is
// done; in-flight updates finish and queued replies are flushed first.
func (m *Main) runTelegram(ctx context.Context) error {
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	if err := m.Telegram.SetCommands(cctx); err != nil && ctx.Err() == nil {
		m.Logger.Warn("set telegram commands", "err", err)
	}
	cancel()
	return m.Telegram.Run(ctx)
}
