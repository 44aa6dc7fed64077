package portal_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"supportbot/portal"
	"supportbot/portal/demo"
)

// Seeded logins (portal/demo/README.md).
const (
	danaEmail    = "dana.levi@example.com"
	danaPass     = "demo-dana"
	yossiEmail   = "yossi.mizrahi@example.com"
	yossiPass    = "demo-yossi"
	michaelEmail = "michael.cohen@example.com"
	michaelPass  = "demo-michael"
	sarahEmail   = "sarah.johnson@example.com"
	sarahPass    = "demo-sarah"
)

// newDemo serves a fresh demo backend, with its clock at demo.Epoch, over
// real HTTP, wrapped by wrap when not nil.
func newDemo(t *testing.T, wrap func(http.Handler) http.Handler, opts ...portal.Option) (*portal.Client, *demo.Server) {
	t.Helper()
	d := demo.New(demo.Options{ExtraCustomers: 20, Now: demo.Epoch})
	var h http.Handler = d
	if wrap != nil {
		h = wrap(d)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	opts = append([]portal.Option{portal.WithHTTPClient(srv.Client()), portal.WithBackoff(time.Millisecond)}, opts...)
	return portal.NewClient(srv.URL, opts...), d
}

func login(t *testing.T, c *portal.Client, email, password string) string {
	t.Helper()
	a, err := c.Login(context.Background(), email, password)
	if err != nil {
		t.Fatalf("Login(%s): %v", email, err)
	}
	return a.Token
}

// wantInvalid fails unless err is an *InvalidError with exactly fields.
func wantInvalid(t *testing.T, err error, fields map[string]string) {
	t.Helper()
	var inv *portal.InvalidError
	if !errors.As(err, &inv) {
		t.Fatalf("err = %v, want *portal.InvalidError", err)
	}
	if !errors.Is(err, portal.ErrInvalid) {
		t.Errorf("errors.Is(%v, ErrInvalid) = false", err)
	}
	if diff := cmp.Diff(inv.Fields, fields); diff != "" {
		t.Errorf("fields (-got +want):\n%s", diff)
	}
}

func TestLogin(t *testing.T) {
	c, _ := newDemo(t, nil)
	tests := []struct {
		name, email, password string
		want                  portal.Customer
		wantErr               error
	}{
		{name: "ok", email: danaEmail, password: danaPass, want: portal.Customer{
			ID: "C-1001", Name: "דנה לוי", Email: danaEmail, Phone: "+972523456789", Lang: portal.LangHebrew}},
		{name: "email case and spaces", email: "  Michael.Cohen@Example.com ", password: michaelPass, want: portal.Customer{
			ID: "C-1003", Name: "Michael Cohen", Email: michaelEmail, Phone: "+13125550123", Lang: portal.LangEnglish}},
		{name: "generated customer", email: "user7@demo.example", password: "demo-pass-7", want: portal.Customer{
			ID: "C-X00007", Name: "Rachel Miller", Email: "user7@demo.example", Phone: "+972500000007", Lang: portal.LangEnglish}},
		{name: "wrong password", email: danaEmail, password: "demo-yossi", wantErr: portal.ErrUnauthorized},
		{name: "unknown email", email: "nobody@example.com", password: danaPass, wantErr: portal.ErrUnauthorized},
		{name: "generated past the count", email: "user21@demo.example", password: "demo-pass-21", wantErr: portal.ErrUnauthorized},
		{name: "password is case sensitive", email: danaEmail, password: "DEMO-DANA", wantErr: portal.ErrUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := c.Login(context.Background(), tt.email, tt.password)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if tt.wantErr != nil {
				return
			}
			if a.Token == "" {
				t.Error("empty token")
			}
			if diff := cmp.Diff(a.Customer, tt.want); diff != "" {
				t.Errorf("customer (-got +want):\n%s", diff)
			}
			me, err := c.Me(context.Background(), a.Token)
			if err != nil {
				t.Fatalf("Me: %v", err)
			}
			if diff := cmp.Diff(me, tt.want); diff != "" {
				t.Errorf("Me (-got +want):\n%s", diff)
			}
		})
	}
}

func TestLoginMissingFields(t *testing.T) {
	c, _ := newDemo(t, nil)
	_, err := c.Login(context.Background(), " ", "")
	wantInvalid(t, err, map[string]string{"email": portal.ReasonRequired, "password": portal.ReasonRequired})
}

func TestErrorsHoldNoSecrets(t *testing.T) {
	c, _ := newDemo(t, nil)
	const secret = "s3cret-Pa55word"
	_, err := c.Login(context.Background(), danaEmail, secret)
	if !errors.Is(err, portal.ErrUnauthorized) {
		t.Fatalf("err = %v, want ErrUnauthorized", err)
	}
	tok := "sbt_NOT-A-REAL-TOKEN"
	_, err2 := c.Me(context.Background(), tok)
	if !errors.Is(err2, portal.ErrUnauthorized) {
		t.Fatalf("err = %v, want ErrUnauthorized", err2)
	}
	for _, e := range []error{err, err2} {
		for _, s := range []string{secret, tok} {
			if strings.Contains(e.Error(), s) {
				t.Errorf("error %q contains a secret", e)
			}
		}
	}
}

func TestLogout(t *testing.T) {
	c, _ := newDemo(t, nil)
	ctx := context.Background()
	tok := login(t, c, danaEmail, danaPass)
	other := login(t, c, danaEmail, danaPass)
	if err := c.Logout(ctx, tok); err != nil {
		t.Fatalf("Logout: %v", err)
	}
	if _, err := c.Me(ctx, tok); !errors.Is(err, portal.ErrUnauthorized) {
		t.Errorf("Me after logout: err = %v, want ErrUnauthorized", err)
	}
	if err := c.Logout(ctx, tok); !errors.Is(err, portal.ErrUnauthorized) {
		t.Errorf("second Logout: err = %v, want ErrUnauthorized", err)
	}
	if _, err := c.Me(ctx, other); err != nil {
		t.Errorf("Me with another session's token: %v", err)
	}
	if _, err := c.Orders(ctx, "", 1, 10); !errors.Is(err, portal.ErrUnauthorized) {
		t.Errorf("Orders without token: err = %v, want ErrUnauthorized", err)
	}
}

