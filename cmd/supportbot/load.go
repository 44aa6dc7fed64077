package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"supportbot/bot/telegram"
)

// The load subcommand measures the whole bot — webhook handler, engine,
// flows, durable bbolt commits, demo portal over HTTP and the Telegram
// sender — under closed-loop load: each simulated customer posts an update
// to the webhook, waits for the bot's reply to reach a fake Bot API, then
// takes the next step. The fake Bot API and the customers run in this
// process, so the CPU figures include them.

const loadUsage = `Usage: supportbot load [flags]

Runs the bot in webhook mode against an in-process fake Bot API with --users
simulated customers, each tracking an order as a guest again and again:
/start, Track, Continue as a guest, order number, email (the reply shows the
shipment). Each step waits for the bot's reply before the next.

Telegram's rate limits (1 message/s per chat in bursts of 3, 30/s overall)
are lifted for the run, so it measures what the bot can do; in production
those limits apply and bound delivery long before the bot does.

Flags:
`

// loadConfig configures one load run.
type loadConfig struct {
	Users    int
	Duration time.Duration
	// DemoCustomers is how many generated demo customers the portal has;
	// customer i (1-based) tracks its own order SB-8<i:05d> when i ≤
	// DemoCustomers, else one of the seeded guest orders.
	DemoCustomers int
	// DataDir holds the database; empty uses a new temporary directory,
	// removed afterwards.
	DataDir string
	// Workers is the Telegram channel's worker count (0 = its default).
	Workers int
	// StepTimeout is how long a customer waits for a reply.
	StepTimeout time.Duration
	// CPUProfile, if set, is where the CPU profile of the measured run goes.
	CPUProfile string
}

// loadResult is what a load run measured.
type loadResult struct {
	Users         int
	Elapsed       time.Duration
	Conversations int64
	Steps         int64
	P50, P99, Max time.Duration
	// CPU is the process's user+system CPU time during the run.
	CPU time.Duration
	// MaxRSS is the process's peak resident set size, in bytes.
	MaxRSS int64
	// Errors counts failed steps, wrong answers of the fake Bot API's
	// callers and log records at warning level or above.
	Errors  int64
	Samples []string // the first few errors
}

func (r loadResult) perSecond(n int64) float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(n) / r.Elapsed.Seconds()
}

// cpuPerStep is the process CPU time per step.
func (r loadResult) cpuPerStep() time.Duration {
	if r.Steps == 0 {
		return 0
	}
	return r.CPU / time.Duration(r.Steps)
}

func (r loadResult) print(w io.Writer) {
	fmt.Fprintf(w, "users                  %d\n", r.Users)
	fmt.Fprintf(w, "elapsed                %s\n", r.Elapsed.Round(time.Millisecond))
	fmt.Fprintf(w, "conversations          %d (%.0f/s)\n", r.Conversations, r.perSecond(r.Conversations))
	fmt.Fprintf(w, "steps                  %d (%.0f/s)\n", r.Steps, r.perSecond(r.Steps))
	fmt.Fprintf(w, "step latency           p50 %s, p99 %s, max %s (post → reply received)\n", ms(r.P50), ms(r.P99), ms(r.Max))
	fmt.Fprintf(w, "process CPU per step   %s (includes load generator and fake Bot API; %s CPU in all)\n", ms(r.cpuPerStep()), r.CPU.Round(time.Millisecond))
	fmt.Fprintf(w, "peak RSS               %.1f MB (whole process)\n", float64(r.MaxRSS)/(1<<20))
	fmt.Fprintf(w, "errors                 %d\n", r.Errors)
	for _, s := range r.Samples {
		fmt.Fprintf(w, "  %s\n", s)
	}
}

func ms(d time.Duration) string { return fmt.Sprintf("%.3f ms", float64(d)/float64(time.Millisecond)) }

