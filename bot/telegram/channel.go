package telegram

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	tg "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"supportbot/bot"
)

// Engine is what the Channel needs from the conversation engine;
// *bot.Engine implements it.
type Engine interface {
	// Handle serialises per conversation, drops a redelivered UpdateID, runs
	// the flow, commits the session, the update id and the replies in one
	// durable transaction and returns the committed envelopes, localised. An
	// error means nothing was committed (bot.ErrDuplicate is treated as a
	// no-op success).
	Handle(ctx context.Context, in bot.Inbound) ([]bot.Envelope, error)
	// Notify commits one localised message (msgID from the locales) to a
	// conversation's outbox and returns it.
	Notify(ctx context.Context, key, msgID string, data map[string]any) ([]bot.Envelope, error)
	// Pending returns up to limit undelivered envelopes with an ID
	// above after, in ID order.
	Pending(ctx context.Context, channel string, after uint64, limit int) ([]bot.Envelope, error)
	// Delivered removes delivered envelopes from the outbox.
	Delivered(ctx context.Context, ids ...uint64) error
	// Deactivate marks a conversation unreachable: the customer blocked the bot.
	Deactivate(ctx context.Context, key string) error
	// Commands returns the slash commands described in lang ("" = default).
	Commands(lang string) []bot.Command
}

// KeyPrefix starts every conversation key of this channel: "telegram:<chat id>".
const KeyPrefix = channelName + ":"

// channelName is this channel's part of a conversation key.
const channelName = "telegram"

// DefaultAPIURL is the public Bot API server.
const DefaultAPIURL = "https://api.telegram.org"

// Webhook configures webhook mode.
type Webhook struct {
	// Listen is the address Run serves the webhook on, e.g. ":8443". Empty
	// with Secret set: Run serves nothing, mount Handler yourself.
	Listen string
	// Secret is the secret_token Telegram echoes in
	// X-Telegram-Bot-Api-Secret-Token; required in webhook mode. Telegram
	// allows 1-256 characters A-Z, a-z, 0-9, _ and -.
	Secret string
	// URL, if set, is registered with setWebhook (with Secret) when Run
	// starts; failures Telegram may recover from (429, 5xx, the network)
	// are retried. It must be https, unless APIURL is a Bot API server of
	// your own (a local server takes http webhooks); see CheckWebhookURL.
	URL string
	// Path is the only URL path the server on Listen answers (others get
	// 404). Default: the path of URL, or "/" when URL is empty.
	Path string
	// IdleTimeout closes a kept-alive connection to Listen idle this long
	// (default 60 s).
	IdleTimeout time.Duration
	// MaxConns caps the connections to Listen open at once; more wait to
	// be accepted until one closes (default 100, the most Telegram opens
	// with setWebhook's max_connections).
	MaxConns int
}

// CheckWebhookURL reports whether u can be registered as the webhook of a
// bot on the Bot API server apiURL ("" = DefaultAPIURL): an absolute
// http(s) URL, https unless apiURL is a server other than Telegram's own
// (a local Bot API server takes plain http webhooks).
func CheckWebhookURL(apiURL, u string) error {
	p, err := url.Parse(u)
	if err != nil || p.Host == "" || (p.Scheme != "https" && p.Scheme != "http") {
		return errors.New("want an https:// URL")
	}
	if p.Scheme == "http" && publicAPI(apiURL) {
		return errors.New("must be https:// with Telegram's Bot API (http is for a Bot API server of your own)")
	}
	return nil
}

// publicAPI reports whether apiURL ("" = DefaultAPIURL) is Telegram's own
// Bot API server.
func publicAPI(apiURL string) bool {
	if apiURL == "" {
		return true
	}
	p, err := url.Parse(apiURL)
	if err != nil {
		return false
	}
	return strings.EqualFold(p.Hostname(), "api.telegram.org")
}

