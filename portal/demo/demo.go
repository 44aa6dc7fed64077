// Package demo is an embedded backend implementing the portal's HTTP
// contract (portal/openapi.yaml) with deterministic seeded data, kept in
// memory. The default run and the tests serve it on a loopback listener, so
// the bot talks to it through portal.Client over real HTTP.
//
// It imports portal and the standard library only. README.md lists the
// seeded logins, orders and plans.
package demo

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"supportbot/portal"
)

// Options configures a Server.
type Options struct {
	// ExtraCustomers adds that many generated customers (at most
	// MaxExtraCustomers) on the pattern in README.md. They are built on
	// first use, so a large number costs nothing up front.
	ExtraCustomers int
	// Now is the clock for runtime content (ticket times, payment-link
	// expiry, date checks); time.Now when nil. Seeded content never
	// depends on it.
	Now func() time.Time
	// TokenKey, when set, signs the bearer tokens the Server issues, so a
	// Server built later with the same key (e.g. after a restart) accepts
	// them too; logouts are remembered in memory only. Empty: a random key,
	// so tokens last as long as this Server. Keep it secret: anyone with
	// it can mint a token for any customer.
	TokenKey []byte
	// StaffKey is the key staff send as their bearer token to the
	// /v1/staff routes; empty means DefaultStaffKey.
	StaffKey string
}

// DefaultStaffKey is the demo's well-known staff key, used when
// Options.StaffKey is empty. Anyone can read it here: it is for the demo
// and tests only, never for production.
const DefaultStaffKey = "demo-staff-key"

// MaxExtraCustomers bounds Options.ExtraCustomers (their order numbers have
// five digits of customer index).
const MaxExtraCustomers = 99999

// maxIdempotencyKeys bounds the remembered write answers; the oldest are
// forgotten first.
const maxIdempotencyKeys = 10000

// maxKeyLen bounds an Idempotency-Key.
const maxKeyLen = 255

// Server is the demo backend, an http.Handler. It is safe for concurrent
// use: one mutex guards all state, and each request holds it while it runs.
type Server struct {
	now   func() time.Time
	extra int
	mux   *http.ServeMux

	mu          sync.Mutex
	customers   map[string]*customer // by ID
	byEmail     map[string]string    // lower-case email → customer ID
	orders      map[string]*portal.Order
	orderOwner  map[string]string // order ID → customer ID
	plans       map[string]*plan
	tickets     map[string]*ticket
	tokenKey    []byte
	staffKey    string
	revoked     map[string]struct{} // logged-out tokens
	departments []portal.Department
	resets      []string
	idem        map[idemKey]answer
	idemOrder   []idemKey
	nextTicket  int
	links       int
}

type customer struct {
	portal.Customer
	password  string
	orders    []*portal.Order // newest first
	plans     []*plan
	emails    []*portal.ExtraEmail
	addresses []*portal.Address
	tickets   []*ticket // oldest first
	nextID    int       // for email and address IDs
}

type plan struct {
	portal.Plan
	usage portal.Usage
	owner string
}

type ticket struct {
	portal.Ticket
	owner string // customer ID; empty for a guest ticket
	// guestEmail and guestName are who opened a guest ticket.
	guestEmail, guestName string
}

// answer is a response ready to write.
type answer struct {
	status int
	body   []byte
	fp     [32]byte // request fingerprint, for idempotency records
}

type idemKey struct{ token, key string }

// New returns a demo backend seeded with the data in README.md.
func New(opt Options) *Server {
	s := &Server{
		now:        opt.Now,
		extra:      min(max(opt.ExtraCustomers, 0), MaxExtraCustomers),
		customers:  map[string]*customer{},
		byEmail:    map[string]string{},
		orders:     map[string]*portal.Order{},
		orderOwner: map[string]string{},
		plans:      map[string]*plan{},
		tickets:    map[string]*ticket{},
		tokenKey:   bytes.Clone(opt.TokenKey),
		staffKey:   opt.StaffKey,
		revoked:    map[string]struct{}{},
		idem:       map[idemKey]answer{},
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.staffKey == "" {
		s.staffKey = DefaultStaffKey
	}
	if len(s.tokenKey) == 0 {
		s.tokenKey = make([]byte, 32)
		rand.Read(s.tokenKey) // never fails
	}
	s.seed()
	s.mux = s.newMux()
	return s
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// ResetRequests returns the emails password resets were requested for, in
// order, whether or not an account has them.
func (s *Server) ResetRequests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.resets...)
}

// call is one request as a handler sees it.
type call struct {
	r     *http.Request
	body  []byte
	token string
	cust  *customer // nil on public and staff routes
}

// reply is a handler's result: a status and a value to encode as JSON (nil
// for no body).
type reply struct {
	status int
	body   any
}

