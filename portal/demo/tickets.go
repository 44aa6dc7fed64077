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

func (s *Server) createTicket(c *call) reply {
	var in portal.NewTicket
	if rep := c.decode(&in); rep != nil {
		return *rep
	}
	fields := map[string]string{}
	switch {
	case in.Department == "":
		fields["department"] = portal.ReasonRequired
	case !slices.ContainsFunc(s.departments, func(d portal.Department) bool { return d.ID == in.Department }):
		fields["department"] = portal.ReasonUnknown
	}
	if r := textReason(in.Subject, maxSubject); r != "" {
		fields["subject"] = r
	}
	if r := textReason(in.Body, maxBody); r != "" {
		fields["body"] = r
	}
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
	now := s.now().UTC()
	t := &ticket{owner: c.cust.ID, Ticket: portal.Ticket{
		ID: fmt.Sprintf("T-%d", s.nextTicket), Department: in.Department,
		Subject: strings.TrimSpace(in.Subject), Status: portal.TicketOpen,
		OrderID: in.OrderID, PlanID: in.PlanID, CreatedAt: now, UpdatedAt: now,
		Messages: []portal.TicketMessage{{At: now, From: portal.FromCustomer, Author: c.cust.Name, Body: strings.TrimSpace(in.Body)}},
	}}
	s.nextTicket++
	s.tickets[t.ID] = t
	c.cust.tickets = append(c.cust.tickets, t)
	return created(t.Ticket)
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