// Options configure a Channel. The zero value polls the public Bot API.
type Options struct {
	// APIURL is the Bot API server (default DefaultAPIURL).
	APIURL string
	// Logger receives the channel's logs (default: discard). Message
	// texts, button data and the token are never logged, at any level; the
	// lines of one update's handling and of the sending of its replies
	// carry its chat and update id (bot.UpdateLogger).
	Logger *slog.Logger
	// Workers bounds the typing indicators in flight (twice as many;
	// default 8). Updates no longer share workers: each chat with updates
	// queued is handled on its own goroutine, so a slow backend call holds
	// up only the chat that made it.
	Workers int
	// MaxQueuedPerChat and MaxQueued bound the updates taken and not yet
	// handled, per chat (default 32) and in all (default 4096). Beyond
	// them the webhook answers 503 and polling fetches the update again
	// later: Telegram keeps it.
	MaxQueuedPerChat int
	MaxQueued        int
	// HTTPClient is used for every Bot API call (default: a new client).
	// Per-call deadlines come from contexts; a client Timeout must exceed
	// PollTimeout.
	HTTPClient *http.Client
	// Webhook switches to webhook mode when its Secret is set.
	Webhook Webhook
	// DefaultLang is the language hint for updates that carry no
	// language_code ("" = leave it to the engine).
	DefaultLang string
	// Now stamps when a reply was queued, for Backlog (default time.Now).
	// Rate limits and 429 pauses run on the real clock, as their timers do.
	Now func() time.Time

	// PerChatInterval and PerChatBurst limit sending to one chat: a burst,
	// then one message per interval (defaults 1 s and 3; a negative
	// interval: no limit).
	PerChatInterval time.Duration
	PerChatBurst    int
	// GlobalPerSecond limits sending over all chats, in messages a second,
	// with a burst of as many (default 30; negative: no limit). A 429
	// pauses all sending whatever the limits.
	GlobalPerSecond float64
	// PollTimeout is the getUpdates long-poll timeout (default 50 s).
	PollTimeout time.Duration
	// HandleTimeout bounds one Handle call (default 60 s).
	HandleTimeout time.Duration
	// RetryBackoff is the first wait before retrying a failed send or poll;
	// it doubles per attempt (default 500 ms).
	RetryBackoff time.Duration
	// MaxBackoff caps the wait between retries of a failing send (default
	// 30 s): the wait after the nth failure is RetryBackoff doubled n-1
	// times, at most MaxBackoff, of which a random half to all (jitter).
	MaxBackoff time.Duration
	// MaxAttempts is how many tries of one send may fail (5xx, network
	// errors) before it is logged as an error (default 5). A send is
	// retried for as long as Run runs; during the shutdown flush, once it
	// has failed MaxAttempts times, it is left pending for the next start.
	MaxAttempts int
	// TypingDelay is how long handling an update may take before the chat
	// shows "typing…" (default 300 ms; negative: at once). Quick answers
	// then cost no extra API call.
	TypingDelay time.Duration
	// FlushTimeout bounds the delivery of queued replies at shutdown, once
	// the updates in flight are done (default 10 s). What is not sent by
	// then stays pending for the next start.
	FlushTimeout time.Duration
	// CommandLangs are the language codes SetCommands registers besides the
	// default list (default "en", "he").
	CommandLangs []string
	// Observer, if set, is told about every send and every 429 pause (for
	// metrics).
	Observer Observer
}