func TestRequestPasswordReset(t *testing.T) {
	c, d := newDemo(t, nil)
	ctx := context.Background()
	for _, email := range []string{danaEmail, "Nobody@Example.com"} {
		if err := c.RequestPasswordReset(ctx, email); err != nil {
			t.Errorf("RequestPasswordReset(%s): %v", email, err)
		}
	}
	if diff := cmp.Diff(d.ResetRequests(), []string{danaEmail, "nobody@example.com"}); diff != "" {
		t.Errorf("reset requests (-got +want):\n%s", diff)
	}
	wantInvalid(t, c.RequestPasswordReset(ctx, "not-an-email"), map[string]string{"email": portal.ReasonInvalidFormat})
}

func TestOrdersPagination(t *testing.T) {
	c, _ := newDemo(t, nil)
	tok := login(t, c, danaEmail, danaPass)
	ctx := context.Background()
	var all []portal.Order
	for page, wantLen := range map[int]int{1: 5, 2: 5, 3: 4, 4: 0} {
		p, err := c.Orders(ctx, tok, page, 5)
		if err != nil {
			t.Fatalf("Orders(page %d): %v", page, err)
		}
		got := []int{len(p.Orders), p.Page, p.PerPage, p.Total, p.Pages()}
		if diff := cmp.Diff(got, []int{wantLen, page, 5, 14, 3}); diff != "" {
			t.Errorf("page %d [len page per_page total pages] (-got +want):\n%s", page, diff)
		}
		all = append(all, p.Orders...)
	}
	if len(all) != 14 {
		t.Fatalf("got %d orders over all pages, want 14", len(all))
	}
	slices.SortFunc(all, func(a, b portal.Order) int { return strings.Compare(a.ID, b.ID) })
	if n := len(slices.CompactFunc(all, func(a, b portal.Order) bool { return a.ID == b.ID })); n != 14 {
		t.Errorf("got %d distinct orders, want 14", n)
	}

	first, err := c.Orders(ctx, tok, 0, 0)
	if err != nil {
		t.Fatalf("Orders(defaults): %v", err)
	}
	if first.Page != 1 || first.PerPage != 10 || len(first.Orders) != 10 {
		t.Errorf("defaults: page %d per_page %d len %d, want 1 10 10", first.Page, first.PerPage, len(first.Orders))
	}
	if !slices.IsSortedFunc(first.Orders, func(a, b portal.Order) int { return b.PlacedAt.Compare(a.PlacedAt) }) {
		t.Error("orders are not newest first")
	}
	if first.Orders[0].ID != "SB-104240" {
		t.Errorf("newest order = %s, want SB-104240", first.Orders[0].ID)
	}

	_, err = c.Orders(ctx, tok, -1, 51)
	wantInvalid(t, err, map[string]string{"page": portal.ReasonOutOfRange, "per_page": portal.ReasonOutOfRange})

	noa := login(t, c, "noa.peretz@example.com", "demo-noa")
	empty, err := c.Orders(ctx, noa, 1, 10)
	if err != nil {
		t.Fatalf("Orders(noa): %v", err)
	}
	if empty.Total != 0 || empty.Orders == nil || len(empty.Orders) != 0 || empty.Pages() != 1 {
		t.Errorf("no orders: got %+v, want an empty non-nil page", empty)
	}
}

func TestOrder(t *testing.T) {
	c, _ := newDemo(t, nil)
	tok := login(t, c, michaelEmail, michaelPass)
	tests := []struct {
		id          string
		wantErr     error
		wantShipped int
	}{
		{id: "SB-104210", wantShipped: 2},
		{id: "sb-104251", wantShipped: 1},
		{id: "SB-104233", wantErr: portal.ErrNotFound}, // Dana's
		{id: "SB-000000", wantErr: portal.ErrNotFound},
		{id: "../me", wantErr: portal.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			o, err := c.Order(context.Background(), tok, tt.id)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if tt.wantErr == nil && len(o.Shipments) != tt.wantShipped {
				t.Errorf("got %d shipments, want %d", len(o.Shipments), tt.wantShipped)
			}
		})
	}
}

func TestGuestOrder(t *testing.T) {
	c, _ := newDemo(t, nil)
	tests := []struct {
		name, id, email string
		wantErr         error
	}{
		{name: "ok", id: "SB-104233", email: danaEmail},
		{name: "any case", id: " sb-104233", email: "DANA.Levi@example.com "},
		{name: "generated", id: "SB-700003", email: "user3@demo.example"},
		{name: "wrong email", id: "SB-104233", email: yossiEmail, wantErr: portal.ErrNotFound},
		{name: "wrong order", id: "SB-999999", email: danaEmail, wantErr: portal.ErrNotFound},
		{name: "both wrong", id: "SB-1", email: "x@example.com", wantErr: portal.ErrNotFound},
		{name: "generated past the count", id: "SB-700021", email: "user21@demo.example", wantErr: portal.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := c.GuestOrder(context.Background(), tt.id, tt.email)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if tt.wantErr == nil && o.ID != strings.ToUpper(strings.TrimSpace(tt.id)) {
				t.Errorf("got order %s, want %s", o.ID, tt.id)
			}
		})
	}
	_, err := c.GuestOrder(context.Background(), "", "")
	wantInvalid(t, err, map[string]string{"order_id": portal.ReasonRequired, "email": portal.ReasonRequired})
}

func TestGuestOrderMatchesLoggedIn(t *testing.T) {
	c, _ := newDemo(t, nil)
	ctx := context.Background()
	tok := login(t, c, danaEmail, danaPass)
	want, err := c.Order(ctx, tok, "SB-104198")
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.GuestOrder(ctx, "SB-104198", danaEmail)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("guest view (-got +want):\n%s", diff)
	}
	if len(want.Shipments) != 2 || want.Shipments[0].Carrier != portal.CarrierIsraelPost || want.Shipments[1].Carrier != portal.CarrierDHL {
		t.Errorf("SB-104198 shipments = %+v, want Israel Post and DHL", want.Shipments)
	}
}

