package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"os"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// config configures one load run.
type config struct {
	Users    int
	Duration time.Duration
	// DemoCustomers is how many generated demo customers the portal has;
	// customer i (1-based) tracks its own order SB-8<i:05d> when i ≤
	// DemoCustomers, else one of the seeded guest orders. Negative: one
	// per user.
	DemoCustomers int
	// DataDir holds the database; empty uses a new temporary directory,
	// removed afterwards.
	DataDir string
	// Workers is the Telegram channel's Workers option (0 = its default).
	Workers int
	// StepTimeout is how long a customer waits for a reply.
	StepTimeout time.Duration
	// CPUProfile, if set, is where the CPU profile of the measured run goes.
	CPUProfile string

	// Rush makes customers think about Think between steps; the Impatient
	// share of them send a step again after Patience without a reply.
	Rush      bool
	Think     time.Duration
	Impatient float64
	Patience  time.Duration

	// TelegramLimits keeps Telegram's rate limits: the fake Bot API answers
	// 429 beyond 30 messages a second in all or 1 a second per chat (burst
	// 3), and the bot runs with its default limits.
	TelegramLimits bool

	// Hung adds that many customers whose guest lookups hang at the demo
	// portal until the run ends; the Users customers then send /help.
	Hung int
}

func (c config) validate() error {
	var errs []error
	if c.Users < 1 {
		errs = append(errs, errors.New("--users must be at least 1"))
	}
	if c.Duration <= 0 {
		errs = append(errs, errors.New("--duration must be positive"))
	}
	if c.Hung < 0 {
		errs = append(errs, errors.New("--hung must not be negative"))
	}
	if c.StepTimeout <= 0 {
		errs = append(errs, errors.New("--step-timeout must be positive"))
	}
	if c.Rush {
		if c.Think <= 0 {
			errs = append(errs, errors.New("--think must be positive"))
		}
		if c.Impatient < 0 || c.Impatient > 1 {
			errs = append(errs, errors.New("--impatient must be between 0 and 1"))
		}
		if c.Impatient > 0 && c.Patience <= 0 {
			errs = append(errs, errors.New("--patience must be positive"))
		}
	}
	return errors.Join(errs...)
}

// result is what a load run measured.
type result struct {
	Config  config
	Elapsed time.Duration
	// Conversations counts those completed; Abandoned those a --rush
	// customer gave up waiting in.
	Conversations, Abandoned int64
	// Updates counts the updates customers posted, Retries among them
	// (--rush); Steps the steps answered.
	Updates, Retries, Steps int64
	// Latency is post → expected reply at the Bot API, from a step's first
	// post. The parts are of the steps answered at their first post.
	Latency, Transit, Queue, Handling, Delivery dist
	// Calls counts the Bot API calls of the run by method.
	Calls map[string]int64
	// CPU is the process's user+system CPU time during the run; PartCPU
	// the sampled CPU time by part (nil if profiling was unavailable).
	CPU     time.Duration
	PartCPU map[string]time.Duration
	// MaxRSS is the process's peak resident set size, in bytes.
	MaxRSS int64
	// Errors counts failed steps, wrong answers of the fake Bot API's
	// callers and log records at warning level or above.
	Errors  int64
	Samples []string // the first few errors
}

// dist summarises a latency distribution.
type dist struct {
	N             int
	P50, P99, Max time.Duration
}

func distOf(d []time.Duration) dist {
	slices.Sort(d)
	n := len(d)
	if n == 0 {
		return dist{}
	}
	return dist{N: n, P50: d[n*50/100], P99: d[min(n-1, n*99/100)], Max: d[n-1]}
}

func (d dist) String() string {
	return fmt.Sprintf("p50 %s, p99 %s, max %s", ms(d.P50), ms(d.P99), ms(d.Max))
}

func (r result) perSecond(n int64) float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(n) / r.Elapsed.Seconds()
}

// perUpdate divides n by the updates posted.
func (r result) perUpdate(n int64) float64 {
	if r.Updates == 0 {
		return 0
	}
	return float64(n) / float64(r.Updates)
}

// cpuPerUpdate divides d by the updates posted.
func (r result) cpuPerUpdate(d time.Duration) time.Duration {
	if r.Updates == 0 {
		return 0
	}
	return d / time.Duration(r.Updates)
}