func (o *Options) setDefaults() {
	if o.APIURL == "" {
		o.APIURL = DefaultAPIURL
	}
	o.APIURL = strings.TrimRight(o.APIURL, "/")
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if o.Workers <= 0 {
		o.Workers = 8
	}
	if o.MaxQueuedPerChat <= 0 {
		o.MaxQueuedPerChat = defaultMaxQueuedPerChat
	}
	if o.MaxQueued <= 0 {
		o.MaxQueued = defaultMaxQueued
	}
	if o.HTTPClient == nil {
		// Keep connections to the one Bot API host: the default keeps two.
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost = 128
		o.HTTPClient = &http.Client{Transport: tr}
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.TypingDelay == 0 {
		o.TypingDelay = 300 * time.Millisecond
	}
	if o.PerChatInterval == 0 {
		o.PerChatInterval = time.Second
	}
	if o.PerChatBurst <= 0 {
		o.PerChatBurst = 3
	}
	if o.GlobalPerSecond == 0 {
		o.GlobalPerSecond = 30
	}
	if o.PollTimeout <= 0 {
		o.PollTimeout = 50 * time.Second
	}
	if o.HandleTimeout <= 0 {
		o.HandleTimeout = time.Minute
	}
	if o.RetryBackoff <= 0 {
		o.RetryBackoff = 500 * time.Millisecond
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 30 * time.Second
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 5
	}
	if o.FlushTimeout <= 0 {
		o.FlushTimeout = 10 * time.Second
	}
	if o.CommandLangs == nil {
		o.CommandLangs = []string{"en", "he"}
	}
	if o.Observer == nil {
		o.Observer = nopObserver{}
	}
	if o.Webhook.Path == "" {
		o.Webhook.Path = "/"
		if p, err := url.Parse(o.Webhook.URL); err == nil && p.Path != "" {
			o.Webhook.Path = p.Path
		}
	}
	if o.Webhook.IdleTimeout <= 0 {
		o.Webhook.IdleTimeout = 60 * time.Second
	}
	if o.Webhook.MaxConns <= 0 {
		o.Webhook.MaxConns = 100
	}
}

// Channel connects one Telegram bot to an Engine. Create it with New and
// start it with Run.
type Channel struct {
	api   *tg.Bot
	eng   Engine
	opt   Options
	log   *slog.Logger
	token string

	out     *outbox
	running atomic.Bool
	// disp is the worker pool while Run accepts updates, else nil.
	disp atomic.Pointer[dispatcher]
	// bg tracks best-effort calls (typing, callback answers) so Run
	// returns only after they end.
	bg     sync.WaitGroup
	typing chan struct{} // bounds concurrent typing indicators
}

// New returns a Channel for the bot with token. It makes no network call.
// It returns an error for an empty token, or for a webhook Listen or URL
// without a Secret.
func New(token string, eng Engine, opt Options) (*Channel, error) {
	if strings.TrimSpace(token) == "" {
		return nil, errors.New("telegram: empty token")
	}
	if eng == nil {
		return nil, errors.New("telegram: nil engine")
	}
	opt.setDefaults()
	if (opt.Webhook.Listen != "" || opt.Webhook.URL != "") && opt.Webhook.Secret == "" {
		return nil, errors.New("telegram: webhook mode needs Webhook.Secret")
	}
	if u := opt.Webhook.URL; u != "" {
		if err := CheckWebhookURL(opt.APIURL, u); err != nil {
			return nil, fmt.Errorf("telegram: Webhook.URL: %w", err)
		}
	}
	if p := opt.Webhook.Path; p != "" && !strings.HasPrefix(p, "/") {
		return nil, errors.New("telegram: Webhook.Path must start with /")
	}
	c := &Channel{
		eng:    eng,
		opt:    opt,
		log:    opt.Logger,
		token:  token,
		typing: make(chan struct{}, 2*opt.Workers),
	}
	api, err := tg.New(token,
		tg.WithServerURL(opt.APIURL),
		tg.WithSkipGetMe(),
		tg.WithHTTPClient(opt.PollTimeout, bufferedClient(opt.HTTPClient)),
		tg.WithErrorsHandler(func(err error) { c.log.Error("telegram sdk", c.errAttr(err)) }),
		// The SDK's debug lines carry request and update payloads (message
		// texts): only their format is logged.
		tg.WithDebugHandler(func(format string, _ ...any) {
			c.log.Debug("telegram sdk", "format", c.redact(format))
		}),
	)
	if err != nil {
		return nil, fmt.Errorf("telegram: %s", c.redact(err.Error()))
	}
	c.api = api
	c.out = newOutbox(c)
	return c, nil
}

// Key returns the conversation key of a Telegram chat.
func Key(chatID int64) string { return KeyPrefix + strconv.FormatInt(chatID, 10) }

// Run receives and handles updates until ctx is cancelled, then shuts down
// gracefully: it takes no new updates (the webhook answers 503, polling asks
// for no more), finishes the updates in flight, confirms only those
// committed, flushes what it can send within FlushTimeout, and returns nil.
// Before taking new updates it queues the engine's pending envelopes
// (undelivered before a restart). It returns an error if the token is
// rejected, the webhook cannot be served, or Run is already running.
func (c *Channel) Run(ctx context.Context) error {
	if !c.running.CompareAndSwap(false, true) {
		return errors.New("telegram: Run called twice")
	}
	defer c.running.Store(false)

	if err := c.checkToken(ctx); err != nil {
		return err
	}

	c.out.start(ctx)
	if err := c.out.load(ctx); err != nil && ctx.Err() == nil {
		c.log.Error("read pending replies", c.errAttr(err))
	}

	d := newDispatcher(c, c.opt.MaxQueuedPerChat, c.opt.MaxQueued)
	c.disp.Store(d)

	var err error
	if c.opt.Webhook.Secret != "" {
		err = c.runWebhook(ctx, d)
	} else {
		err = c.poll(ctx, d)
	}

	c.disp.Store(nil)
	d.stop()
	c.bg.Wait()
	c.out.flush(c.opt.FlushTimeout)
	return err
}

// Deliver queues committed envelopes for delivery, such as those
// Engine.Notify returns for a staff reply. It does not wait for the send.
// Envelopes of other channels are skipped; while Run is not running they
// stay in the outbox for its next start.
func (c *Channel) Deliver(envs ...bot.Envelope) {
	c.out.enqueue(envs...)
}

// checkToken calls getMe: a rejected token stops Run; other failures are
// logged and left to the polling or webhook retries.
func (c *Channel) checkToken(ctx context.Context) error {
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	me, err := c.api.GetMe(cctx)
	switch {
	case errors.Is(err, tg.ErrorUnauthorized), errors.Is(err, tg.ErrorNotFound):
		return fmt.Errorf("telegram: token rejected: %s", c.redact(err.Error()))
	case err != nil:
		if ctx.Err() == nil {
			c.log.Warn("getMe", c.errAttr(err))
		}
	default:
		c.log.Info("telegram bot", "username", me.Username)
	}
	return nil
}

// SetCommands registers the engine's slash commands as the bot's command
// menu: the default list and one per Options.CommandLangs ("en", "he").
func (c *Channel) SetCommands(ctx context.Context) error {
	var errs []error
	for _, lang := range append([]string{""}, c.opt.CommandLangs...) {
		cmds := c.eng.Commands(lang)
		if len(cmds) == 0 {
			continue
		}
		params := &tg.SetMyCommandsParams{LanguageCode: lang}
		for _, cm := range cmds {
			name := strings.TrimPrefix(cm.Name, "/")
			if !validCommand(name) || cm.Description == "" || len(cm.Description) > 256 {
				errs = append(errs, fmt.Errorf("command %q (%s): not valid for Telegram", cm.Name, langName(lang)))
				continue
			}
			params.Commands = append(params.Commands, models.BotCommand{Command: name, Description: cm.Description})
		}
		if len(params.Commands) == 0 {
			continue
		}
		if _, err := c.api.SetMyCommands(ctx, params); err != nil {
			errs = append(errs, fmt.Errorf("set commands (%s): %s", langName(lang), c.redact(err.Error())))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("telegram: %w", errors.Join(errs...))
	}
	return nil
}

func langName(lang string) string {
	if lang == "" {
		return "default"
	}
	return lang
}

// validCommand reports whether name is a Telegram command: 1-32 of a-z, 0-9, _.
func validCommand(name string) bool {
	if name == "" || len(name) > 32 {
		return false
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_') {
			return false
		}
	}
	return true
}

// redact removes the token from s (SDK errors and URLs carry it).
func (c *Channel) redact(s string) string {
	return strings.ReplaceAll(s, c.token, "<token>")
}

// errAttr is the err log attribute with the token redacted.
func (c *Channel) errAttr(err error) slog.Attr {
	return slog.String("err", c.redact(err.Error()))
}

// sleep waits d or until ctx ends, and reports whether it waited the full d.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