// flaky answers status to the first fails calls whose path has prefix,
// then passes them to next; calls counts them all.
type flaky struct {
	next   http.Handler
	prefix string
	status int
	fails  int32
	calls  atomic.Int32
}

func (f *flaky) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !strings.HasPrefix(r.URL.Path, f.prefix) {
		f.next.ServeHTTP(w, r)
		return
	}
	if n := f.calls.Add(1); n <= f.fails || f.fails < 0 {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(f.status)
		w.Write([]byte(`{"error":{"code":"unavailable","message":"down for a test"}}`))
		return
	}
	f.next.ServeHTTP(w, r)
}

func TestRetries(t *testing.T) {
	tests := []struct {
		name      string
		status    int
		fails     int32 // -1: always
		write     bool
		wantErr   error
		wantCalls int32
	}{
		{name: "GET 503 then ok", status: 503, fails: 2, wantCalls: 3},
		{name: "GET 502 then ok", status: 502, fails: 1, wantCalls: 2},
		{name: "GET 504 always", status: 504, fails: -1, wantErr: portal.ErrUnavailable, wantCalls: 3},
		{name: "GET 500 not retried", status: 500, fails: -1, wantErr: portal.ErrUnavailable, wantCalls: 1},
		{name: "GET 429 not retried", status: 429, fails: -1, wantErr: portal.ErrUnavailable, wantCalls: 1},
		{name: "write 503 not retried", status: 503, fails: 1, write: true, wantErr: portal.ErrUnavailable, wantCalls: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &flaky{prefix: "/v1/orders", status: tt.status, fails: tt.fails}
			if tt.write {
				f.prefix = "/v1/tickets"
			}
			c, _ := newDemo(t, func(h http.Handler) http.Handler { f.next = h; return f })
			tok := login(t, c, danaEmail, danaPass)
			var err error
			if tt.write {
				_, err = c.CreateTicket(context.Background(), tok, portal.NewTicket{Department: "billing", Subject: "s", Body: "b"})
			} else {
				_, err = c.Orders(context.Background(), tok, 1, 5)
			}
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("err = %v, want %v", err, tt.wantErr)
			}
			if got := f.calls.Load(); got != tt.wantCalls {
				t.Errorf("server saw %d calls, want %d", got, tt.wantCalls)
			}
		})
	}
}

func TestRetriesOption(t *testing.T) {
	f := &flaky{prefix: "/v1/departments", status: 503, fails: -1}
	c, _ := newDemo(t, func(h http.Handler) http.Handler { f.next = h; return f }, portal.WithRetries(0))
	if _, err := c.Departments(context.Background()); !errors.Is(err, portal.ErrUnavailable) {
		t.Errorf("err = %v, want ErrUnavailable", err)
	}
	if got := f.calls.Load(); got != 1 {
		t.Errorf("server saw %d calls, want 1", got)
	}
}

func TestTimeout(t *testing.T) {
	release := make(chan struct{})
	var calls atomic.Int32
	hang := func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/v1/me" {
				calls.Add(1)
				select {
				case <-r.Context().Done():
				case <-release:
				}
				return
			}
			h.ServeHTTP(w, r)
		})
	}
	srv := httptest.NewServer(hang(demo.New(demo.Options{})))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })
	tok := login(t, portal.NewClient(srv.URL), danaEmail, danaPass)
	c := portal.NewClient(srv.URL, portal.WithTimeout(20*time.Millisecond), portal.WithRetries(1), portal.WithBackoff(time.Millisecond))
	_, err := c.Me(context.Background(), tok)
	if !errors.Is(err, portal.ErrUnavailable) {
		t.Errorf("err = %v, want ErrUnavailable", err)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want it to wrap context.DeadlineExceeded", err)
	}
	if got := calls.Load(); got != 2 {
		t.Errorf("server saw %d calls, want 2 (a timed-out GET is retried)", got)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.Me(ctx, tok); !errors.Is(err, portal.ErrUnavailable) || !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled call: err = %v, want ErrUnavailable and context.Canceled", err)
	}
}

func TestBackendDown(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	c := portal.NewClient(url, portal.WithBackoff(time.Millisecond))
	_, err := c.Login(context.Background(), danaEmail, danaPass)
	if !errors.Is(err, portal.ErrUnavailable) {
		t.Errorf("err = %v, want ErrUnavailable", err)
	}
	if strings.Contains(err.Error(), danaPass) {
		t.Errorf("error %q contains the password", err)
	}
}

func TestUnknownEndpoint(t *testing.T) {
	d := demo.New(demo.Options{})
	srv := httptest.NewServer(d)
	t.Cleanup(srv.Close)
	c := portal.NewClient(srv.URL + "/nope")
	if _, err := c.Departments(context.Background()); !errors.Is(err, portal.ErrNotFound) {
		t.Errorf("err = %v, want ErrNotFound", err)
	}
}

// dropFirst lets the backend apply the first request to path, then cuts
// the connection before any answer, as a network failure would. It
// records the Idempotency-Key of every request to path.
type dropFirst struct {
	next    http.Handler
	path    string
	mu      sync.Mutex
	keys    []string
	dropped bool
}

func (d *dropFirst) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != d.path {
		d.next.ServeHTTP(w, r)
		return
	}
	d.mu.Lock()
	d.keys = append(d.keys, r.Header.Get(portal.IdempotencyHeader))
	drop := !d.dropped
	d.dropped = true
	d.mu.Unlock()
	if !drop {
		d.next.ServeHTTP(w, r)
		return
	}
	d.next.ServeHTTP(httptest.NewRecorder(), r) // applied, answer lost
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(err) // httptest servers support hijacking
	}
	conn.Close()
}