// messageMethods are the Bot API calls that put a message in front of the
// customer.
var messageMethods = []string{"sendMessage", "editMessageText", "editMessageReplyMarkup"}

func (r result) print(w io.Writer) {
	c := r.Config
	if c.Rush {
		fmt.Fprintf(w, "mode                   rush: %d customers thinking %s (±50%%) between steps, %.0f%% impatient (send again after %s, at most %d times)\n",
			c.Users, c.Think, c.Impatient*100, c.Patience, maxRetries)
	} else {
		fmt.Fprintf(w, "mode                   closed loop: %d customers, each takes its next step as soon as the reply comes\n", c.Users)
	}
	if c.Hung > 0 {
		fmt.Fprintf(w, "hung                   %d more customers' guest lookups hang at the portal all run; the %d customers send /help (a step)\n", c.Hung, c.Users)
	}
	fmt.Fprintf(w, "elapsed                %s\n", r.Elapsed.Round(time.Millisecond))
	fmt.Fprintf(w, "conversations          %d (%.0f/s)", r.Conversations, r.perSecond(r.Conversations))
	if c.Rush {
		fmt.Fprintf(w, "; %d abandoned (no reply within --step-timeout %s)", r.Abandoned, c.StepTimeout)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "steps                  %d answered (%.0f/s); %d updates posted (%.0f/s), %d of them retries\n",
		r.Steps, r.perSecond(r.Steps), r.Updates, r.perSecond(r.Updates), r.Retries)

	var msgs int64
	var parts, other []string
	for _, m := range messageMethods {
		msgs += r.Calls[m]
		if r.Calls[m] > 0 {
			parts = append(parts, fmt.Sprintf("%s %.2f", m, r.perUpdate(r.Calls[m])))
		}
	}
	for _, m := range slices.Sorted(maps.Keys(r.Calls)) {
		if !slices.Contains(messageMethods, m) && r.Calls[m] > 0 {
			other = append(other, fmt.Sprintf("%s %.2f", m, r.perUpdate(r.Calls[m])))
		}
	}
	fmt.Fprintf(w, "bot messages per step  %.2f (%s) per update posted\n", r.perUpdate(msgs), strings.Join(parts, ", "))
	if len(other) > 0 {
		fmt.Fprintf(w, "other Bot API calls    %s per update posted\n", strings.Join(other, ", "))
	}

	fmt.Fprintf(w, "step latency           %s (post → expected reply at the Bot API)\n", r.Latency)
	fmt.Fprintf(w, "  post → webhook       %s\n", r.Transit)
	fmt.Fprintf(w, "  queue                %s (webhook has the request → Handle starts)\n", r.Queue)
	fmt.Fprintf(w, "  handling             %s (Handle: engine, portal calls, durable commit)\n", r.Handling)
	fmt.Fprintf(w, "  delivery             %s (committed → reply at the Bot API)\n", r.Delivery)
	if r.Latency.N > r.Handling.N {
		fmt.Fprintf(w, "                       (parts of the %d steps answered at their first post; a step sent again has no parts)\n", r.Handling.N)
	}

	if r.PartCPU != nil {
		var sampled time.Duration
		for _, d := range r.PartCPU {
			sampled += d
		}
		fmt.Fprintf(w, "bot CPU per step       %s per update posted (pprof samples labelled part=bot)\n", ms(r.cpuPerUpdate(r.PartCPU[partBot])))
		var rest []string
		for _, p := range []string{partPortal, partBotAPI, partLoad, partUnlabeled} {
			rest = append(rest, fmt.Sprintf("%s %s", p, ms(r.cpuPerUpdate(r.PartCPU[p]))))
		}
		fmt.Fprintf(w, "  not the bot          %s (runtime: GC and scheduler, shared by all)\n", strings.Join(rest, ", "))
		fmt.Fprintf(w, "  sampled in all       %s CPU\n", sampled.Round(time.Millisecond))
	} else {
		fmt.Fprintf(w, "bot CPU per step       not measured (CPU profiling was already on)\n")
	}
	fmt.Fprintf(w, "process CPU per step   %s per update posted (everything in the process; %s CPU in all)\n", ms(r.cpuPerUpdate(r.CPU)), r.CPU.Round(time.Millisecond))
	fmt.Fprintf(w, "peak RSS               %.1f MB (whole process)\n", float64(r.MaxRSS)/(1<<20))
	fmt.Fprintf(w, "errors                 %d\n", r.Errors)
	for _, s := range r.Samples {
		fmt.Fprintf(w, "  %s\n", s)
	}
}

