package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/term"

	"supportbot/bot"
	"supportbot/bot/console"
	"supportbot/bot/slack"
	"supportbot/bot/telegram"
	"supportbot/flows"
	"supportbot/locales"
	"supportbot/portal"
	"supportbot/portal/demo"
	"supportbot/store"
)

// Main is the whole program, wired from Config, so tests can run it.
type Main struct {
	Config Config
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// Now is the clock (default time.Now).
	Now func() time.Time

	// TelegramOptions, if set, adjusts the Telegram channel's options
	// (tests tighten its limits).
	TelegramOptions func(*telegram.Options)
	// ReadyEvery is how long /readyz keeps a verdict before checking the
	// store, the portal and Telegram again (default 5 s).
	ReadyEvery time.Duration
	// MetricsAddr is the address /metrics is served on, set by Open when
	// Config.MetricsListen is set (its port chosen if that one was 0).
	MetricsAddr string

	Logger   *slog.Logger
	Telegram *telegram.Channel
	Slack    *slack.Adapter // the staff side, if configured
	// DB is the bbolt store, with --store=bbolt (for its backups); nil
	// with etcd.
	DB         *store.DB
	Engine     *bot.Engine
	Portal     *portal.Client
	PortalURL  string
	stopPortal func(context.Context) error
	portalTr   *http.Transport // the portal client's connections
	banner     string
	notes      map[string]console.Notes
	logFile    *os.File      // the terminal chat's log, if logs go there
	repeats    *repeatFilter // holds back repeated warnings of Logger, if Open built it
	backups    *backupServer // serves `supportbot backup` while the database is open
	metrics    *metrics      // if Config.MetricsListen is set
	metricsLn  net.Listener  // where Run serves them
	draining   atomic.Bool   // set once Run begins to stop; /readyz answers 503
	// sessions is the chosen store, bbolt or etcd.
	sessions sessionStore
	// replica is this process's part in the etcd election, with
	// --store=etcd.
	replica *replica
	// standby is set while the replica waits to be elected; /readyz
	// answers 503.
	standby atomic.Bool
}

// NewMain returns a Main with the default configuration.
func NewMain() *Main {
	return &Main{Config: DefaultConfig(), Now: time.Now}
}

// Open starts the demo portal (unless a portal URL is configured), opens
// the database and builds the engine.
func (m *Main) Open(ctx context.Context) error {
	c := &m.Config
	level, err := c.level()
	if err != nil {
		return err
	}
	if m.Logger == nil {
		w, err := m.logWriter()
		if err != nil {
			return err
		}
		m.Logger, m.repeats = newLogger(w, level, c.LogFormat)
	}
	m.warnArgvSecrets()
	key, err := m.key()
	if err != nil {
		return err
	}
	if err := m.openStore(ctx, key); err != nil {
		return err
	}
	if m.DB != nil {
		if m.backups, err = serveBackups(c.DataDir, m.DB, m.Logger); err != nil {
			// The bot runs on; `supportbot backup` says it cannot copy.
			m.Logger.Warn("backups of the running bot not served", "socket", c.socketPath(), "err", err)
		}
	}
	if err := m.openMetrics(); err != nil {
		return err
	}
	m.sessions = m.observeStore(m.sessions)
	m.PortalURL = c.PortalURL
	if m.PortalURL == "" {
		srv := demo.New(demo.Options{ExtraCustomers: c.DemoCustomers, Now: m.Now, TokenKey: demoTokenKey(key)})
		// Close stops it, after the updates in flight at a shutdown have
		// finished with it: not ctx, which ends when the shutdown begins.
		m.PortalURL, m.stopPortal, err = demo.Listen(context.WithoutCancel(ctx), "127.0.0.1:0", srv)
		if err != nil {
			return fmt.Errorf("start demo portal: %w", err)
		}
	}
	// Many chats call the one portal host at once: keep their connections.
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 128
	m.portalTr = tr
	m.Portal = portal.NewClient(m.PortalURL, append(m.portalOptions(),
		portal.WithHTTPClient(&http.Client{Timeout: 10 * time.Second, Transport: tr}),
		portal.WithStaffKey(c.PortalStaffKey))...)
	bundle, err := locales.Load()
	if err != nil {
		return err
	}
	if m.banner, err = banner(bundle, c.Lang, c.PortalURL); err != nil {
		return err
	}
	if m.notes, err = consoleNotes(bundle); err != nil {
		return err
	}
	var flowOpts []flows.Option
	if c.SlackBotToken != "" {
		flowOpts = append(flowOpts, flows.WithStaffChat())
	}
	m.Engine, err = bot.New(bot.Config{
		Store:       m.sessions,
		Bundle:      bundle,
		Flows:       flows.All(m.Portal, m.Logger, flowOpts...),
		Signals:     flows.Signals,
		Human:       flows.Human,
		DefaultLang: c.Lang,
		IdleTimeout: c.IdleTimeout,
		Now:         m.Now,
		Logger:      m.Logger,
		Observer:    m.botObserver(),
	})
	if err != nil {
		return err
	}
	if c.TelegramToken != "" {
		if err := m.openTelegram(); err != nil {
			return err
		}
	}
	if c.SlackBotToken != "" {
		return m.openSlack(bundle)
	}
	return nil
}