func TestWriteRetryReusesKey(t *testing.T) {
	drop := &dropFirst{path: "/v1/tickets"}
	c, _ := newDemo(t, func(h http.Handler) http.Handler { drop.next = h; return drop })
	ctx := context.Background()
	tok := login(t, c, danaEmail, danaPass)
	before, err := c.Tickets(ctx, tok)
	if err != nil {
		t.Fatal(err)
	}
	tk, err := c.CreateTicket(ctx, tok, portal.NewTicket{Department: "technical", Subject: "No signal", Body: "Since this morning."})
	if err != nil {
		t.Fatalf("CreateTicket: %v", err)
	}
	if len(drop.keys) != 2 || drop.keys[0] == "" || drop.keys[0] != drop.keys[1] {
		t.Errorf("Idempotency-Key of the attempts = %q, want the same non-empty key twice", drop.keys)
	}
	after, err := c.Tickets(ctx, tok)
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != len(before)+1 || after[0].ID != tk.ID {
		t.Errorf("tickets after one retried create: %d (newest %s), want %d (newest %s)", len(after), after[0].ID, len(before)+1, tk.ID)
	}
}

func TestIdempotency(t *testing.T) {
	var key string
	c, _ := newDemo(t, nil, portal.WithIdempotencyKeys(func() string { return key }))
	ctx := context.Background()
	key = "login-dana"
	dana := login(t, c, danaEmail, danaPass)
	key = "login-michael"
	michael := login(t, c, michaelEmail, michaelPass)
	key = "fixed-key"
	nt := portal.NewTicket{Department: "sales", Subject: "Family plan", Body: "Do you have family discounts?"}
	first, err := c.CreateTicket(ctx, dana, nt)
	if err != nil {
		t.Fatalf("CreateTicket: %v", err)
	}
	again, err := c.CreateTicket(ctx, dana, nt)
	if err != nil {
		t.Fatalf("CreateTicket again: %v", err)
	}
	if diff := cmp.Diff(again, first); diff != "" {
		t.Errorf("replayed ticket (-got +want):\n%s", diff)
	}
	list, err := c.Tickets(ctx, dana)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, tk := range list {
		if tk.Subject == nt.Subject {
			n++
		}
	}
	if n != 1 {
		t.Errorf("got %d tickets for one key, want 1", n)
	}

	nt.Subject = "Something else"
	if _, err := c.CreateTicket(ctx, dana, nt); !errors.Is(err, portal.ErrConflict) {
		t.Errorf("same key, other request: err = %v, want ErrConflict", err)
	}

	// Keys are per token: another customer's write with the same key applies.
	other, err := c.CreateTicket(ctx, michael, portal.NewTicket{Department: "sales", Subject: "Family plan", Body: "Do you have family discounts?"})
	if err != nil {
		t.Fatalf("CreateTicket(michael): %v", err)
	}
	if other.ID == first.ID {
		t.Errorf("another token's write was replayed as %s", first.ID)
	}
}

// TestPinnedIdempotencyKey checks that a key pinned in ctx makes separate
// calls one write: a repeat replays the first answer, a new key applies.
func TestPinnedIdempotencyKey(t *testing.T) {
	var (
		mu   sync.Mutex
		keys []string
	)
	record := func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPut {
				mu.Lock()
				keys = append(keys, r.Header.Get(portal.IdempotencyHeader))
				mu.Unlock()
			}
			h.ServeHTTP(w, r)
		})
	}
	c, _ := newDemo(t, record, portal.WithIdempotencyKeys(func() string { return "generated" }))
	ctx := context.Background()
	tok := login(t, c, yossiEmail, yossiPass)
	const plan, first, second = "P-2003", "+972507654321", "+972521112233"
	forwardedTo := func() string {
		t.Helper()
		p, err := c.Plan(ctx, tok, plan)
		if err != nil {
			t.Fatalf("Plan: %v", err)
		}
		return p.Forwarding.To
	}

	pinned := portal.WithIdempotencyKey(ctx, "fwd-try-1")
	p1, err := c.SetForwarding(pinned, tok, plan, first)
	if err != nil {
		t.Fatalf("SetForwarding(pinned): %v", err)
	}
	if want := (portal.Forwarding{Enabled: true, To: first}); p1.Forwarding != want {
		t.Fatalf("forwarding = %+v, want %+v", p1.Forwarding, want)
	}
	// A change in between, with another key, so that a second apply shows.
	if _, err := c.SetForwarding(portal.WithIdempotencyKey(ctx, "fwd-other"), tok, plan, second); err != nil {
		t.Fatalf("SetForwarding(other key): %v", err)
	}

	again, err := c.SetForwarding(pinned, tok, plan, first)
	if err != nil {
		t.Fatalf("SetForwarding(pinned) again: %v", err)
	}
	if diff := cmp.Diff(again, p1); diff != "" {
		t.Errorf("repeat with the pinned key: answer (-got +want):\n%s", diff)
	}
	if got := forwardedTo(); got != second {
		t.Errorf("after a repeat with the pinned key: forwarded to %q, want %q (not applied again)", got, second)
	}

	if _, err := c.SetForwarding(portal.WithIdempotencyKey(ctx, "fwd-try-2"), tok, plan, first); err != nil {
		t.Fatalf("SetForwarding(new key): %v", err)
	}
	if got := forwardedTo(); got != first {
		t.Errorf("after a new key: forwarded to %q, want %q", got, first)
	}

	// An empty pinned key falls back to the Client's generator.
	if _, err := c.SetForwarding(portal.WithIdempotencyKey(ctx, ""), tok, plan, second); err != nil {
		t.Fatalf("SetForwarding(empty key): %v", err)
	}
	want := []string{"fwd-try-1", "fwd-other", "fwd-try-1", "fwd-try-2", "generated"}
	if diff := cmp.Diff(keys, want); diff != "" {
		t.Errorf("Idempotency-Key of the writes (-got +want):\n%s", diff)
	}
}

