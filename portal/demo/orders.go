package demo

import (
	"strconv"
	"strings"

	"supportbot/portal"
)

// Page sizes of GET /v1/orders.
const (
	defaultPerPage = 10
	maxPerPage     = 50
)

func (s *Server) listOrders(c *call) reply {
	q := c.r.URL.Query()
	fields := map[string]string{}
	page := intParam(q.Get("page"), 1, 1, 1<<20, "page", fields)
	per := intParam(q.Get("per_page"), defaultPerPage, 1, maxPerPage, "per_page", fields)
	if len(fields) > 0 {
		return invalid(fields)
	}
	all := c.cust.orders
	p := portal.OrderPage{Orders: []portal.Order{}, Page: page, PerPage: per, Total: len(all)}
	for i := (page - 1) * per; i < len(all) && i < page*per; i++ {
		p.Orders = append(p.Orders, *all[i])
	}
	return ok(p)
}

// intParam parses a query parameter in [lo, hi], def when empty, and
// records a field reason otherwise.
func intParam(v string, def, lo, hi int, name string, fields map[string]string) int {
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	switch {
	case err != nil:
		fields[name] = portal.ReasonInvalidFormat
	case n < lo || n > hi:
		fields[name] = portal.ReasonOutOfRange
	}
	return n
}

func (s *Server) getOrder(c *call) reply {
	o, owner := s.orderByID(c.r.PathValue("id"))
	if o == nil || owner != c.cust {
		return notFound("no such order")
	}
	return ok(o)
}

func (s *Server) guestLookup(c *call) reply {
	var in struct {
		OrderID string `json:"order_id"`
		Email   string `json:"email"`
	}
	if rep := c.decode(&in); rep != nil {
		return *rep
	}
	fields := map[string]string{}
	if strings.TrimSpace(in.OrderID) == "" {
		fields["order_id"] = portal.ReasonRequired
	}
	if strings.TrimSpace(in.Email) == "" {
		fields["email"] = portal.ReasonRequired
	}
	if len(fields) > 0 {
		return invalid(fields)
	}
	o, _ := s.orderByID(in.OrderID)
	if o == nil || !strings.EqualFold(o.Email, strings.TrimSpace(in.Email)) {
		// The same answer for a wrong number and a wrong email.
		return notFound("no order matches that number and email")
	}
	return ok(o)
}