// runLoad is the load subcommand.
func runLoad(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg := loadConfig{Users: 50, Duration: 10 * time.Second, DemoCustomers: -1, StepTimeout: 10 * time.Second}
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	fs.IntVar(&cfg.Users, "users", cfg.Users, "simulated customers, each running conversations back to back")
	fs.DurationVar(&cfg.Duration, "duration", cfg.Duration, "how long to run")
	fs.IntVar(&cfg.DemoCustomers, "demo-customers", cfg.DemoCustomers, "generated demo customers (-1 = one per user); users beyond them track the seeded guest orders")
	fs.StringVar(&cfg.DataDir, "data-dir", "", "database directory (default: a new temporary directory, removed afterwards)")
	fs.IntVar(&cfg.Workers, "workers", 0, "Telegram channel workers (0 = the channel's default)")
	fs.DurationVar(&cfg.StepTimeout, "step-timeout", cfg.StepTimeout, "how long a customer waits for a reply before counting an error")
	fs.StringVar(&cfg.CPUProfile, "cpuprofile", "", "write a CPU profile of the run to this file")
	if err := parseArgs(fs, loadUsage, args, stdout, stderr); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "load: unexpected arguments %q\n", fs.Args())
		return errUsage
	}
	res, err := load(ctx, cfg, stderr)
	if err != nil {
		return err
	}
	res.print(stdout)
	if res.Errors > 0 {
		return fmt.Errorf("load: %d errors", res.Errors)
	}
	return nil
}

// loadToken is the bot token of a load run; the fake Bot API accepts no other.
const loadToken = "424242:LOAD-token"