func TestPlanSettings(t *testing.T) {
	ctx := context.Background()
	const spareSIM = "8997201000000090015"

	type step struct {
		name    string
		do      func(c *portal.Client, tok string) (portal.Plan, error)
		check   func(portal.Plan) bool
		wantErr error
		fields  map[string]string
	}
	tests := []struct {
		plan  string
		email string
		pass  string
		steps []step
	}{
		{plan: "P-2003", email: yossiEmail, pass: yossiPass, steps: []step{
			{name: "sim", do: func(c *portal.Client, tok string) (portal.Plan, error) {
				return c.SetSIM(ctx, tok, "P-2003", "8997 2010 0000 0090 015")
			}, check: func(p portal.Plan) bool { return p.ICCID == spareSIM }},
			{name: "sim bad checksum", do: func(c *portal.Client, tok string) (portal.Plan, error) {
				return c.SetSIM(ctx, tok, "P-2003", "8997201000000090016")
			}, fields: map[string]string{"iccid": portal.ReasonChecksum}},
			{name: "sim too short", do: func(c *portal.Client, tok string) (portal.Plan, error) {
				return c.SetSIM(ctx, tok, "P-2003", "89972010000000")
			}, fields: map[string]string{"iccid": portal.ReasonInvalidFormat}},
			{name: "sim of another plan", do: func(c *portal.Client, tok string) (portal.Plan, error) {
				return c.SetSIM(ctx, tok, "P-2003", "8997201000000020012") // Dana's P-2001
			}, wantErr: portal.ErrConflict},
			{name: "voicemail off, english", do: func(c *portal.Client, tok string) (portal.Plan, error) {
				return c.SetVoicemail(ctx, tok, "P-2003", portal.Voicemail{Enabled: false, Lang: portal.LangEnglish})
			}, check: func(p portal.Plan) bool {
				return p.Voicemail == portal.Voicemail{Enabled: false, Lang: portal.LangEnglish}
			}},
			{name: "voicemail on, language kept", do: func(c *portal.Client, tok string) (portal.Plan, error) {
				return c.SetVoicemail(ctx, tok, "P-2003", portal.Voicemail{Enabled: true})
			}, check: func(p portal.Plan) bool {
				return p.Voicemail == portal.Voicemail{Enabled: true, Lang: portal.LangEnglish}
			}},
			{name: "voicemail bad language", do: func(c *portal.Client, tok string) (portal.Plan, error) {
				return c.SetVoicemail(ctx, tok, "P-2003", portal.Voicemail{Enabled: true, Lang: "fr"})
			}, fields: map[string]string{"lang": portal.ReasonInvalidFormat}},
			{name: "forwarding", do: func(c *portal.Client, tok string) (portal.Plan, error) {
				return c.SetForwarding(ctx, tok, "P-2003", "+972 (50) 765-4321")
			}, check: func(p portal.Plan) bool { return p.Forwarding == portal.Forwarding{Enabled: true, To: "+972507654321"} }},
			{name: "forwarding to itself", do: func(c *portal.Client, tok string) (portal.Plan, error) {
				return c.SetForwarding(ctx, tok, "P-2003", "+972541234567")
			}, fields: map[string]string{"to_number": portal.ReasonSameAsPlan}},
			{name: "forwarding malformed", do: func(c *portal.Client, tok string) (portal.Plan, error) {
				return c.SetForwarding(ctx, tok, "P-2003", "050-7654321")
			}, fields: map[string]string{"to_number": portal.ReasonInvalidFormat}},
			{name: "cancel forwarding", do: func(c *portal.Client, tok string) (portal.Plan, error) {
				return c.CancelForwarding(ctx, tok, "P-2003")
			}, check: func(p portal.Plan) bool { return p.Forwarding == portal.Forwarding{} }},
			{name: "cancel forwarding again", do: func(c *portal.Client, tok string) (portal.Plan, error) {
				return c.CancelForwarding(ctx, tok, "P-2003")
			}, check: func(p portal.Plan) bool { return !p.Forwarding.Enabled }},
		}},
		{plan: "P-2002", email: danaEmail, pass: danaPass, steps: []step{
			{name: "dates", do: func(c *portal.Client, tok string) (portal.Plan, error) {
				return c.SetDates(ctx, tok, "P-2002", portal.Date{2026, 11, 22}, portal.Date{2026, 12, 31})
			}, check: func(p portal.Plan) bool {
				return p.StartDate == portal.Date{2026, 11, 22} && p.EndDate == portal.Date{2026, 12, 31} && p.Status == portal.PlanPending
			}},
			{name: "dates start today activates", do: func(c *portal.Client, tok string) (portal.Plan, error) {
				return c.SetDates(ctx, tok, "P-2002", portal.Date{2026, 11, 9}, portal.Date{2026, 12, 31})
			}, check: func(p portal.Plan) bool { return p.Status == portal.PlanActive }},
			{name: "dates end before start", do: func(c *portal.Client, tok string) (portal.Plan, error) {
				return c.SetDates(ctx, tok, "P-2002", portal.Date{2026, 12, 1}, portal.Date{2026, 11, 30})
			}, fields: map[string]string{"end_date": portal.ReasonBeforeStart}},
			{name: "dates start in past", do: func(c *portal.Client, tok string) (portal.Plan, error) {
				return c.SetDates(ctx, tok, "P-2002", portal.Date{2026, 11, 1}, portal.Date{2026, 12, 1})
			}, fields: map[string]string{"start_date": portal.ReasonInPast}},
			{name: "dates missing", do: func(c *portal.Client, tok string) (portal.Plan, error) {
				return c.SetDates(ctx, tok, "P-2002", portal.Date{}, portal.Date{})
			}, fields: map[string]string{"start_date": portal.ReasonRequired, "end_date": portal.ReasonRequired}},
			{name: "another customer's plan", do: func(c *portal.Client, tok string) (portal.Plan, error) {
				return c.SetVoicemail(ctx, tok, "P-2003", portal.Voicemail{Enabled: true})
			}, wantErr: portal.ErrNotFound},
		}},
		{plan: "P-2006", email: sarahEmail, pass: sarahPass, steps: []step{
			{name: "expired plan voicemail", do: func(c *portal.Client, tok string) (portal.Plan, error) {
				return c.SetVoicemail(ctx, tok, "P-2006", portal.Voicemail{Enabled: true})
			}, wantErr: portal.ErrConflict},
			{name: "expired plan forwarding", do: func(c *portal.Client, tok string) (portal.Plan, error) {
				return c.SetForwarding(ctx, tok, "P-2006", "+16465550199")
			}, wantErr: portal.ErrConflict},
		}},
	}
	for _, tt := range tests {
		c, _ := newDemo(t, nil)
		tok := login(t, c, tt.email, tt.pass)
		for _, st := range tt.steps {
			t.Run(tt.plan+"/"+st.name, func(t *testing.T) {
				got, err := st.do(c, tok)
				switch {
				case st.fields != nil:
					wantInvalid(t, err, st.fields)
					return
				case !errors.Is(err, st.wantErr):
					t.Fatalf("err = %v, want %v", err, st.wantErr)
				case err != nil:
					return
				}
				if !st.check(got) {
					t.Errorf("answer: %+v", got)
				}
				stored, err := c.Plan(ctx, tok, tt.plan)
				if err != nil {
					t.Fatalf("Plan: %v", err)
				}
				if diff := cmp.Diff(stored, got); diff != "" {
					t.Errorf("stored plan differs from the answer (-got +want):\n%s", diff)
				}
			})
		}
	}
}

