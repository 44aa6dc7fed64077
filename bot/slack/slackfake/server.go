package slackfake

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// Identifiers of the fake workspace and of the app installed in it.
const (
	TeamID            = "T1"
	TeamDomain        = "fake-workspace"
	AppID             = "A1"
	BotUserID         = "UBOT1"
	BotID             = "BBOT1"
	VerificationToken = "fake-verification-token"
)

// waitTimeout bounds every wait in this package (connections, acks, WaitFor).
const waitTimeout = 10 * time.Second

// Call is one request to a Web API method, as it arrived.
type Call struct {
	At     time.Time
	Method string
	// Form holds the arguments of a form-encoded (or GET) call; JSON those of
	// an application/json call. Exactly one is non-nil.
	Form url.Values
	JSON map[string]any
	// Status is the HTTP status the fake answered; Error is the "error"
	// field of its body, "" when it answered ok.
	Status int
	Error  string
}

// Arg returns the argument key as a string, whichever encoding the call
// used; a non-string JSON value comes back as its JSON text.
func (c Call) Arg(key string) string {
	a := args{form: c.Form, json: c.JSON}
	return a.str(key)
}

// Message is a message posted with chat.postMessage, as now stored.
type Message struct {
	TS       string
	ThreadTS string // "" for a top-level message
	Channel  string
	Text     string
	Blocks   json.RawMessage
	Metadata json.RawMessage
	Updated  int // how many times chat.update changed it
}

// Ephemeral is a message posted with chat.postEphemeral.
type Ephemeral struct {
	TS       string // the message_ts the fake answered
	Channel  string
	User     string
	ThreadTS string
	Text     string
	Blocks   json.RawMessage
}

// View is a modal opened with views.open; views.update replaces View.
type View struct {
	TriggerID string
	ID        string
	View      json.RawMessage // the view object as the client sent it
	Updated   int
	hash      string
}

// Response is a POST the app made to a response_url handed out by a payload
// builder ([Server.BlockAction], [Server.SlashCommand]).
type Response struct {
	At   time.Time
	URL  string
	Body json.RawMessage
}

// user is a workspace member returned by users.info.
type user struct {
	id, name, realName, firstName string
}

type fault struct {
	n          int
	status     int
	retryAfter int
	code       string // the error code answered ("" means fatal_error)
}

// Server is a fake Slack. Create it with [New]; all methods are safe for
// concurrent use.
type Server struct {
	srv    *httptest.Server
	client *http.Client

	mu          sync.Mutex
	seq         int64 // ts / id counter
	calls       []Call
	messages    []*Message
	ephemerals  []Ephemeral
	views       []*View
	responses   []Response
	users       map[string]user
	rateLimits  map[string]*fault
	fails       map[string]*fault
	afterApply  map[string]*fault
	tickets     map[string]bool
	conns       []*wsConn
	changed     chan struct{} // closed and replaced when conns change
	envelopes   map[string]envelope
	acks        map[string]json.RawMessage
	closing     chan struct{}
	wg          sync.WaitGroup
	ticketCount int
}

// New starts a fake Slack and registers its shutdown with t.Cleanup.
func New(t testing.TB) *Server {
	t.Helper()
	s := &Server{
		client:     &http.Client{Timeout: waitTimeout},
		users:      map[string]user{},
		rateLimits: map[string]*fault{},
		fails:      map[string]*fault{},
		afterApply: map[string]*fault{},
		tickets:    map[string]bool{},
		changed:    make(chan struct{}),
		envelopes:  map[string]envelope{},
		acks:       map[string]json.RawMessage{},
		closing:    make(chan struct{}),
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/api/{method}", s.serveAPI)
	mux.HandleFunc("/ws", s.serveWS)
	mux.HandleFunc("/actions/", s.serveResponseURL)
	mux.HandleFunc("/commands/", s.serveResponseURL)
	s.srv = httptest.NewServer(mux)
	t.Cleanup(s.close)
	return s
}

func (s *Server) close() {
	close(s.closing)
	s.mu.Lock()
	conns := s.conns
	s.conns = nil
	s.mu.Unlock()
	for _, c := range conns {
		c.ws.Close()
	}
	s.srv.Close()
	s.wg.Wait()
}

// URL returns the server's base URL, e.g. http://127.0.0.1:1234.
func (s *Server) URL() string { return s.srv.URL }

// APIURL returns the Web API base URL, ending in "/", for slack.OptionAPIURL.
func (s *Server) APIURL() string { return s.srv.URL + "/api/" }

// AddUser makes a user known to users.info.
func (s *Server) AddUser(id, name, realName, firstName string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.users[id] = user{id: id, name: name, realName: realName, firstName: firstName}
}

// RateLimit makes the next n calls of method answer HTTP 429 with
// Retry-After: retryAfter (seconds) and {"ok":false,"error":"ratelimited"},
// without applying them.
func (s *Server) RateLimit(method string, n, retryAfter int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rateLimits[method] = &fault{n: n, status: http.StatusTooManyRequests, retryAfter: retryAfter}
}

// Fail makes the next n calls of method answer the HTTP status (a 5xx)
// without applying them.
func (s *Server) Fail(method string, n, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fails[method] = &fault{n: n, status: status}
}

// FailWith makes the next n calls of method answer the HTTP status with
// {"ok":false,"error":code}, without applying them: status 200 with
// "unknown_method", "missing_scope" or "not_allowed_token_type" mimics a
// Slack (or a partial fake) that lacks the method; 404 a server without it.
func (s *Server) FailWith(method string, n, status int, code string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fails[method] = &fault{n: n, status: status, code: code}
}

// Unimplement makes method answer {"ok":false,"error":"unknown_method"}
// from now on (until a later [Server.Fail] or [Server.FailWith] for it).
func (s *Server) Unimplement(method string) {
	s.FailWith(method, 1<<30, http.StatusOK, "unknown_method")
}

// FailAfterApply makes the next n calls of method take effect (a message is
// posted, a view opened) and then answer the HTTP status (a 5xx), as when
// Slack's answer is lost: a client that retries will double-post.
func (s *Server) FailAfterApply(method string, n, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.afterApply[method] = &fault{n: n, status: status}
}

// take consumes one use of the fault for method in m; s.mu must be held.
func take(m map[string]*fault, method string) (fault, bool) {
	f := m[method]
	if f == nil || f.n <= 0 {
		return fault{}, false
	}
	f.n--
	return *f, true
}

// Calls returns the calls made to method (all methods if ""), in arrival order.
func (s *Server) Calls(method string) []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Call
	for _, c := range s.calls {
		if method == "" || c.Method == method {
			out = append(out, c)
		}
	}
	return out
}

