package portal_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"supportbot/portal"
	"supportbot/portal/demo"
)

func TestDepartmentDescriptions(t *testing.T) {
	c, _ := newDemo(t, nil)
	deps, err := c.Departments(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range deps {
		en, he := d.Description(portal.LangEnglish), d.Description(portal.LangHebrew)
		if en == "" || he == "" || en == he {
			t.Errorf("department %s: descriptions en %q, he %q; want both, different", d.ID, en, he)
		}
	}
	d := portal.Department{About: "Payments"}
	if got := d.Description(portal.LangHebrew); got != "Payments" {
		t.Errorf("Hebrew without AboutHE = %q, want the English fallback", got)
	}
}

func TestGuestTickets(t *testing.T) {
	c, _ := newDemo(t, nil)
	ctx := context.Background()

	// A stranger's email: a guest ticket.
	gt, err := c.CreateGuestTicket(ctx, portal.GuestTicket{Email: "Guest@Example.org", Name: " Ron ", Department: "sales",
		Subject: "Family plan", Body: "Do you have family discounts?"})
	if err != nil {
		t.Fatalf("CreateGuestTicket: %v", err)
	}
	want := portal.Ticket{ID: "T-5003", Department: "sales", Subject: "Family plan", Status: portal.TicketOpen,
		CreatedAt: demo.Epoch(), UpdatedAt: demo.Epoch(),
		Messages: []portal.TicketMessage{{At: demo.Epoch(), From: portal.FromCustomer, Author: "Ron", Body: "Do you have family discounts?"}}}
	if diff := cmp.Diff(gt, want); diff != "" {
		t.Errorf("guest ticket (-got +want):\n%s", diff)
	}
	replied, err := c.AddGuestTicketMessage(ctx, gt.ID, "guest@example.ORG", "Two lines, please")
	if err != nil {
		t.Fatalf("AddGuestTicketMessage: %v", err)
	}
	if len(replied.Messages) != 2 || replied.Messages[1].Author != "Ron" {
		t.Errorf("after message: %+v", replied.Messages)
	}
	if _, err := c.AddGuestTicketMessage(ctx, gt.ID, "other@example.org", "hi"); !errors.Is(err, portal.ErrNotFound) {
		t.Errorf("wrong email: err = %v, want ErrNotFound", err)
	}
	if _, err := c.AddGuestTicketMessage(ctx, "T-9999", "guest@example.org", "hi"); !errors.Is(err, portal.ErrNotFound) {
		t.Errorf("wrong number: err = %v, want ErrNotFound", err)
	}
	if _, err := c.RateGuestTicket(ctx, gt.ID, "guest@example.org", 5); !errors.Is(err, portal.ErrConflict) {
		t.Errorf("rating an open ticket: err = %v, want ErrConflict", err)
	}

	// A registered customer's email: the ticket is theirs.
	dt, err := c.CreateGuestTicket(ctx, portal.GuestTicket{Email: "DANA.LEVI@example.com", Name: "Dana", Department: "shipping",
		Subject: "משלוח", Body: "מתי יגיע?", OrderID: "sb-104233"})
	if err != nil {
		t.Fatalf("CreateGuestTicket(dana): %v", err)
	}
	if dt.OrderID != "SB-104233" || dt.Messages[0].Author != "דנה לוי" {
		t.Errorf("dana's guest ticket: order %q, author %q", dt.OrderID, dt.Messages[0].Author)
	}
	tok := login(t, c, danaEmail, danaPass)
	list, err := c.Tickets(ctx, tok)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(list, func(x portal.Ticket) bool { return x.ID == dt.ID }) {
		t.Errorf("dana's tickets %v lack %s", list, dt.ID)
	}
	if slices.ContainsFunc(list, func(x portal.Ticket) bool { return x.ID == gt.ID }) {
		t.Errorf("dana's tickets hold the guest ticket %s", gt.ID)
	}

	_, err = c.CreateGuestTicket(ctx, portal.GuestTicket{Email: "not-an-email", Department: "legal", Subject: "x",
		OrderID: "SB-104233"})
	wantInvalid(t, err, map[string]string{"email": portal.ReasonInvalidFormat, "name": portal.ReasonRequired,
		"department": portal.ReasonUnknown, "body": portal.ReasonRequired, "order_id": portal.ReasonUnknown})
	_, err = c.CreateGuestTicket(ctx, portal.GuestTicket{Name: "Ron", Department: "sales", Subject: "x", Body: "y"})
	wantInvalid(t, err, map[string]string{"email": portal.ReasonRequired})
	// Someone else's order is unknown to a guest.
	_, err = c.CreateGuestTicket(ctx, portal.GuestTicket{Email: "guest@example.org", Name: "Ron", Department: "sales",
		Subject: "x", Body: "y", OrderID: "SB-104233"})
	wantInvalid(t, err, map[string]string{"order_id": portal.ReasonUnknown})
}

func TestRateTicket(t *testing.T) {
	c, _ := newDemo(t, nil)
	ctx := context.Background()
	tok := login(t, c, danaEmail, danaPass)
	rated, err := c.RateTicket(ctx, tok, "T-4987", 4)
	if err != nil {
		t.Fatalf("RateTicket: %v", err)
	}
	if rated.Rating != 4 {
		t.Errorf("rating = %d, want 4", rated.Rating)
	}
	again, err := c.RateTicket(ctx, tok, "T-4987", 5)
	if err != nil || again.Rating != 5 {
		t.Errorf("rating again: %d, %v; want 5", again.Rating, err)
	}
	got, err := c.Ticket(ctx, tok, "T-4987")
	if err != nil || got.Rating != 5 {
		t.Errorf("Ticket: rating %d, %v; want 5", got.Rating, err)
	}
	for _, r := range []int{0, 6, -1} {
		_, err := c.RateTicket(ctx, tok, "T-4987", r)
		wantInvalid(t, err, map[string]string{"rating": portal.ReasonOutOfRange})
	}
	if _, err := c.RateTicket(ctx, tok, "T-5001", 3); !errors.Is(err, portal.ErrConflict) {
		t.Errorf("open ticket: err = %v, want ErrConflict", err)
	}
	if _, err := c.RateTicket(ctx, tok, "T-5002", 3); !errors.Is(err, portal.ErrNotFound) {
		t.Errorf("Michael's ticket: err = %v, want ErrNotFound", err)
	}
	// A guest who gives the account's email reaches the customer's ticket.
	if g, err := c.RateGuestTicket(ctx, "T-4987", danaEmail, 2); err != nil || g.Rating != 2 {
		t.Errorf("RateGuestTicket: rating %d, %v; want 2", g.Rating, err)
	}
}

func TestStaffTickets(t *testing.T) {
	c, _ := newDemo(t, nil, portal.WithStaffKey(demo.DefaultStaffKey))
	ctx := context.Background()

	st, err := c.StaffTicket(ctx, "T-5002")
	if err != nil {
		t.Fatalf("StaffTicket: %v", err)
	}
	if st.Customer.ID != "C-1003" || st.Customer.Email != michaelEmail || len(st.Ticket.Messages) != 1 {
		t.Errorf("StaffTicket = %+v", st)
	}

	assigned, err := c.StaffAssign(ctx, "T-5002", "Avi")
	if err != nil || assigned.Assignee != "Avi" {
		t.Fatalf("StaffAssign: %+v, %v", assigned, err)
	}
	replied, err := c.StaffReply(ctx, "T-5002", "Avi (tech)", "Please restart the phone.")
	if err != nil {
		t.Fatalf("StaffReply: %v", err)
	}
	last := replied.Messages[len(replied.Messages)-1]
	if replied.Status != portal.TicketPending || last != (portal.TicketMessage{At: demo.Epoch(), From: portal.FromStaff, Author: "Avi (tech)", Body: "Please restart the phone."}) {
		t.Errorf("after reply: status %s, last %+v", replied.Status, last)
	}
	closed, err := c.StaffClose(ctx, "T-5002", "Avi (tech)", "Data works after a restart.")
	if err != nil {
		t.Fatalf("StaffClose: %v", err)
	}
	if closed.Status != portal.TicketClosed || closed.Resolution != "Data works after a restart." || len(closed.Messages) != 3 {
		t.Errorf("after close: %+v", closed)
	}
	again, err := c.StaffClose(ctx, "T-5002", "Someone", "Other words")
	if err != nil {
		t.Fatalf("StaffClose again: %v", err)
	}
	if diff := cmp.Diff(again, closed); diff != "" {
		t.Errorf("closing a closed ticket changed it (-got +want):\n%s", diff)
	}
	if _, err := c.StaffReply(ctx, "T-5002", "Avi", "more"); !errors.Is(err, portal.ErrConflict) {
		t.Errorf("reply to closed: err = %v, want ErrConflict", err)
	}
	tok := login(t, c, michaelEmail, michaelPass)
	if r, err := c.RateTicket(ctx, tok, "T-5002", 5); err != nil || r.Rating != 5 || r.Assignee != "Avi" {
		t.Errorf("customer rating after close: %+v, %v", r, err)
	}

	// A guest ticket: the customer is the guest's name and email.
	gt, err := c.CreateGuestTicket(ctx, portal.GuestTicket{Email: "guest@example.org", Name: "Ron", Department: "billing", Subject: "Refund", Body: "Where is my refund?"})
	if err != nil {
		t.Fatal(err)
	}
	st, err = c.StaffTicket(ctx, gt.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(st.Customer, portal.Customer{Name: "Ron", Email: "guest@example.org"}); diff != "" {
		t.Errorf("guest's customer (-got +want):\n%s", diff)
	}
	closedNoRes, err := c.StaffClose(ctx, gt.ID, "Michal", "")
	if err != nil || closedNoRes.Status != portal.TicketClosed || len(closedNoRes.Messages) != 1 || closedNoRes.Resolution != "" {
		t.Errorf("close without resolution: %+v, %v", closedNoRes, err)
	}

	if _, err := c.StaffTicket(ctx, "T-9999"); !errors.Is(err, portal.ErrNotFound) {
		t.Errorf("no such ticket: err = %v, want ErrNotFound", err)
	}
	_, err = c.StaffReply(ctx, "T-5001", "", " ")
	wantInvalid(t, err, map[string]string{"author": portal.ReasonRequired, "body": portal.ReasonRequired})
	_, err = c.StaffClose(ctx, "T-5001", "Avi", strings.Repeat("x", 4001))
	wantInvalid(t, err, map[string]string{"resolution": portal.ReasonTooLong})
}

func TestStaffKey(t *testing.T) {
	ctx := context.Background()
	const key = "s3cret-staff-key"
	d := demo.New(demo.Options{Now: demo.Epoch, StaffKey: key})
	c := mustClient(t, d, portal.WithStaffKey(key))
	if _, err := c.StaffTicket(ctx, "T-5001"); err != nil {
		t.Errorf("custom key: %v", err)
	}
	for name, cl := range map[string]*portal.Client{
		"default key on a custom server": mustClient(t, d, portal.WithStaffKey(demo.DefaultStaffKey)),
		"no key":                         mustClient(t, d),
	} {
		_, err := cl.StaffTicket(ctx, "T-5001")
		if !errors.Is(err, portal.ErrUnauthorized) {
			t.Errorf("%s: err = %v, want ErrUnauthorized", name, err)
		}
	}
	// A customer token is not a staff key, nor the staff key a token.
	tok := login(t, c, danaEmail, danaPass)
	if _, err := mustClient(t, d, portal.WithStaffKey(tok)).StaffTicket(ctx, "T-5001"); !errors.Is(err, portal.ErrUnauthorized) {
		t.Errorf("customer token as staff key: err = %v, want ErrUnauthorized", err)
	}
	if _, err := c.Tickets(ctx, key); !errors.Is(err, portal.ErrUnauthorized) {
		t.Errorf("staff key as token: err = %v, want ErrUnauthorized", err)
	}
	_, err := mustClient(t, d, portal.WithStaffKey("wrong-"+key)).StaffCustomers(ctx, danaEmail)
	if err == nil || strings.Contains(err.Error(), key) || strings.Contains(err.Error(), danaEmail) {
		t.Errorf("wrong key: err = %v, want an error without the key or the query", err)
	}
}

// mustClient serves d on a fresh httptest server and returns a client of it.
func mustClient(t *testing.T, d *demo.Server, opts ...portal.Option) *portal.Client {
	t.Helper()
	srv := httptest.NewServer(d)
	t.Cleanup(srv.Close)
	return portal.NewClient(srv.URL, append([]portal.Option{portal.WithHTTPClient(srv.Client()), portal.WithRetries(0)}, opts...)...)
}

func TestStaffIdempotency(t *testing.T) {
	var key string
	c, _ := newDemo(t, nil, portal.WithStaffKey(demo.DefaultStaffKey), portal.WithIdempotencyKeys(func() string { return key }))
	ctx := context.Background()
	key = "reply-1"
	first, err := c.StaffReply(ctx, "T-5002", "Avi", "Checking.")
	if err != nil {
		t.Fatal(err)
	}
	again, err := c.StaffReply(ctx, "T-5002", "Avi", "Checking.")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(again, first); diff != "" {
		t.Errorf("replayed reply (-got +want):\n%s", diff)
	}
	if _, err := c.StaffReply(ctx, "T-5002", "Avi", "Something else."); !errors.Is(err, portal.ErrConflict) {
		t.Errorf("same key, other request: err = %v, want ErrConflict", err)
	}
	key = "reply-2"
	st, err := c.StaffTicket(ctx, "T-5002")
	if err != nil {
		t.Fatal(err)
	}
	if n := len(st.Ticket.Messages); n != 2 {
		t.Errorf("got %d messages after a replayed reply, want 2", n)
	}
}

func TestStaffCustomers(t *testing.T) {
	c, _ := newDemo(t, nil, portal.WithStaffKey(demo.DefaultStaffKey))
	ctx := context.Background()
	tests := []struct {
		q    string
		want []string // customer IDs
	}{
		{"DANA.LEVI@example.com", []string{"C-1001"}},
		{"sb-104233", []string{"C-1001"}},
		{"+972523456789", []string{"C-1001"}},   // contact number
		{"052-345-6789", []string{"C-1001"}},    // Israeli local form
		{"972 52 345 6780", []string{"C-1001"}}, // a plan's number
		{"(212) 555-0147", []string{"C-1001"}},  // US plan number
		{"1-312-555-0123", []string{"C-1003"}},  // US contact; also forwarding target, not matched
		{"user7@demo.example", []string{"C-X00007"}},
		{"SB-800012", []string{"C-X00012"}},
		{"050-000-0015", []string{"C-X00015"}},  // generated contact number
		{"+972530000016", []string{"C-X00016"}}, // generated plan number
		{"nobody@example.com", nil},
		{"SB-999999", nil},
		{"+972500000021", nil}, // past ExtraCustomers
	}
	for _, tt := range tests {
		t.Run(tt.q, func(t *testing.T) {
			recs, err := c.StaffCustomers(ctx, tt.q)
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, r := range recs {
				ids = append(ids, r.Customer.ID)
			}
			if diff := cmp.Diff(ids, tt.want); diff != "" {
				t.Errorf("customers (-got +want):\n%s", diff)
			}
		})
	}

	recs, err := c.StaffCustomers(ctx, danaEmail)
	if err != nil || len(recs) != 1 {
		t.Fatalf("StaffCustomers: %v, %v", recs, err)
	}
	r := recs[0]
	var orders, tickets []string
	for _, o := range r.Orders {
		orders = append(orders, o.ID)
	}
	for _, tk := range r.Tickets {
		tickets = append(tickets, tk.ID)
		if tk.Messages != nil {
			t.Errorf("ticket %s listed with messages", tk.ID)
		}
	}
	if diff := cmp.Diff(orders, []string{"SB-104240", "SB-104233", "SB-104198", "SB-104150", "SB-103990"}); diff != "" {
		t.Errorf("orders (-got +want):\n%s", diff)
	}
	if diff := cmp.Diff(tickets, []string{"T-5001"}); diff != "" {
		t.Errorf("open tickets (-got +want):\n%s", diff)
	}
	if len(r.Plans) != 2 {
		t.Errorf("got %d plans, want 2", len(r.Plans))
	}

	_, err = c.StaffCustomers(ctx, "  ")
	wantInvalid(t, err, map[string]string{"q": portal.ReasonRequired})
}