func TestPlans(t *testing.T) {
	c, _ := newDemo(t, nil)
	ctx := context.Background()
	tok := login(t, c, danaEmail, danaPass)
	plans, err := c.Plans(ctx, tok)
	if err != nil {
		t.Fatal(err)
	}
	var countries []portal.Country
	for _, p := range plans {
		countries = append(countries, p.Country)
		if err := portal.ValidateICCID(p.ICCID); err != nil {
			t.Errorf("plan %s ICCID %s: %v", p.ID, p.ICCID, err)
		}
	}
	if diff := cmp.Diff(countries, []portal.Country{portal.CountryIL, portal.CountryUS}); diff != "" {
		t.Errorf("Dana's plan countries (-got +want):\n%s", diff)
	}
	if _, err := c.Plan(ctx, tok, "P-2004"); !errors.Is(err, portal.ErrNotFound) {
		t.Errorf("Plan(Michael's): err = %v, want ErrNotFound", err)
	}
}

func TestUsage(t *testing.T) {
	c, _ := newDemo(t, nil)
	tok := login(t, c, yossiEmail, yossiPass)
	u, err := c.Usage(context.Background(), tok, "P-2003")
	if err != nil {
		t.Fatal(err)
	}
	want := portal.Usage{PlanID: "P-2003", PeriodStart: portal.Date{2026, 10, 15}, PeriodEnd: portal.Date{2026, 11, 14},
		Minutes: 540, MinutesLimit: 1000, DataMB: 8950, DataLimitMB: 10240, SMS: 12, SMSLimit: 100,
		UpdatedAt: time.Date(2026, 11, 9, 6, 0, 0, 0, time.UTC)}
	if diff := cmp.Diff(u, want); diff != "" {
		t.Errorf("usage (-got +want):\n%s", diff)
	}
}

func TestSendAPN(t *testing.T) {
	c, _ := newDemo(t, nil)
	ctx := context.Background()
	tok := login(t, c, michaelEmail, michaelPass)
	for via, to := range map[portal.APNChannel]string{portal.APNBySMS: "+972587654321", portal.APNByEmail: michaelEmail} {
		d, err := c.SendAPN(ctx, tok, "P-2004", via)
		if err != nil {
			t.Fatalf("SendAPN(%s): %v", via, err)
		}
		if diff := cmp.Diff(d, portal.APNDelivery{Via: via, To: to}); diff != "" {
			t.Errorf("delivery (-got +want):\n%s", diff)
		}
	}
	_, err := c.SendAPN(ctx, tok, "P-2004", "pigeon")
	wantInvalid(t, err, map[string]string{"via": portal.ReasonInvalidFormat})
}