// openSlack builds the staff side: tickets to department channels, staff
// replies back to the customers' chats.
func (m *Main) openSlack(bundle *i18n.Bundle) error {
	c := &m.Config
	channels, err := c.slackChannels()
	if err != nil {
		return err
	}
	apiURL := c.SlackAPIURL
	if apiURL != "" && !strings.HasSuffix(apiURL, "/") {
		apiURL += "/" // slack-go appends the method name to it
	}
	var hc *http.Client
	if m.replica != nil {
		// As for Telegram: once this replica is no longer active, not one
		// more Slack call.
		hc = &http.Client{Timeout: 15 * time.Second, Transport: activeOnlyTransport{next: http.DefaultTransport, lost: &m.replica.lost}}
	}
	m.Slack, err = slack.New(slack.Config{
		HTTPClient: hc,
		BotToken:   c.SlackBotToken, AppToken: c.SlackAppToken,
		SigningSecret: c.SlackSigningSecret, Listen: c.SlackListen, APIURL: apiURL,
		Channels: channels, Staff: c.slackStaff(), Prefix: c.SlackReplyPrefix, Lang: c.Lang,
		Bundle: bundle, Engine: m.Engine, Portal: m.Portal, KV: m.kv("slack"),
		Deliver: m.deliver, Log: m.Logger.With("channel", "slack"), Now: m.Now,
	})
	if err != nil {
		return fmt.Errorf("slack: %w", err)
	}
	return nil
}

// deliver hands replies committed by the staff side (a staff reply, a
// ticket closed) to the customer's channel. The terminal chat shows its
// own before it handles the customer's next line.
func (m *Main) deliver(envs ...bot.Envelope) {
	if m.Telegram != nil {
		m.Telegram.Deliver(envs...)
	}
}

// warnArgvSecrets logs, once, that the secrets given on the command line
// show in ps, and where else to give them.
func (m *Main) warnArgvSecrets() {
	flags := m.Config.argvSecrets
	if len(flags) == 0 {
		return
	}
	var given, instead []string
	for _, f := range flags {
		ev := flagEnv[f]
		given = append(given, "--"+f)
		instead = append(instead, fmt.Sprintf("--%s-file, %s_FILE or %s", f, ev, ev))
	}
	m.Logger.Warn("secrets on the command line are visible to every user of this machine (ps); give them in a file or the environment instead",
		"flags", strings.Join(given, ", "), "instead", strings.Join(instead, "; "))
}

func (m *Main) key() ([]byte, error) {
	if m.Config.Key != "" {
		k, err := store.ParseKey(m.Config.Key)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", m.Config.name("key"), err)
		}
		return k, nil
	}
	return store.LoadOrCreateKey(m.Config.keyPath())
}

// Run serves customers until ctx is done (or, in the terminal, stdin ends).
// On Telegram it then drains before returning: no new updates are taken,
// those in flight finish, and pending replies are sent for up to
// Config.ShutdownTimeout; what is left stays in the store for the next
// start. Close the store after Run returns.
//
// With --store=etcd, Run first waits as a standby until this replica is
// elected; if it then loses its leadership it stops taking updates at
// once, makes no further Bot API call (queued replies stay in the shared
// outbox for the new active replica), commits nothing (writes are fenced)
// and returns errNoLongerActive.
func (m *Main) Run(ctx context.Context) error {
	// The metrics are served until Run returns, the drain included.
	defer m.serveMetrics()()
	if m.replica != nil {
		return m.runReplica(ctx)
	}
	m.setActive(true)
	return m.serve(ctx)
}