// load runs the bot under load as cfg says and returns what it measured.
func load(ctx context.Context, cfg loadConfig, stderr io.Writer) (loadResult, error) {
	switch {
	case cfg.Users < 1:
		return loadResult{}, errors.New("load: --users must be at least 1")
	case cfg.Duration <= 0:
		return loadResult{}, errors.New("load: --duration must be positive")
	case cfg.StepTimeout <= 0:
		return loadResult{}, errors.New("load: --step-timeout must be positive")
	}
	if cfg.DemoCustomers < 0 {
		cfg.DemoCustomers = min(cfg.Users, 99999)
	}
	errs := &errorLog{}

	// The customers first: the fake Bot API routes replies to them.
	users := make([]*loadUser, cfg.Users)
	api := &fakeBotAPI{token: loadToken, users: map[int64]*loadUser{}, errs: errs}
	for i := range users {
		u := newLoadUser(i+1, cfg.DemoCustomers, errs)
		users[i] = u
		api.users[u.chat] = u
	}
	// CPU profile labels (go tool pprof -tags) tell the parts apart; the
	// goroutines a labelled one starts inherit its label.
	var (
		apiURL  string
		stopAPI func()
		err     error
	)
	pprof.Do(ctx, pprof.Labels("part", "fake-bot-api"), func(context.Context) {
		apiURL, stopAPI, err = serve(api)
	})
	if err != nil {
		return loadResult{}, fmt.Errorf("load: fake Bot API: %w", err)
	}
	defer stopAPI()

	dir := cfg.DataDir
	if dir == "" {
		dir, err = os.MkdirTemp("", "supportbot-load-*")
		if err != nil {
			return loadResult{}, err
		}
		defer os.RemoveAll(dir)
	}
	secret := make([]byte, 16)
	rand.Read(secret)

	m := NewMain()
	m.Config.DataDir = dir
	m.Config.DemoCustomers = cfg.DemoCustomers
	m.Config.LogLevel = "warn"
	m.Config.TelegramToken = loadToken
	m.Config.TelegramAPIURL = apiURL
	// Webhook mode, Handler mounted on our own listener below.
	m.Config.TelegramWebhookSecret = hex.EncodeToString(secret)
	m.Stdin, m.Stdout, m.Stderr = strings.NewReader(""), io.Discard, stderr
	m.Logger = slog.New(&countingHandler{Handler: slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}), errs: errs})
	m.TelegramOptions = func(o *telegram.Options) {
		// Lift Telegram's limits: the run measures the bot, not them.
		o.PerChatInterval = time.Nanosecond
		o.PerChatBurst = 1 << 20
		o.GlobalPerSecond = 1_000_000_000
		if cfg.Workers > 0 {
			o.Workers = cfg.Workers
		}
	}
	if err := m.Config.Validate(); err != nil {
		return loadResult{}, err
	}
	runCtx, cancelRun := context.WithCancel(ctx)
	defer cancelRun()
	// Open starts the demo portal's server.
	pprof.Do(ctx, pprof.Labels("part", "demo-portal"), func(context.Context) { err = m.Open(runCtx) })
	defer m.Close() // also after a failed Open: it closes what was opened
	if err != nil {
		return loadResult{}, err
	}
	var hookURL string
	var stopHook func()
	pprof.Do(ctx, pprof.Labels("part", "bot"), func(context.Context) {
		hookURL, stopHook, err = serve(m.Telegram.Handler())
	})
	if err != nil {
		return loadResult{}, fmt.Errorf("load: webhook: %w", err)
	}
	defer stopHook()
	runDone := make(chan error, 1)
	go pprof.Do(ctx, pprof.Labels("part", "bot"), func(context.Context) { runDone <- m.Run(runCtx) })
	stopBot := func() error {
		cancelRun()
		return <-runDone
	}

	client := &http.Client{Transport: &http.Transport{
		MaxIdleConns:        cfg.Users + 16,
		MaxIdleConnsPerHost: cfg.Users + 16,
		IdleConnTimeout:     time.Minute,
	}}
	defer client.CloseIdleConnections()
	poster := &webhookPoster{client: client, url: hookURL, secret: m.Config.TelegramWebhookSecret}
	if err := poster.ready(ctx, runDone); err != nil {
		stopBot()
		return loadResult{}, err
	}

	if cfg.CPUProfile != "" {
		f, err := os.Create(cfg.CPUProfile)
		if err != nil {
			stopBot()
			return loadResult{}, err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			stopBot()
			return loadResult{}, err
		}
	}
	cpu0 := processCPU()
	start := time.Now()
	deadline := start.Add(cfg.Duration)
	var wg sync.WaitGroup
	for _, u := range users {
		wg.Go(func() {
			pprof.Do(ctx, pprof.Labels("part", "load-generator"), func(ctx context.Context) {
				u.run(ctx, poster, deadline, cfg.StepTimeout)
			})
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	cpu := processCPU() - cpu0
	if cfg.CPUProfile != "" {
		pprof.StopCPUProfile()
	}
	if err := stopBot(); err != nil {
		errs.add("run: %v", err)
	}

	res := loadResult{Users: cfg.Users, Elapsed: elapsed, CPU: cpu, MaxRSS: peakRSS()}
	var lat []time.Duration
	for _, u := range users {
		res.Conversations += u.conversations
		res.Steps += int64(len(u.latencies))
		lat = append(lat, u.latencies...)
	}
	slices.Sort(lat)
	if n := len(lat); n > 0 {
		res.P50, res.P99, res.Max = lat[n*50/100], lat[min(n-1, n*99/100)], lat[n-1]
	}
	res.Errors, res.Samples = errs.snapshot()
	return res, nil
}

// serve serves h on a loopback port and returns its base URL and a stop
// function.
func serve(h http.Handler) (url string, stop func(), err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	return "http://" + ln.Addr().String(), func() { srv.Close() }, nil
}

// errorLog counts errors and keeps the first few.
type errorLog struct {
	n       atomic.Int64
	mu      sync.Mutex
	samples []string
}

func (e *errorLog) add(format string, args ...any) {
	if e.n.Add(1) > 10 {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.samples = append(e.samples, fmt.Sprintf(format, args...))
}

func (e *errorLog) snapshot() (int64, []string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.n.Load(), slices.Clone(e.samples)
}

// countingHandler counts log records at warning level and above as errors.
type countingHandler struct {
	slog.Handler
	errs *errorLog
}

func (h *countingHandler) Handle(ctx context.Context, r slog.Record) error {
	if r.Level >= slog.LevelWarn {
		h.errs.add("log %s: %s", r.Level, r.Message)
	}
	return h.Handler.Handle(ctx, r)
}

func (h *countingHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &countingHandler{Handler: h.Handler.WithAttrs(as), errs: h.errs}
}

func (h *countingHandler) WithGroup(name string) slog.Handler {
	return &countingHandler{Handler: h.Handler.WithGroup(name), errs: h.errs}
}

// webhookPoster posts updates to the bot's webhook as Telegram does.
type webhookPoster struct {
	client *http.Client
	url    string
	secret string
	ids    atomic.Int64
}

// post sends one update and returns the HTTP status.
func (p *webhookPoster) post(ctx context.Context, update []byte) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.url, bytes.NewReader(update))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Telegram-Bot-Api-Secret-Token", p.secret)
	resp, err := p.client.Do(req)
	if err != nil {
		return 0, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

// ready waits until the webhook accepts updates: it answers 503 until Run
// has started.
func (p *webhookPoster) ready(ctx context.Context, runDone <-chan error) error {
	probe, err := json.Marshal(tgUpdate{UpdateID: p.ids.Add(1), Message: &tgMessage{
		MessageID: 1, Chat: tgChat{ID: 1, Type: "private"}, Date: time.Now().Unix(), Text: "/help",
		From: &tgUser{ID: 1, FirstName: "Probe"},
	}})
	if err != nil {
		return err
	}
	t := time.NewTimer(30 * time.Second)
	defer t.Stop()
	for {
		code, err := p.post(ctx, probe)
		if err == nil && code == http.StatusOK {
			return nil
		}
		if err == nil && code != http.StatusServiceUnavailable {
			return fmt.Errorf("load: webhook answered %d", code)
		}
		select {
		case err := <-runDone:
			return fmt.Errorf("load: bot stopped: %v", err)
		case <-t.C:
			return errors.New("load: webhook not ready after 30s")
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(5 * time.Millisecond):
			// Run is starting: getMe, the pending outbox, then the workers.
		}
	}
}

// The Bot API's JSON, as much of it as the load run sends.
type (
	tgUser struct {
		ID           int64  `json:"id"`
		IsBot        bool   `json:"is_bot"`
		FirstName    string `json:"first_name"`
		LanguageCode string `json:"language_code,omitempty"`
	}
	tgChat struct {
		ID        int64  `json:"id"`
		Type      string `json:"type"`
		FirstName string `json:"first_name,omitempty"`
	}
	tgMessage struct {
		MessageID int     `json:"message_id"`
		From      *tgUser `json:"from,omitempty"`
		Chat      tgChat  `json:"chat"`
		Date      int64   `json:"date"`
		Text      string  `json:"text,omitempty"`
	}
	tgCallback struct {
		ID           string    `json:"id"`
		From         tgUser    `json:"from"`
		Message      tgMessage `json:"message"`
		ChatInstance string    `json:"chat_instance"`
		Data         string    `json:"data"`
	}
	tgUpdate struct {
		UpdateID      int64       `json:"update_id"`
		Message       *tgMessage  `json:"message,omitempty"`
		CallbackQuery *tgCallback `json:"callback_query,omitempty"`
	}
)

// botMessage is a message the bot sent or edited, as its customer sees it.
type botMessage struct {
	id      int
	text    string
	buttons []string // callback data
}

func (m botMessage) has(data string) bool { return slices.Contains(m.buttons, data) }

// loadUser is one simulated customer in a private chat.
type loadUser struct {
	chat  int64
	lang  string
	order string
	email string
	errs  *errorLog
	// msgIDs numbers the chat's messages, the customer's and the bot's.
	msgIDs atomic.Int64
	// inbox receives the bot's messages from the fake Bot API.
	inbox chan botMessage

	// Owned by the customer's goroutine.
	conversations int64
	latencies     []time.Duration
}

// seededOrders are guest orders of the demo portal with one shipment each.
var seededOrders = [][2]string{
	{"SB-104233", "dana.levi@example.com"},
	{"SB-104251", "michael.cohen@example.com"},
	{"SB-104245", "yossi.mizrahi@example.com"},
	{"SB-104188", "sarah.johnson@example.com"},
}

func newLoadUser(i, generated int, errs *errorLog) *loadUser {
	u := &loadUser{chat: 5_000_000 + int64(i), lang: "en", errs: errs, inbox: make(chan botMessage, 256)}
	if i%2 == 0 {
		u.lang = "he"
	}
	if i <= generated {
		u.order, u.email = fmt.Sprintf("SB-8%05d", i), fmt.Sprintf("user%d@demo.example", i)
	} else {
		o := seededOrders[i%len(seededOrders)]
		u.order, u.email = o[0], o[1]
	}
	return u
}

// run holds conversations until deadline.
func (u *loadUser) run(ctx context.Context, p *webhookPoster, deadline time.Time, timeout time.Duration) {
	for ctx.Err() == nil && time.Now().Before(deadline) {
		if err := u.conversation(ctx, p, deadline, timeout); err != nil {
			if !errors.Is(err, errDeadline) && ctx.Err() == nil {
				u.errs.add("chat %d: %v", u.chat, err)
			}
			continue
		}
		u.conversations++
	}
}

// errDeadline ends a conversation cut short by the end of the run.
var errDeadline = errors.New("run over")

// conversation tracks the customer's order as a guest, step by step.
func (u *loadUser) conversation(ctx context.Context, p *webhookPoster, deadline time.Time, timeout time.Duration) error {
	has := func(data string) func(botMessage) bool {
		return func(m botMessage) bool { return m.has(data) }
	}
	steps := []struct {
		name string
		send func(prev botMessage) tgUpdate
		want func(botMessage) bool
	}{
		{"/menu", func(botMessage) tgUpdate { return u.text("/menu") }, has("menu|track")},
		{"press Track", func(prev botMessage) tgUpdate { return u.press(prev.id, "menu|track") }, has("track.start|e:guest")},
		{"press guest", func(prev botMessage) tgUpdate { return u.press(prev.id, "track.start|e:guest") }, has("cmd|cancel")},
		{"order number", func(botMessage) tgUpdate { return u.text(u.order) }, func(m botMessage) bool {
			return m.has("cmd|cancel") && strings.Contains(m.text, u.order)
		}},
		{"email", func(botMessage) tgUpdate { return u.text(u.email) }, has("track.show_shipment|e:refresh")},
	}
	var prev botMessage
	for _, st := range steps {
		if !time.Now().Before(deadline) {
			return errDeadline
		}
		upd := st.send(prev)
		upd.UpdateID = p.ids.Add(1)
		m, err := u.step(ctx, p, upd, st.want, timeout)
		if err != nil {
			return fmt.Errorf("step %s: %w", st.name, err)
		}
		prev = m
	}
	return nil
}

// step posts upd and waits for the bot's message that want accepts.
func (u *loadUser) step(ctx context.Context, p *webhookPoster, upd tgUpdate, want func(botMessage) bool, timeout time.Duration) (botMessage, error) {
	body, err := json.Marshal(upd)
	if err != nil {
		return botMessage{}, err
	}
	// Drop what an earlier step left over.
	for len(u.inbox) > 0 {
		<-u.inbox
	}
	t0 := time.Now()
	code, err := p.post(ctx, body)
	if err != nil {
		return botMessage{}, err
	}
	if code != http.StatusOK {
		return botMessage{}, fmt.Errorf("webhook answered %d", code)
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	var seen []string
	for {
		select {
		case m := <-u.inbox:
			if want(m) {
				u.latencies = append(u.latencies, time.Since(t0))
				return m, nil
			}
			seen = append(seen, fmt.Sprintf("%q %v", m.text, m.buttons))
		case <-t.C:
			return botMessage{}, fmt.Errorf("no expected reply within %s; got %s", timeout, strings.Join(seen, "; "))
		case <-ctx.Done():
			return botMessage{}, ctx.Err()
		}
	}
}

func (u *loadUser) from() tgUser {
	return tgUser{ID: u.chat, FirstName: "Load", LanguageCode: u.lang}
}

// text is a text message from the customer.
func (u *loadUser) text(s string) tgUpdate {
	from := u.from()
	return tgUpdate{Message: &tgMessage{
		MessageID: int(u.msgIDs.Add(1)), From: &from, Date: time.Now().Unix(), Text: s,
		Chat: tgChat{ID: u.chat, Type: "private", FirstName: from.FirstName},
	}}
}

// press is a button press on the bot's message msgID.
func (u *loadUser) press(msgID int, data string) tgUpdate {
	return tgUpdate{CallbackQuery: &tgCallback{
		ID: "q" + strconv.FormatInt(u.chat, 10) + "-" + strconv.Itoa(msgID), From: u.from(), ChatInstance: "1", Data: data,
		Message: tgMessage{MessageID: msgID, Date: time.Now().Unix(), Chat: tgChat{ID: u.chat, Type: "private"},
			From: &tgUser{ID: 424242, IsBot: true, FirstName: "Support"}},
	}}
}

// fakeBotAPI is a minimal in-process Bot API: it answers the methods the
// channel calls in the real JSON format and hands each chat's messages to
// its customer. Unlike telegramtest it keeps nothing, so it runs for as long
// as a load run lasts.
type fakeBotAPI struct {
	token string
	// users is read-only once serving.
	users map[int64]*loadUser
	errs  *errorLog
}

func (f *fakeBotAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	method, ok := strings.CutPrefix(r.URL.Path, "/bot"+f.token+"/")
	if !ok {
		f.errs.add("fake Bot API: request to %s", r.URL.Path)
		apiFail(w, http.StatusUnauthorized, "Unauthorized")
		return
	}
	switch method {
	case "getMe":
		apiOK(w, `{"id":424242,"is_bot":true,"first_name":"Support","username":"supportbot_load_bot"}`)
	case "setMyCommands", "setWebhook", "deleteWebhook", "sendChatAction", "answerCallbackQuery", "deleteMessage":
		io.Copy(io.Discard, r.Body)
		apiOK(w, "true")
	case "sendMessage", "editMessageText", "editMessageReplyMarkup":
		f.message(w, r, method)
	default:
		f.errs.add("fake Bot API: unexpected method %s", method)
		apiFail(w, http.StatusNotFound, "Not Found")
	}
}

// message handles a send or an edit and passes it to the chat's customer.
func (f *fakeBotAPI) message(w http.ResponseWriter, r *http.Request, method string) {
	if err := r.ParseMultipartForm(1 << 20); err != nil && !errors.Is(err, http.ErrNotMultipart) {
		f.errs.add("fake Bot API: %s: %v", method, err)
		apiFail(w, http.StatusBadRequest, "Bad Request: can't parse the request")
		return
	}
	chat, err := strconv.ParseInt(r.FormValue("chat_id"), 10, 64)
	if err != nil || chat == 0 {
		f.errs.add("fake Bot API: %s without chat_id", method)
		apiFail(w, http.StatusBadRequest, "Bad Request: chat not found")
		return
	}
	text := r.FormValue("text")
	if method != "editMessageReplyMarkup" && strings.TrimSpace(text) == "" {
		f.errs.add("fake Bot API: %s with empty text", method)
		apiFail(w, http.StatusBadRequest, "Bad Request: message text is empty")
		return
	}
	m := botMessage{text: text}
	if mk := r.FormValue("reply_markup"); mk != "" {
		var kb struct {
			InlineKeyboard [][]struct {
				CallbackData string `json:"callback_data"`
			} `json:"inline_keyboard"`
		}
		if err := json.Unmarshal([]byte(mk), &kb); err != nil {
			f.errs.add("fake Bot API: %s: reply_markup: %v", method, err)
			apiFail(w, http.StatusBadRequest, "Bad Request: can't parse reply keyboard markup JSON object")
			return
		}
		for _, row := range kb.InlineKeyboard {
			for _, b := range row {
				if len(b.CallbackData) > 64 {
					f.errs.add("fake Bot API: callback data of %d bytes", len(b.CallbackData))
				}
				m.buttons = append(m.buttons, b.CallbackData)
			}
		}
	}
	u := f.users[chat]
	if method == "sendMessage" {
		if u != nil {
			m.id = int(u.msgIDs.Add(1))
		} else {
			m.id = 1
		}
	} else {
		m.id, _ = strconv.Atoi(r.FormValue("message_id"))
	}
	if u != nil {
		select {
		case u.inbox <- m:
		default:
			f.errs.add("chat %d: inbox full, message dropped", chat)
		}
	}
	var b []byte
	b = append(b, `{"message_id":`...)
	b = strconv.AppendInt(b, int64(m.id), 10)
	b = append(b, `,"date":`...)
	b = strconv.AppendInt(b, time.Now().Unix(), 10)
	b = append(b, `,"chat":{"id":`...)
	b = strconv.AppendInt(b, chat, 10)
	b = append(b, `,"type":"private"}}`...)
	apiOK(w, string(b))
}

func apiOK(w http.ResponseWriter, result string) {
	w.Header().Set("Content-Type", "application/json")
	io.WriteString(w, `{"ok":true,"result":`+result+`}`)
}

func apiFail(w http.ResponseWriter, code int, desc string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(map[string]any{"ok": false, "error_code": code, "description": desc})
}
