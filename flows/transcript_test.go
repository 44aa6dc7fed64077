package flows_test

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/tools/txtar"

	"supportbot/bot"
	"supportbot/bot/console"
	"supportbot/flows"
	"supportbot/locales"
	"supportbot/portal"
	"supportbot/portal/demo"
	"supportbot/store"
)

var update = flag.Bool("update", false, "rewrite the golden transcripts")

// start is the fake clock's first reading in every transcript.
var start = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

// fault makes the demo portal misbehave on command.
type fault struct {
	mu    sync.Mutex
	mode  string // "", "down" (503), "slow" (never answers in time)
	next  http.Handler
	calls map[string]int      // "GET /v1/…" → requests seen
	keys  map[string][]string // "PUT /v1/…" → the Idempotency-Key of each request
}

func (f *fault) set(mode string) {
	f.mu.Lock()
	f.mode = mode
	f.mu.Unlock()
}

func (f *fault) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	mode := f.mode
	if f.calls == nil {
		f.calls = map[string]int{}
	}
	f.calls[r.Method+" "+r.URL.Path]++
	if k := r.Header.Get(portal.IdempotencyHeader); k != "" {
		if f.keys == nil {
			f.keys = map[string][]string{}
		}
		f.keys[r.Method+" "+r.URL.Path] = append(f.keys[r.Method+" "+r.URL.Path], k)
	}
	f.mu.Unlock()
	switch mode {
	case "down":
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusInternalServerError)
		io.WriteString(w, `{"error":{"code":"unavailable","message":"maintenance"}}`)
	case "lost":
		// The portal does the work, but its answer never arrives.
		f.next.ServeHTTP(httptest.NewRecorder(), r)
		<-r.Context().Done()
	case "slow":
		// Read the body first: only then does the server notice the
		// client giving up and cancel the request's context.
		io.Copy(io.Discard, r.Body)
		<-r.Context().Done()
	default:
		f.next.ServeHTTP(w, r)
	}
}

// env is one transcript's world: the real engine, flows and bundle, a temp
// bbolt file, the demo portal over HTTP and a fake clock.
type env struct {
	t      *testing.T
	now    time.Time
	fault  *fault
	url    string // the demo portal's base URL
	demo   *demo.Server
	engine *bot.Engine
	db     *store.DB
	out    bytes.Buffer
	chat   *console.Channel
	// start builds another engine on the same store and portal, as a
	// restarted process would.
	start func() *bot.Engine
	// signals counts the staff events sent, for their update ids.
	signals int64
}