// Messages returns the messages posted to channel, thread replies included,
// in post order. Messages the fake only delivered to the app (for example
// [Server.ThreadMessage]) are not stored.
func (s *Server) Messages(channel string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Message
	for _, m := range s.messages {
		if m.Channel == channel {
			out = append(out, copyMessage(m))
		}
	}
	return out
}

// Thread returns the replies posted in channel whose thread_ts is ts, in post
// order; the parent itself is not included.
func (s *Server) Thread(channel, ts string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Message
	for _, m := range s.messages {
		if m.Channel == channel && m.ThreadTS == ts && m.TS != ts {
			out = append(out, copyMessage(m))
		}
	}
	return out
}

func copyMessage(m *Message) Message {
	c := *m
	c.Blocks = append(json.RawMessage(nil), m.Blocks...)
	c.Metadata = append(json.RawMessage(nil), m.Metadata...)
	return c
}

// Ephemerals returns the ephemeral messages posted, in post order.
func (s *Server) Ephemerals() []Ephemeral {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Ephemeral(nil), s.ephemerals...)
}

// Views returns the views opened, in order, as last updated.
func (s *Server) Views() []View {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]View, 0, len(s.views))
	for _, v := range s.views {
		out = append(out, *v)
	}
	return out
}

// Responses returns what the app posted to response_url addresses.
func (s *Server) Responses() []Response {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Response(nil), s.responses...)
}

// WaitFor polls cond until it is true, failing the test after 10 s. Call it
// from the test goroutine.
func (s *Server) WaitFor(t testing.TB, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("slackfake: condition not met within %s", waitTimeout)
		}
		<-tick.C
	}
}

// nextTS returns a new message timestamp; s.mu must be held. The values are
// strictly increasing in steps of 100 µs and never whole seconds.
func (s *Server) nextTS() string {
	for {
		s.seq++
		us := s.seq * 100
		if us%1_000_000 != 0 {
			return fmt.Sprintf("%d.%06d", 1_700_000_000+us/1_000_000, us%1_000_000)
		}
	}
}

// nextID returns prefix followed by a new serial number; s.mu must be held.
func (s *Server) nextID(prefix string) string {
	s.seq++
	return fmt.Sprintf("%s%08d", prefix, s.seq)
}

func (s *Server) newTS() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.nextTS()
}

func (s *Server) newID(prefix string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.nextID(prefix)
}

// randomHex returns n random bytes as hex, for opaque tokens and UUIDs.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func newUUID() string {
	h := randomHex(16)
	return strings.Join([]string{h[0:8], h[8:12], h[12:16], h[16:20], h[20:32]}, "-")
}

// writeJSON answers v as JSON with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// serveResponseURL records a POST to a response_url and answers as Slack
// does, with a JSON content type (slack-go needs one to parse it).
func (s *Server) serveResponseURL(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	var body json.RawMessage
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"ok": false, "error": "invalid_payload"})
		return
	}
	s.mu.Lock()
	s.responses = append(s.responses, Response{At: time.Now(), URL: s.srv.URL + r.URL.Path, Body: body})
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"ok": true})
}
