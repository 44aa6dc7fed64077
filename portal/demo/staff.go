package demo

import (
	"maps"
	"slices"
	"strings"

	"supportbot/portal"
)

// Staff routes answer for any ticket and any customer; the staff key
// (Options.StaffKey) lets them in.

// maxQuery bounds a staff customer search, in characters.
const maxQuery = 254

// recentOrders is how many of a customer's latest orders a CustomerRecord
// holds.
const recentOrders = 5

// withTicket passes a staff handler the ticket the path names, or answers
// 404.
func (s *Server) withTicket(h func(*call, *ticket) reply) func(*call) reply {
	return func(c *call) reply {
		t := s.tickets[c.r.PathValue("id")]
		if t == nil {
			return notFound("no such ticket")
		}
		return h(c, t)
	}
}

func (s *Server) staffTicket(c *call, t *ticket) reply {
	return ok(portal.StaffTicket{Ticket: t.Ticket, Customer: s.contact(t)})
}

func (s *Server) staffReply(c *call, t *ticket) reply {
	var in struct {
		Author string `json:"author"`
		Body   string `json:"body"`
	}
	if rep := c.decode(&in); rep != nil {
		return *rep
	}
	fields := map[string]string{}
	if r := textReason(in.Author, maxName); r != "" {
		fields["author"] = r
	}
	if r := textReason(in.Body, maxBody); r != "" {
		fields["body"] = r
	}
	if len(fields) > 0 {
		return invalid(fields)
	}
	if t.Status == portal.TicketClosed {
		return conflict("the ticket is closed")
	}
	now := s.now().UTC()
	t.Messages = append(t.Messages, portal.TicketMessage{At: now, From: portal.FromStaff,
		Author: strings.TrimSpace(in.Author), Body: strings.TrimSpace(in.Body)})
	t.Status = portal.TicketPending
	t.UpdatedAt = now
	return created(t.Ticket)
}

func (s *Server) staffAssign(c *call, t *ticket) reply {
	var in struct {
		Assignee string `json:"assignee"`
	}
	if rep := c.decode(&in); rep != nil {
		return *rep
	}
	if len([]rune(in.Assignee)) > maxName {
		return invalid(map[string]string{"assignee": portal.ReasonTooLong})
	}
	t.Assignee = strings.TrimSpace(in.Assignee)
	t.UpdatedAt = s.now().UTC()
	return ok(t.Ticket)
}

func (s *Server) staffClose(c *call, t *ticket) reply {
	var in struct {
		Author     string `json:"author"`
		Resolution string `json:"resolution"`
	}
	if rep := c.decode(&in); rep != nil {
		return *rep
	}
	fields := map[string]string{}
	if r := textReason(in.Author, maxName); r != "" {
		fields["author"] = r
	}
	if len([]rune(in.Resolution)) > maxBody {
		fields["resolution"] = portal.ReasonTooLong
	}
	if len(fields) > 0 {
		return invalid(fields)
	}
	if t.Status == portal.TicketClosed {
		return ok(t.Ticket) // closing is idempotent
	}
	now := s.now().UTC()
	if res := strings.TrimSpace(in.Resolution); res != "" {
		t.Resolution = res
		t.Messages = append(t.Messages, portal.TicketMessage{At: now, From: portal.FromStaff,
			Author: strings.TrimSpace(in.Author), Body: res})
	}
	t.Status = portal.TicketClosed
	t.UpdatedAt = now
	return ok(t.Ticket)
}

func (s *Server) staffCustomers(c *call) reply {
	q := strings.TrimSpace(c.r.URL.Query().Get("q"))
	switch {
	case q == "":
		return invalid(map[string]string{"q": portal.ReasonRequired})
	case len([]rune(q)) > maxQuery:
		return invalid(map[string]string{"q": portal.ReasonTooLong})
	}
	found := map[string]*customer{}
	if strings.Contains(q, "@") {
		if cu := s.customerByEmail(q); cu != nil {
			found[cu.ID] = cu
		}
	} else {
		if o, cu := s.orderByID(q); o != nil && cu != nil {
			found[cu.ID] = cu
		}
		if n := e164Of(q); n != "" {
			for _, cu := range s.customersByPhone(n) {
				found[cu.ID] = cu
			}
		}
	}
	out := []portal.CustomerRecord{}
	for _, id := range slices.Sorted(maps.Keys(found)) {
		out = append(out, record(found[id]))
	}
	return ok(map[string]any{"customers": out})
}

// record is what staff see of cu.
func record(cu *customer) portal.CustomerRecord {
	r := portal.CustomerRecord{Customer: cu.Customer, Plans: []portal.Plan{}, Orders: []portal.Order{}, Tickets: []portal.Ticket{}}
	for _, p := range cu.plans {
		r.Plans = append(r.Plans, p.Plan)
	}
	for _, o := range cu.orders[:min(len(cu.orders), recentOrders)] {
		r.Orders = append(r.Orders, *o)
	}
	for _, t := range slices.Backward(cu.tickets) {
		if t.Status == portal.TicketClosed {
			continue
		}
		tt := t.Ticket
		tt.Messages = nil
		r.Tickets = append(r.Tickets, tt)
	}
	slices.SortStableFunc(r.Tickets, func(a, b portal.Ticket) int { return b.CreatedAt.Compare(a.CreatedAt) })
	return r
}

// customersByPhone finds the customers whose contact number or a plan's
// number is n (E.164), building a generated customer it names.
func (s *Server) customersByPhone(n string) []*customer {
	for _, p := range []string{"+97250", "+97253"} { // generated contact and plan numbers
		if i, ok := s.extraIndex(n, p, ""); ok && len(n) == len(p)+7 {
			s.materialize(i)
		}
	}
	var out []*customer
	for _, cu := range s.customers {
		if cu.Phone == n || slices.ContainsFunc(cu.plans, func(p *plan) bool { return p.Number == n }) {
			out = append(out, cu)
		}
	}
	return out
}

// e164Of reads q as a phone number and returns it in E.164 form, or ""
// when q is not one. Besides E.164 (with or without the +, or with 00) it
// takes the Israeli local form (0 and 8 or 9 digits, for +972) and the US
// forms (10 digits, or 1 and 10 digits, for +1). Spaces, hyphens, dots
// and parentheses are ignored.
func e164Of(q string) string {
	v := cleanPhone(q)
	d, plus := strings.CutPrefix(v, "+")
	if d == "" || strings.Trim(d, "0123456789") != "" {
		return ""
	}
	var n string
	switch {
	case plus:
		n = "+" + d
	case strings.HasPrefix(d, "00"):
		n = "+" + d[2:]
	case d[0] == '0' && (len(d) == 9 || len(d) == 10):
		n = "+972" + d[1:]
	case strings.HasPrefix(d, "972") && (len(d) == 11 || len(d) == 12):
		n = "+" + d
	case len(d) == 10:
		n = "+1" + d
	case len(d) == 11 && d[0] == '1':
		n = "+" + d
	}
	if !e164.MatchString(n) {
		return ""
	}
	return n
}