// newEnv starts a chat in lang. Staff answer tickets on chat (the Slack
// side configured) unless the script says "> @nostaff".
func newEnv(t *testing.T, lang string, script ...string) *env {
	t.Helper()
	e := &env{t: t, now: start}
	e.demo = demo.New(demo.Options{Now: e.clock})
	e.fault = &fault{next: e.demo}
	srv := httptest.NewServer(e.fault)
	t.Cleanup(srv.Close)
	e.url = srv.URL

	db, err := store.Open(filepath.Join(t.TempDir(), "bot.db"), store.Options{Key: bytes.Repeat([]byte{7}, 32), Now: e.clock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	e.db = db
	bundle, err := locales.Load()
	if err != nil {
		t.Fatal(err)
	}
	client := portal.NewClient(srv.URL, portal.WithTimeout(300*time.Millisecond), portal.WithRetries(1), portal.WithBackoff(time.Millisecond))
	opts := []flows.Option{flows.WithStaffChat()}
	if len(script) > 0 && strings.Contains(script[0], "> @nostaff\n") {
		opts = nil
	}
	e.start = func() *bot.Engine {
		eng, err := bot.New(bot.Config{
			Store: db, Bundle: bundle, Flows: flows.All(client, nil, opts...), DefaultLang: "en",
			Signals: flows.Signals, Human: flows.Human,
			IdleTimeout: 30 * time.Minute, Now: e.clock,
			OnMissing: func(err error) { t.Errorf("translation: %v", err) },
		})
		if err != nil {
			t.Fatal(err)
		}
		return eng
	}
	e.engine = e.start()
	e.chat = console.New(e.engine, nil, &e.out, console.Options{Key: "console:t", Lang: lang, ShowData: true, ShowOthers: true})
	return e
}

func (e *env) clock() time.Time { return e.now }

// signal hands the engine an event from the staff side, the way the Slack
// adapter does, and prints what the customer gets. Values are key=value;
// the last one runs to the end of the line.
func (e *env) signal(ctx context.Context, line, spec string) {
	event, rest, _ := strings.Cut(spec, " ")
	vars := map[string]string{}
	for rest != "" {
		kv, tail, _ := strings.Cut(rest, " ")
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			e.t.Fatalf("%s: bad value %q", line, kv)
		}
		if next, _, _ := strings.Cut(tail, " "); tail != "" && !strings.Contains(next, "=") {
			v, tail = v+" "+tail, "" // the rest of the line
		}
		vars[k], rest = v, tail
	}
	// What staff did is applied to the portal first, as the Slack adapter
	// does.
	staff := portal.NewClient(e.url, portal.WithStaffKey(demo.DefaultStaffKey))
	var err error
	switch event {
	case flows.SignalReply:
		_, err = staff.StaffReply(ctx, vars["ticket"], vars["author"], vars["text"])
	case flows.SignalClaimed:
		_, err = staff.StaffAssign(ctx, vars["ticket"], vars["author"])
	case flows.SignalClosed:
		_, err = staff.StaffClose(ctx, vars["ticket"], vars["author"], vars["note"])
	}
	if err != nil {
		e.t.Fatalf("%s: portal: %v", line, err)
	}
	e.signals++
	envs, err := e.engine.Handle(ctx, bot.Inbound{Key: "console:t", UpdateID: -e.signals, Event: event, Vars: vars})
	if err != nil {
		e.t.Fatalf("%s: %v", line, err)
	}
	if err := e.chat.Deliver(ctx, envs...); err != nil {
		e.t.Fatalf("%s: %v", line, err)
	}
}

// run plays the input script and returns the transcript.
func (e *env) run(script string) string {
	ctx := context.Background()
	for _, line := range strings.Split(strings.TrimRight(script, "\n"), "\n") {
		if !strings.HasPrefix(line, "> ") {
			continue
		}
		in := strings.TrimPrefix(line, "> ")
		fmt.Fprintln(&e.out, line)
		switch {
		case strings.HasPrefix(in, "@wait "):
			d, err := time.ParseDuration(strings.TrimPrefix(in, "@wait "))
			if err != nil {
				e.t.Fatalf("%s: %v", line, err)
			}
			e.now = e.now.Add(d)
		case strings.HasPrefix(in, "@portal "):
			e.fault.set(strings.TrimPrefix(in, "@portal "))
		case in == "@portal":
			e.fault.set("")
		case in == "@nostaff": // read by newEnv
		case strings.HasPrefix(in, "@signal "):
			// News from the staff side: "@signal ticket.reply ticket=T-5001 author=Dana text=Hello there".
			e.signal(ctx, line, strings.TrimPrefix(in, "@signal "))
		case strings.HasPrefix(in, "[") && strings.HasSuffix(in, "]"):
			if err := e.chat.Press(ctx, in[1:len(in)-1]); err != nil {
				e.t.Fatalf("%s: %v", line, err)
			}
		default:
			if err := e.chat.Send(ctx, in); err != nil {
				e.t.Fatalf("%s: %v", line, err)
			}
		}
	}
	return e.out.String()
}

// TestTranscripts runs every testdata/*.txtar script once per language
// through the console channel and compares with its golden section.
func TestTranscripts(t *testing.T) {
	files, err := filepath.Glob("testdata/*.txtar")
	if err != nil || len(files) == 0 {
		t.Fatalf("no transcripts: %v", err)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txtar"), func(t *testing.T) {
			ar, err := txtar.ParseFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var script string
			for _, f := range ar.Files {
				if f.Name == "in" {
					script = string(f.Data)
				}
			}
			if script == "" {
				t.Fatal("no -- in -- section")
			}
			changed := false
			for _, lang := range []string{"en", "he"} {
				got := newEnv(t, lang, script).run(script)
				if strings.Contains(got, "<no value>") {
					t.Errorf("%s: a template field rendered <no value>", lang)
				}
				name := "want." + lang
				idx := -1
				for i, f := range ar.Files {
					if f.Name == name {
						idx = i
					}
				}
				if *update {
					if idx < 0 {
						ar.Files = append(ar.Files, txtar.File{Name: name})
						idx = len(ar.Files) - 1
					}
					if string(ar.Files[idx].Data) != got {
						ar.Files[idx].Data = []byte(got)
						changed = true
					}
					continue
				}
				if idx < 0 {
					t.Fatalf("no -- %s -- section (run with -update)", name)
				}
				if want := string(ar.Files[idx].Data); got != want {
					t.Errorf("%s transcript differs (run go test ./flows -update and read the diff):\n%s", lang, lineDiff(want, got))
				}
			}
			if changed {
				if err := os.WriteFile(file, txtar.Format(ar), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

// lineDiff shows the first differing lines.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(w) || i < len(g); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			return fmt.Sprintf("line %d\n want: %q\n  got: %q", i+1, wl, gl)
		}
	}
	return ""
}

// TestOneFetchPerUpdate: when one update runs several steps that need the
// same order or plan, the portal is asked once.
func TestOneFetchPerUpdate(t *testing.T) {
	tests := []struct {
		name   string
		script string
		call   string
	}{
		// The order's number of shipments, then its one shipment.
		{"order", "> /track\n> 2\n> SB-104233\n> dana.levi@example.com\n", "POST /v1/guest/orders/lookup"},
		// The only plan is listed, checked, then shown with its call
		// forwarding: the list's copy serves all three.
		{"plan", "> /forwarding\n> michael.cohen@example.com\n> demo-michael\n", "GET /v1/plans"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, "en")
			e.run(tt.script)
			e.fault.mu.Lock()
			defer e.fault.mu.Unlock()
			gets := 0
			for call, n := range e.fault.calls {
				if strings.HasPrefix(call, "GET ") || strings.Contains(call, "lookup") {
					gets += n
				}
			}
			if got := e.fault.calls[tt.call]; got != 1 || gets != 1 {
				t.Errorf("%s: %d requests, %d reads in all, want 1 (all: %v)", tt.call, got, gets, e.fault.calls)
			}
		})
	}
}