func TestPaymentLink(t *testing.T) {
	c, _ := newDemo(t, nil)
	ctx := context.Background()
	tok := login(t, c, danaEmail, danaPass)
	l, err := c.PaymentLink(ctx, tok, []string{"P-2001", "P-2002"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(l.URL, "https://") {
		t.Errorf("URL %q is not https", l.URL)
	}
	if want := demo.Epoch().Add(30 * time.Minute); !l.ExpiresAt.Equal(want) {
		t.Errorf("expires at %v, want %v", l.ExpiresAt, want)
	}
	l2, err := c.PaymentLink(ctx, tok, []string{"P-2001", "P-2002"})
	if err != nil {
		t.Fatal(err)
	}
	if l2.URL == l.URL {
		t.Error("two links share a URL; links are single use")
	}
	_, err = c.PaymentLink(ctx, tok, nil)
	wantInvalid(t, err, map[string]string{"plan_ids": portal.ReasonRequired})
	_, err = c.PaymentLink(ctx, tok, []string{"P-2001", "P-2004"})
	wantInvalid(t, err, map[string]string{"plan_ids": portal.ReasonUnknown})
}

func TestProfile(t *testing.T) {
	c, _ := newDemo(t, nil)
	ctx := context.Background()
	tok := login(t, c, sarahEmail, sarahPass)

	got, err := c.UpdateMe(ctx, tok, portal.ProfileUpdate{Name: "Sarah J. Johnson", Email: "sarah.j@example.com", Lang: portal.LangHebrew})
	if err != nil {
		t.Fatalf("UpdateMe: %v", err)
	}
	want := portal.Customer{ID: "C-1004", Name: "Sarah J. Johnson", Email: "sarah.j@example.com", Phone: "+16465550199", Lang: portal.LangHebrew}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("UpdateMe (-got +want):\n%s", diff)
	}
	if _, err := c.Login(ctx, sarahEmail, sarahPass); !errors.Is(err, portal.ErrUnauthorized) {
		t.Errorf("login with the old email: err = %v, want ErrUnauthorized", err)
	}
	login(t, c, "sarah.j@example.com", sarahPass)

	if _, err := c.UpdateMe(ctx, tok, portal.ProfileUpdate{Email: danaEmail}); !errors.Is(err, portal.ErrConflict) {
		t.Errorf("taken email: err = %v, want ErrConflict", err)
	}
	if _, err := c.UpdateMe(ctx, tok, portal.ProfileUpdate{Email: "user3@demo.example"}); !errors.Is(err, portal.ErrConflict) {
		t.Errorf("generated customer's email: err = %v, want ErrConflict", err)
	}
	_, err = c.UpdateMe(ctx, tok, portal.ProfileUpdate{Email: "sarah@", Lang: "de"})
	wantInvalid(t, err, map[string]string{"email": portal.ReasonInvalidFormat, "lang": portal.ReasonInvalidFormat})

	wantInvalid(t, c.ChangePassword(ctx, tok, "wrong", "long enough"), map[string]string{"current_password": portal.ReasonIncorrect})
	wantInvalid(t, c.ChangePassword(ctx, tok, sarahPass, "short"), map[string]string{"new_password": portal.ReasonTooShort})
	if err := c.ChangePassword(ctx, tok, sarahPass, "a new passphrase"); err != nil {
		t.Fatalf("ChangePassword: %v", err)
	}
	login(t, c, "sarah.j@example.com", "a new passphrase")
}

func TestEmails(t *testing.T) {
	c, _ := newDemo(t, nil)
	ctx := context.Background()
	tok := login(t, c, danaEmail, danaPass)

	added, err := c.AddEmail(ctx, tok, "dana.family@example.com", portal.Notify{Billing: true})
	if err != nil {
		t.Fatalf("AddEmail: %v", err)
	}
	if _, err := c.AddEmail(ctx, tok, "DANA.FAMILY@example.com", portal.Notify{}); !errors.Is(err, portal.ErrConflict) {
		t.Errorf("duplicate: err = %v, want ErrConflict", err)
	}
	if _, err := c.AddEmail(ctx, tok, danaEmail, portal.Notify{}); !errors.Is(err, portal.ErrConflict) {
		t.Errorf("primary: err = %v, want ErrConflict", err)
	}
	_, err = c.AddEmail(ctx, tok, "no at sign", portal.Notify{})
	wantInvalid(t, err, map[string]string{"email": portal.ReasonInvalidFormat})

	updated, err := c.UpdateEmail(ctx, tok, added.ID, portal.Notify{Orders: true, Support: true})
	if err != nil {
		t.Fatalf("UpdateEmail: %v", err)
	}
	list, err := c.Emails(ctx, tok)
	if err != nil {
		t.Fatal(err)
	}
	want := []portal.ExtraEmail{
		{ID: "E-1", Email: "dana.work@example.com", Notify: portal.Notify{Orders: true, Shipping: true}},
		{ID: added.ID, Email: "dana.family@example.com", Notify: portal.Notify{Orders: true, Support: true}},
	}
	if diff := cmp.Diff(list, want); diff != "" {
		t.Errorf("emails (-got +want):\n%s", diff)
	}
	if diff := cmp.Diff(updated, want[1]); diff != "" {
		t.Errorf("UpdateEmail (-got +want):\n%s", diff)
	}

	if err := c.DeleteEmail(ctx, tok, "E-1"); err != nil {
		t.Fatalf("DeleteEmail: %v", err)
	}
	if err := c.DeleteEmail(ctx, tok, "E-1"); !errors.Is(err, portal.ErrNotFound) {
		t.Errorf("second DeleteEmail: err = %v, want ErrNotFound", err)
	}
	if _, err := c.UpdateEmail(ctx, tok, "E-1", portal.Notify{}); !errors.Is(err, portal.ErrNotFound) {
		t.Errorf("UpdateEmail(deleted): err = %v, want ErrNotFound", err)
	}
	list, err = c.Emails(ctx, tok)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 {
		t.Errorf("got %d emails after delete, want 1", len(list))
	}
}

func TestAddresses(t *testing.T) {
	c, _ := newDemo(t, nil)
	ctx := context.Background()
	tok := login(t, c, danaEmail, danaPass)

	a, err := c.AddAddress(ctx, tok, portal.Address{Name: "דנה לוי", Line1: "רחוב ויצמן 5", City: "כפר סבא",
		PostalCode: "4424105", Country: "il", DefaultShipping: true})
	if err != nil {
		t.Fatalf("AddAddress: %v", err)
	}
	if a.ID == "" || a.Country != "IL" {
		t.Errorf("added address: %+v, want an ID and country IL", a)
	}
	list, err := c.Addresses(ctx, tok)
	if err != nil {
		t.Fatal(err)
	}
	var flags []string
	for _, x := range list {
		flags = append(flags, x.ID+":"+map[bool]string{true: "B", false: "-"}[x.DefaultBilling]+map[bool]string{true: "S", false: "-"}[x.DefaultShipping])
	}
	if diff := cmp.Diff(flags, []string{"A-1:B-", "A-2:--", a.ID + ":-S"}); diff != "" {
		t.Errorf("default flags after add (-got +want):\n%s", diff)
	}

	edit := list[1]
	edit.Line2 = "Floor 20"
	edit.DefaultBilling = true
	got, err := c.UpdateAddress(ctx, tok, edit.ID, edit)
	if err != nil {
		t.Fatalf("UpdateAddress: %v", err)
	}
	if diff := cmp.Diff(got, edit); diff != "" {
		t.Errorf("UpdateAddress (-got +want):\n%s", diff)
	}
	home, _ := c.Addresses(ctx, tok)
	if home[0].DefaultBilling {
		t.Error("A-1 kept default billing after A-2 took it")
	}

	_, err = c.AddAddress(ctx, tok, portal.Address{Name: "x", Country: "Israel", PostalCode: "!!"})
	wantInvalid(t, err, map[string]string{"line1": portal.ReasonRequired, "city": portal.ReasonRequired,
		"country": portal.ReasonInvalidFormat, "postal_code": portal.ReasonInvalidFormat})
	if _, err := c.UpdateAddress(ctx, tok, "A-99", edit); !errors.Is(err, portal.ErrNotFound) {
		t.Errorf("UpdateAddress(unknown): err = %v, want ErrNotFound", err)
	}
}

func TestTickets(t *testing.T) {
	c, _ := newDemo(t, nil)
	ctx := context.Background()
	deps, err := c.Departments(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, d := range deps {
		ids = append(ids, d.ID)
		if d.Label(portal.LangHebrew) == d.Label(portal.LangEnglish) {
			t.Errorf("department %s has no Hebrew name", d.ID)
		}
	}
	if diff := cmp.Diff(ids, []string{"billing", "technical", "shipping", "sales"}); diff != "" {
		t.Errorf("departments (-got +want):\n%s", diff)
	}

	tok := login(t, c, danaEmail, danaPass)
	tk, err := c.CreateTicket(ctx, tok, portal.NewTicket{Department: "shipping", Subject: "כתובת למשלוח",
		Body: "אפשר לשנות את הכתובת?", OrderID: "sb-104240"})
	if err != nil {
		t.Fatalf("CreateTicket: %v", err)
	}
	want := portal.Ticket{ID: "T-5003", Department: "shipping", Subject: "כתובת למשלוח", Status: portal.TicketOpen,
		OrderID: "SB-104240", CreatedAt: demo.Epoch(), UpdatedAt: demo.Epoch(),
		Messages: []portal.TicketMessage{{At: demo.Epoch(), From: portal.FromCustomer, Author: "דנה לוי", Body: "אפשר לשנות את הכתובת?"}}}
	if diff := cmp.Diff(tk, want); diff != "" {
		t.Errorf("CreateTicket (-got +want):\n%s", diff)
	}

	list, err := c.Tickets(ctx, tok)
	if err != nil {
		t.Fatal(err)
	}
	ids = nil
	for _, x := range list {
		ids = append(ids, x.ID)
		if x.Messages != nil {
			t.Errorf("ticket %s listed with messages", x.ID)
		}
	}
	if diff := cmp.Diff(ids, []string{"T-5003", "T-5001", "T-4987"}); diff != "" {
		t.Errorf("tickets, newest first (-got +want):\n%s", diff)
	}

	replied, err := c.AddTicketMessage(ctx, tok, "T-5001", "תודה, כן בבקשה")
	if err != nil {
		t.Fatalf("AddTicketMessage: %v", err)
	}
	if len(replied.Messages) != 3 || replied.Status != portal.TicketOpen {
		t.Errorf("after reply: %d messages, status %s; want 3, open", len(replied.Messages), replied.Status)
	}
	got, err := c.Ticket(ctx, tok, "T-5001")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(got, replied); diff != "" {
		t.Errorf("Ticket (-got +want):\n%s", diff)
	}

	if _, err := c.AddTicketMessage(ctx, tok, "T-4987", "again"); !errors.Is(err, portal.ErrConflict) {
		t.Errorf("closed ticket: err = %v, want ErrConflict", err)
	}
	if _, err := c.Ticket(ctx, tok, "T-5002"); !errors.Is(err, portal.ErrNotFound) {
		t.Errorf("Michael's ticket: err = %v, want ErrNotFound", err)
	}
	_, err = c.CreateTicket(ctx, tok, portal.NewTicket{Department: "legal", Subject: strings.Repeat("x", 121), PlanID: "P-2004"})
	wantInvalid(t, err, map[string]string{"department": portal.ReasonUnknown, "subject": portal.ReasonTooLong,
		"body": portal.ReasonRequired, "plan_id": portal.ReasonUnknown})
}

func TestExtraCustomers(t *testing.T) {
	d := demo.New(demo.Options{ExtraCustomers: 10000, Now: demo.Epoch})
	srv := httptest.NewServer(d)
	t.Cleanup(srv.Close)
	c := portal.NewClient(srv.URL)
	ctx := context.Background()

	tok := login(t, c, "user10000@demo.example", "demo-pass-10000")
	p, err := c.Orders(ctx, tok, 1, 10)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, o := range p.Orders {
		ids = append(ids, o.ID)
		if len(o.Shipments) != 1 {
			t.Errorf("order %s has %d shipments, want 1", o.ID, len(o.Shipments))
		}
	}
	if diff := cmp.Diff(ids, []string{"SB-810000", "SB-710000"}); diff != "" {
		t.Errorf("orders (-got +want):\n%s", diff)
	}
	plans, err := c.Plans(ctx, tok)
	if err != nil {
		t.Fatal(err)
	}
	if len(plans) != 1 || plans[0].ID != "P-X10000" || portal.ValidateICCID(plans[0].ICCID) != nil {
		t.Errorf("plans = %+v, want P-X10000 with a valid ICCID", plans)
	}

	guest, err := c.GuestOrder(ctx, "SB-704321", "user4321@demo.example")
	if err != nil {
		t.Fatalf("GuestOrder(generated): %v", err)
	}
	// Generation is deterministic: another server builds the same order.
	other := httptest.NewServer(demo.New(demo.Options{ExtraCustomers: 10000}))
	t.Cleanup(other.Close)
	again, err := portal.NewClient(other.URL).GuestOrder(ctx, "SB-704321", "user4321@demo.example")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(again, guest); diff != "" {
		t.Errorf("generated order differs between servers (-got +want):\n%s", diff)
	}

	if _, err := c.Login(ctx, "user10001@demo.example", "demo-pass-10001"); !errors.Is(err, portal.ErrUnauthorized) {
		t.Errorf("past the count: err = %v, want ErrUnauthorized", err)
	}
	if _, err := c.Login(ctx, "user010@demo.example", "demo-pass-10"); !errors.Is(err, portal.ErrUnauthorized) {
		t.Errorf("zero-padded index: err = %v, want ErrUnauthorized", err)
	}
}

func TestConcurrentUse(t *testing.T) {
	c, _ := newDemo(t, nil)
	ctx := context.Background()
	tok := login(t, c, michaelEmail, michaelPass)
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for i := range 20 {
		wg.Go(func() {
			_, err := c.CreateTicket(ctx, tok, portal.NewTicket{Department: "technical", Subject: "load", Body: strings.Repeat("x", i+1)})
			errs <- err
		})
		wg.Go(func() {
			_, err := c.Orders(ctx, tok, 1, 10)
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	list, err := c.Tickets(ctx, tok)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 21 {
		t.Errorf("got %d tickets, want 21", len(list))
	}
}
