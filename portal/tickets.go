package portal

import (
	"context"
	"net/http"
	"net/url"
)

// Departments returns the support departments a ticket can go to. It needs
// no token.
func (c *Client) Departments(ctx context.Context) ([]Department, error) {
	var out struct {
		Departments []Department `json:"departments"`
	}
	err := c.do(ctx, http.MethodGet, "/v1/departments", "", nil, &out)
	return out.Departments, err
}

// Tickets returns the customer's tickets, newest first, without their
// messages.
func (c *Client) Tickets(ctx context.Context, token string) ([]Ticket, error) {
	var out struct {
		Tickets []Ticket `json:"tickets"`
	}
	err := c.do(ctx, http.MethodGet, "/v1/tickets", token, nil, &out)
	return out.Tickets, err
}

// Ticket returns one of the customer's tickets with its messages.
func (c *Client) Ticket(ctx context.Context, token, id string) (Ticket, error) {
	var t Ticket
	err := c.do(ctx, http.MethodGet, "/v1/tickets/"+url.PathEscape(id), token, nil, &t)
	return t, err
}

// CreateTicket opens a ticket and returns it with its number. An unknown
// department, order or plan, or a missing subject or body, returns an
// *InvalidError.
func (c *Client) CreateTicket(ctx context.Context, token string, t NewTicket) (Ticket, error) {
	var out Ticket
	err := c.do(ctx, http.MethodPost, "/v1/tickets", token, t, &out)
	return out, err
}

// AddTicketMessage adds the customer's message to a ticket and returns the
// ticket. A closed ticket returns ErrConflict.
func (c *Client) AddTicketMessage(ctx context.Context, token, id, body string) (Ticket, error) {
	in := struct {
		Body string `json:"body"`
	}{body}
	var out Ticket
	err := c.do(ctx, http.MethodPost, "/v1/tickets/"+url.PathEscape(id)+"/messages", token, in, &out)
	return out, err
}