// serve serves customers until ctx is done, then drains (see Run).
func (m *Main) serve(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		m.expireLoop(ctx)
	}()
	go func() {
		defer wg.Done()
		<-ctx.Done()
		m.draining.Store(true) // /readyz says so while the drain runs
	}()
	// Stop the expiry loop before returning, so Close never races it.
	defer wg.Wait()
	defer cancel()
	if m.Slack != nil {
		// The staff side runs as long as the customers' channel does.
		sctx, stop := context.WithCancel(context.WithoutCancel(ctx))
		done := make(chan struct{})
		go func() {
			defer close(done)
			if err := m.Slack.Run(sctx); err != nil && sctx.Err() == nil {
				m.Logger.Error("slack stopped", "err", err)
			}
		}()
		defer func() { stop(); <-done }()
	}
	if m.Config.TelegramToken != "" {
		return m.runTelegram(ctx)
	}
	fmt.Fprintln(m.Stdout, m.banner)
	return console.New(m.Engine, m.Stdin, m.Stdout, console.Options{Lang: m.Config.Lang, Notes: m.notes}).Run(ctx)
}

// logWriter returns where logs go: Stderr, unless the terminal chat runs
// in the terminal Stderr writes to; then <data-dir>/supportbot.log, so no
// log line lands in the conversation.
func (m *Main) logWriter() (io.Writer, error) {
	if m.Config.TelegramToken != "" || !sameTerminal(m.Stderr, m.Stdin, m.Stdout) {
		return m.Stderr, nil
	}
	f, err := os.OpenFile(m.Config.logPath(), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("log file: %w", err)
	}
	m.logFile = f
	return f, nil
}

// sameTerminal reports whether w is a terminal that one of chat is too.
func sameTerminal(w io.Writer, chat ...any) bool {
	f, ok := w.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return false
	}
	fi, err := f.Stat()
	if err != nil {
		return false
	}
	for _, c := range chat {
		if g, ok := c.(*os.File); ok {
			if gi, err := g.Stat(); err == nil && os.SameFile(fi, gi) {
				return true
			}
		}
	}
	return false
}

// consoleNotes renders the terminal chat's own remarks in every language
// of b.
func consoleNotes(b *i18n.Bundle) (map[string]console.Notes, error) {
	notes := map[string]console.Notes{}
	for _, tag := range b.LanguageTags() {
		l := i18n.NewLocalizer(b, tag.String())
		var n console.Notes
		for id, s := range map[string]*string{"console.deleted": &n.Deleted, "console.edited": &n.Edited} {
			var err error
			if *s, err = l.Localize(&i18n.LocalizeConfig{MessageID: id}); err != nil {
				return nil, fmt.Errorf("console note %s in %s: %w", id, tag, err)
			}
		}
		notes[tag.String()] = n
	}
	return notes, nil
}

// banner is the terminal chat's opening line, in the default language.
func banner(b *i18n.Bundle, lang, portalURL string) (string, error) {
	cfg := &i18n.LocalizeConfig{MessageID: "console.banner_demo"}
	if portalURL != "" {
		cfg = &i18n.LocalizeConfig{MessageID: "console.banner_portal", TemplateData: map[string]string{"URL": portalURL}}
	}
	s, err := i18n.NewLocalizer(b, lang).Localize(cfg)
	if err != nil {
		return "", fmt.Errorf("console banner: %w", err)
	}
	return s, nil
}

// expireLoop deletes sessions idle for 30 days and handled update ids
// older than store.DefaultHandledTTL (7 days), hourly.
func (m *Main) expireLoop(ctx context.Context) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		if n, err := m.sessions.Expire(ctx, m.Now().Add(-30*24*time.Hour)); err != nil {
			if ctx.Err() != nil {
				return
			}
			m.Logger.Error("expire sessions", "err", err)
		} else if n > 0 {
			m.Logger.Info("expired sessions", "count", n)
		}
		if n, err := m.sessions.ExpireHandled(ctx); err != nil {
			if ctx.Err() != nil {
				return
			}
			m.Logger.Error("expire handled update ids", "err", err)
		} else if n > 0 {
			m.Logger.Info("expired handled update ids", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Close stops the demo portal and closes the database.
func (m *Main) Close() error {
	var errs []error
	if m.portalTr != nil {
		// A connection the client dialled but never used (another one
		// came free first) is new, not idle, to the demo portal's server,
		// and its shutdown would wait 5 s for it.
		m.portalTr.CloseIdleConnections()
	}
	if m.stopPortal != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		errs = append(errs, m.stopPortal(ctx))
		cancel()
	}
	if m.backups != nil {
		errs = append(errs, m.backups.Close()) // before the database closes under a copy
		m.backups = nil
	}
	if m.metricsLn != nil {
		m.metricsLn.Close() // if Run never served it; else already closed
	}
	if m.DB != nil {
		errs = append(errs, m.DB.Close())
	}
	if m.replica != nil {
		errs = append(errs, m.replica.close())
	}
	if m.repeats != nil {
		m.repeats.flush() // say how many warnings were held back
	}
	if m.logFile != nil {
		errs = append(errs, m.logFile.Close())
	}
	return errors.Join(errs...)
}
