package demo

import (
	"fmt"
	"slices"
	"strings"

	"supportbot/portal"
)

// Ticket text limits, in characters.
const (
	maxSubject = 120
	maxBody    = 4000
)

func (s *Server) listDepartments(c *call) reply {
	return ok(map[string]any{"departments": s.departments})
}

func (s *Server) listTickets(c *call) reply {
	out := []portal.Ticket{}
	for _, t := range slices.Backward(c.cust.tickets) {
		tt := t.Ticket
		tt.Messages = nil
		out = append(out, tt)
	}
	slices.SortStableFunc(out, func(a, b portal.Ticket) int { return b.CreatedAt.Compare(a.CreatedAt) })
	return ok(map[string]any{"tickets": out})
}

func (s *Server) getTicket(c *call) reply {
	t := s.tickets[c.r.PathValue("id")]
	if t == nil || t.owner != c.cust.ID {
		return notFound("no such ticket")
	}
	return ok(t.Ticket)
}

// textReason checks a required text field of at most max characters.
func textReason(v string, max int) string {
	switch {
	case strings.TrimSpace(v) == "":
		return portal.ReasonRequired
	case len([]rune(v)) > max:
		return portal.ReasonTooLong
	}
	return ""
}

// ticketFields checks what every new ticket needs: a known department, a
// subject and a body.
func (s *Server) ticketFields(department, subject, body string) map[string]string {
	fields := map[string]string{}
	switch {
	case department == "":
		fields["department"] = portal.ReasonRequired
	case !slices.ContainsFunc(s.departments, func(d portal.Department) bool { return d.ID == department }):
		fields["department"] = portal.ReasonUnknown
	}
	if r := textReason(subject, maxSubject); r != "" {
		fields["subject"] = r
	}
	if r := textReason(body, maxBody); r != "" {
		fields["body"] = r
	}
	return fields
}

// openTicket files a checked new ticket for cu, or, when cu is nil, as a
// guest ticket of guest.
func (s *Server) openTicket(cu *customer, guest portal.Customer, in portal.NewTicket) *ticket {
	now := s.now().UTC()
	t := &ticket{Ticket: portal.Ticket{
		ID: fmt.Sprintf("T-%d", s.nextTicket), Department: in.Department,
		Subject: strings.TrimSpace(in.Subject), Status: portal.TicketOpen,
		OrderID: in.OrderID, PlanID: in.PlanID, CreatedAt: now, UpdatedAt: now,
	}}
	author := guest.Name
	if cu != nil {
		t.owner, author = cu.ID, cu.Name
		cu.tickets = append(cu.tickets, t)
	} else {
		t.guestEmail, t.guestName = guest.Email, guest.Name
	}
	t.Messages = []portal.TicketMessage{{At: now, From: portal.FromCustomer, Author: author, Body: strings.TrimSpace(in.Body)}}
	s.nextTicket++
	s.tickets[t.ID] = t
	return t
}

func (s *Server) createTicket(c *call) reply {
	var in portal.NewTicket
	if rep := c.decode(&in); rep != nil {
		return *rep
	}
	fields := s.ticketFields(in.Department, in.Subject, in.Body)
	if in.OrderID != "" {
		if o, owner := s.orderByID(in.OrderID); o == nil || owner != c.cust {
			fields["order_id"] = portal.ReasonUnknown
		} else {
			in.OrderID = o.ID
		}
	}
	if in.PlanID != "" && c.cust.plan(in.PlanID) == nil {
		fields["plan_id"] = portal.ReasonUnknown
	}
	if len(fields) > 0 {
		return invalid(fields)
	}
	return created(s.openTicket(c.cust, portal.Customer{}, in).Ticket)
}

func (s *Server) addTicketMessage(c *call) reply {
	var in struct {
		Body string `json:"body"`
	}
	if rep := c.decode(&in); rep != nil {
		return *rep
	}
	t := s.tickets[c.r.PathValue("id")]
	if t == nil || t.owner != c.cust.ID {
		return notFound("no such ticket")
	}
	if r := textReason(in.Body, maxBody); r != "" {
		return invalid(map[string]string{"body": r})
	}
	if t.Status == portal.TicketClosed {
		return conflict("the ticket is closed; open a new one")
	}
	now := s.now().UTC()
	t.Messages = append(t.Messages, portal.TicketMessage{At: now, From: portal.FromCustomer, Author: c.cust.Name, Body: strings.TrimSpace(in.Body)})
	t.Status = portal.TicketOpen
	t.UpdatedAt = now
	return created(t.Ticket)
}

// maxName bounds a guest's name, in characters.
const maxName = 100