func ok(v any) reply      { return reply{http.StatusOK, v} }
func created(v any) reply { return reply{http.StatusCreated, v} }
func noContent() reply    { return reply{status: http.StatusNoContent} }

func fail(status int, code, msg string) reply {
	return reply{status, portal.ErrorResponse{Error: portal.ErrorBody{Code: code, Message: msg}}}
}

func notFound(msg string) reply { return fail(http.StatusNotFound, portal.CodeNotFound, msg) }
func conflict(msg string) reply { return fail(http.StatusConflict, portal.CodeConflict, msg) }

// invalid answers 422 with field reasons.
func invalid(fields map[string]string) reply {
	return reply{http.StatusUnprocessableEntity, portal.ErrorResponse{Error: portal.ErrorBody{
		Code: portal.CodeInvalid, Message: "the request has invalid fields", Fields: fields,
	}}}
}

// handler serves rt. A private route needs a live bearer token, a staff
// route the staff key as the bearer token. Writes with an Idempotency-Key are applied once per token
// and key; a retry replays the first answer.
func (s *Server) handler(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
		if err != nil {
			write(w, encode(fail(http.StatusRequestEntityTooLarge, portal.CodeInvalid, "request body too large")), false)
			return
		}
		a, replayed := s.serve(r, body, rt.auth, rt.h)
		write(w, a, replayed)
	})
}

func (s *Server) serve(r *http.Request, body []byte, auth access, h func(*call) reply) (answer, bool) {
	c := &call{r: r, body: body, token: bearer(r)}
	key := r.Header.Get(portal.IdempotencyHeader)
	idempotent := r.Method != http.MethodGet && key != ""
	ik := idemKey{c.token, key}
	fp := sha256.Sum256([]byte(r.Method + " " + r.URL.RequestURI() + "\n" + string(body)))

	if len(key) > maxKeyLen {
		return encode(invalid(map[string]string{portal.IdempotencyHeader: portal.ReasonTooLong})), false
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if idempotent {
		if prev, ok := s.idem[ik]; ok {
			if prev.fp != fp {
				return encode(conflict("idempotency key reused for a different request")), false
			}
			return prev, true
		}
	}
	var rep reply
	switch auth {
	case private:
		c.cust = s.tokenCustomer(c.token)
		if c.cust == nil {
			rep = fail(http.StatusUnauthorized, portal.CodeUnauthorized, "missing, expired or revoked token")
		}
	case staff:
		if subtle.ConstantTimeCompare([]byte(c.token), []byte(s.staffKey)) != 1 {
			rep = fail(http.StatusUnauthorized, portal.CodeUnauthorized, "missing or wrong staff key")
		}
	}
	if rep.status == 0 {
		rep = h(c)
	}
	a := encode(rep)
	if idempotent && a.status < 500 {
		a.fp = fp
		s.remember(ik, a)
	}
	return a, false
}

func (s *Server) remember(k idemKey, a answer) {
	if len(s.idemOrder) >= maxIdempotencyKeys {
		delete(s.idem, s.idemOrder[0])
		s.idemOrder = s.idemOrder[1:]
	}
	s.idem[k] = a
	s.idemOrder = append(s.idemOrder, k)
}

func encode(rep reply) answer {
	if rep.body == nil {
		return answer{status: rep.status}
	}
	b, err := json.Marshal(rep.body)
	if err != nil {
		// Only wire types are encoded, so this does not happen.
		b, _ = json.Marshal(portal.ErrorResponse{Error: portal.ErrorBody{Code: portal.CodeUnavailable, Message: "encode reply"}})
		return answer{status: http.StatusInternalServerError, body: b}
	}
	return answer{status: rep.status, body: append(b, '\n')}
}

func write(w http.ResponseWriter, a answer, replayed bool) {
	if replayed {
		w.Header().Set("Idempotent-Replayed", "true")
	}
	if a.body != nil {
		w.Header().Set("Content-Type", "application/json")
	}
	w.WriteHeader(a.status)
	w.Write(a.body)
}

func bearer(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}

// decode reads the JSON body into v. It returns a 422 reply, or nil.
func (c *call) decode(v any) *reply {
	dec := json.NewDecoder(strings.NewReader(string(c.body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		rep := fail(http.StatusUnprocessableEntity, portal.CodeInvalid, "the request body is not the expected JSON")
		return &rep
	}
	return nil
}

// Listen serves h on addr ("127.0.0.1:0" when empty) until shutdown is
// called or ctx is done. It returns the base URL to give portal.NewClient.
func Listen(ctx context.Context, addr string, h http.Handler) (url string, shutdown func(context.Context) error, err error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", addr)
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln) // returns http.ErrServerClosed after shutdown
	stop := context.AfterFunc(ctx, func() { srv.Close() })
	shutdown = func(ctx context.Context) error {
		stop()
		return srv.Shutdown(ctx)
	}
	return "http://" + ln.Addr().String(), shutdown, nil
}