func ms(d time.Duration) string { return fmt.Sprintf("%.3f ms", float64(d)/float64(time.Millisecond)) }

// loadToken is the bot token of a load run; the fake Bot API accepts no other.
const loadToken = "424242:LOAD-token"

// load runs the bot under load as cfg says and returns what it measured.
func load(ctx context.Context, cfg config, stderr io.Writer) (result, error) {
	if err := cfg.validate(); err != nil {
		return result{}, err
	}
	if cfg.DemoCustomers < 0 {
		cfg.DemoCustomers = min(cfg.Users+cfg.Hung, 99999)
	}
	errs := &errorLog{}
	tl := newTimeline()

	// The customers first: the fake Bot API routes replies to them.
	api := newFakeBotAPI(loadToken, errs)
	if cfg.TelegramLimits {
		api.limits = newAPILimits()
	}
	users := make([]*customer, cfg.Users)
	for i := range users {
		u := newCustomer(i+1, cfg.DemoCustomers, errs, tl)
		if cfg.Rush {
			var patience time.Duration
			if float64(i%100) < cfg.Impatient*100 {
				patience = cfg.Patience
			}
			u.rush(cfg.Think, patience)
		}
		users[i] = u
		api.users[u.chat] = u
	}
	hold := newPortalHold()
	defer hold.releaseAll()
	hung := make([]*customer, cfg.Hung)
	for i := range hung {
		u := newCustomer(cfg.Users+i+1, cfg.DemoCustomers, errs, tl)
		hung[i] = u
		api.users[u.chat] = u
		hold.emails[u.email] = true
	}
	// CPU profile labels (go tool pprof -tags) tell the parts apart; the
	// goroutines a labelled one starts inherit its label.
	var (
		apiURL  string
		stopAPI func()
		err     error
	)
	pprof.Do(ctx, pprof.Labels("part", partBotAPI), func(context.Context) {
		apiURL, stopAPI, err = serve(api)
	})
	if err != nil {
		return result{}, fmt.Errorf("fake Bot API: %w", err)
	}
	defer stopAPI()

	dir := cfg.DataDir
	if dir == "" {
		dir, err = os.MkdirTemp("", "supportbot-load-*")
		if err != nil {
			return result{}, err
		}
		defer os.RemoveAll(dir)
	} else if err := os.MkdirAll(dir, 0o700); err != nil {
		return result{}, err
	}
	secret := make([]byte, 16)
	rand.Read(secret)
	logger := slog.New(&countingHandler{Handler: slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}), errs: errs})

	var portalWrap func(http.Handler) http.Handler
	if cfg.Hung > 0 {
		portalWrap = hold.wrap
	}
	var b *loadBot
	pprof.Do(ctx, pprof.Labels("part", partBot), func(ctx context.Context) {
		b, err = openBot(ctx, botOptions{
			DataDir: dir, DemoCustomers: cfg.DemoCustomers, Workers: cfg.Workers,
			APIURL: apiURL, Token: loadToken, Secret: hex.EncodeToString(secret),
			Logger: logger, Timeline: tl, Limits: cfg.TelegramLimits,
			PortalWrap: portalWrap,
		})
	})
	if err != nil {
		return result{}, err
	}
	defer b.close()
	var hookURL string
	var stopHook func()
	pprof.Do(ctx, pprof.Labels("part", partBot), func(context.Context) {
		hookURL, stopHook, err = serve(tl.webhook(b.channel.Handler()))
	})
	if err != nil {
		return result{}, fmt.Errorf("webhook: %w", err)
	}
	defer stopHook()
	runCtx, cancelRun := context.WithCancel(ctx)
	defer cancelRun()
	runDone := make(chan error, 1)
	go pprof.Do(ctx, pprof.Labels("part", partBot), func(context.Context) { runDone <- b.channel.Run(runCtx) })
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
	poster := &webhookPoster{client: client, url: hookURL, secret: hex.EncodeToString(secret)}
	if err := poster.ready(ctx, runDone); err != nil {
		stopBot()
		return result{}, err
	}

	// The hung customers first: the run starts once all their lookups hang.
	var hungWG sync.WaitGroup
	for _, u := range hung {
		hungWG.Go(func() {
			if err := u.hang(ctx, poster, cfg.StepTimeout); err != nil && ctx.Err() == nil {
				errs.add("hung chat %d: %v", u.chat, err)
			}
		})
	}
	if !hold.waitHeld(ctx, int64(len(hung)), cfg.StepTimeout+5*time.Second) {
		hold.releaseAll()
		hungWG.Wait()
		stopBot()
		return result{}, fmt.Errorf("only %d of %d hung customers' lookups reached the portal", hold.held.Load(), len(hung))
	}

	prof, err := startProfile(cfg.CPUProfile)
	if err != nil {
		hold.releaseAll()
		hungWG.Wait()
		stopBot()
		return result{}, err
	}
	calls0 := api.counts()
	cpu0 := processCPU()
	start := time.Now()
	deadline := start.Add(cfg.Duration)
	var wg sync.WaitGroup
	for _, u := range users {
		wg.Go(func() {
			pprof.Do(ctx, pprof.Labels("part", partLoad), func(ctx context.Context) {
				if cfg.Hung > 0 {
					u.help(ctx, poster, deadline, cfg.StepTimeout)
				} else {
					u.run(ctx, poster, deadline, cfg.StepTimeout)
				}
			})
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	held := hold.held.Load()
	hold.releaseAll()
	hungWG.Wait()
	if held < int64(len(hung)) {
		errs.add("%d hung lookups, want at least %d", held, len(hung))
	}
	cpu := processCPU() - cpu0
	calls := api.counts()
	partCPU, err := prof.stop()
	if err != nil {
		errs.add("cpu profile: %v", err)
	}
	if err := stopBot(); err != nil {
		errs.add("run: %v", err)
	}

	res := result{Config: cfg, Elapsed: elapsed, CPU: cpu, PartCPU: partCPU, MaxRSS: peakRSS(), Calls: map[string]int64{}}
	for m, n := range calls {
		res.Calls[m] = n - calls0[m]
	}
	var lat, transit, queue, handling, delivery []time.Duration
	for _, u := range users {
		res.Conversations += u.conversations
		res.Abandoned += u.abandoned
		res.Updates += u.updates
		res.Retries += u.retries
		res.Steps += int64(len(u.latencies))
		lat = append(lat, u.latencies...)
		for _, s := range u.splits {
			transit = append(transit, s.transit)
			queue = append(queue, s.queue)
			handling = append(handling, s.handling)
			delivery = append(delivery, s.delivery)
		}
	}
	res.Latency, res.Transit, res.Queue, res.Handling, res.Delivery = distOf(lat), distOf(transit), distOf(queue), distOf(handling), distOf(delivery)
	res.Errors, res.Samples = errs.snapshot()
	return res, nil
}

// profile is a CPU profile being taken.
type profile struct {
	buf  *bytes.Buffer // nil: profiling was unavailable
	file *os.File
}

// startProfile starts the CPU profile that tells the bot's CPU time from
// the rest, also written to path if set. When another profile is already
// running (go test -cpuprofile), it measures nothing, unless path asked
// for one.
func startProfile(path string) (*profile, error) {
	p := &profile{buf: new(bytes.Buffer)}
	var w io.Writer = p.buf
	if path != "" {
		f, err := os.Create(path)
		if err != nil {
			return nil, err
		}
		p.file = f
		w = io.MultiWriter(p.buf, f)
	}
	if err := pprof.StartCPUProfile(w); err != nil {
		if p.file != nil {
			p.file.Close()
			return nil, err
		}
		p.buf = nil
	}
	return p, nil
}

// stop ends the profile and returns the CPU time by part, nil if
// unavailable.
func (p *profile) stop() (map[string]time.Duration, error) {
	if p.buf == nil {
		return nil, nil
	}
	pprof.StopCPUProfile()
	if p.file != nil {
		if err := p.file.Close(); err != nil {
			return nil, err
		}
	}
	return cpuByPart(p.buf.Bytes())
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