func (s *Server) rateTicket(c *call) reply {
	var in struct {
		Rating *int `json:"rating"`
	}
	if rep := c.decode(&in); rep != nil {
		return *rep
	}
	t := s.tickets[c.r.PathValue("id")]
	if t == nil || t.owner != c.cust.ID {
		return notFound("no such ticket")
	}
	return s.rate(t, in.Rating)
}

// rate sets t's rating: the ticket must be closed.
func (s *Server) rate(t *ticket, rating *int) reply {
	switch {
	case rating == nil:
		return invalid(map[string]string{"rating": portal.ReasonRequired})
	case *rating < portal.MinRating || *rating > portal.MaxRating:
		return invalid(map[string]string{"rating": portal.ReasonOutOfRange})
	case t.Status != portal.TicketClosed:
		return conflict("only a closed ticket can be rated")
	}
	t.Rating = *rating
	t.UpdatedAt = s.now().UTC()
	return ok(t.Ticket)
}

// contact is who opened t: its customer, or the guest's name and email.
func (s *Server) contact(t *ticket) portal.Customer {
	if cu := s.customers[t.owner]; cu != nil {
		return cu.Customer
	}
	return portal.Customer{Name: t.guestName, Email: t.guestEmail}
}

// guestTicket finds ticket id for a guest who gives email: a guest ticket
// opened with it, or a ticket of the customer who has it. A wrong email
// finds nothing, as a wrong number does.
func (s *Server) guestTicket(id, email string) *ticket {
	t := s.tickets[id]
	if t == nil || !strings.EqualFold(s.contact(t).Email, strings.TrimSpace(email)) {
		return nil
	}
	return t
}

func (s *Server) createGuestTicket(c *call) reply {
	var in portal.GuestTicket
	if rep := c.decode(&in); rep != nil {
		return *rep
	}
	email := strings.TrimSpace(in.Email)
	fields := s.ticketFields(in.Department, in.Subject, in.Body)
	if r := emailReason(email); r != "" {
		fields["email"] = r
	}
	if r := textReason(in.Name, maxName); r != "" {
		fields["name"] = r
	}
	var cu *customer
	if fields["email"] == "" {
		cu = s.customerByEmail(email)
	}
	if in.OrderID != "" {
		// The order must have been placed with that email, or be the
		// customer's.
		if o, owner := s.orderByID(in.OrderID); o == nil || !strings.EqualFold(o.Email, email) && (cu == nil || owner != cu) {
			fields["order_id"] = portal.ReasonUnknown
		} else {
			in.OrderID = o.ID
		}
	}
	if len(fields) > 0 {
		return invalid(fields)
	}
	guest := portal.Customer{Name: strings.TrimSpace(in.Name), Email: email}
	nt := portal.NewTicket{Department: in.Department, Subject: in.Subject, Body: in.Body, OrderID: in.OrderID}
	return created(s.openTicket(cu, guest, nt).Ticket)
}

func (s *Server) addGuestTicketMessage(c *call) reply {
	var in struct {
		Email string `json:"email"`
		Body  string `json:"body"`
	}
	if rep := c.decode(&in); rep != nil {
		return *rep
	}
	fields := map[string]string{}
	if strings.TrimSpace(in.Email) == "" {
		fields["email"] = portal.ReasonRequired
	}
	if r := textReason(in.Body, maxBody); r != "" {
		fields["body"] = r
	}
	if len(fields) > 0 {
		return invalid(fields)
	}
	t := s.guestTicket(c.r.PathValue("id"), in.Email)
	if t == nil {
		return notFound("no ticket matches that number and email")
	}
	if t.Status == portal.TicketClosed {
		return conflict("the ticket is closed; open a new one")
	}
	now := s.now().UTC()
	t.Messages = append(t.Messages, portal.TicketMessage{At: now, From: portal.FromCustomer, Author: s.contact(t).Name, Body: strings.TrimSpace(in.Body)})
	t.Status = portal.TicketOpen
	t.UpdatedAt = now
	return created(t.Ticket)
}

func (s *Server) rateGuestTicket(c *call) reply {
	var in struct {
		Email  string `json:"email"`
		Rating *int   `json:"rating"`
	}
	if rep := c.decode(&in); rep != nil {
		return *rep
	}
	if strings.TrimSpace(in.Email) == "" {
		return invalid(map[string]string{"email": portal.ReasonRequired})
	}
	t := s.guestTicket(c.r.PathValue("id"), in.Email)
	if t == nil {
		return notFound("no ticket matches that number and email")
	}
	return s.rate(t, in.Rating)
}
