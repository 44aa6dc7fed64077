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

// RateTicket rates one of the customer's closed tickets from MinRating to
// MaxRating and returns the ticket; rating again replaces the rating. A
// ticket that is not closed returns ErrConflict; a rating out of range an
// *InvalidError with rating=out_of_range.
func (c *Client) RateTicket(ctx context.Context, token, id string, rating int) (Ticket, error) {
	in := struct {
		Rating int `json:"rating"`
	}{rating}
	var out Ticket
	err := c.do(ctx, http.MethodPost, "/v1/tickets/"+url.PathEscape(id)+"/rating", token, in, &out)
	return out, err
}

// CreateGuestTicket opens a ticket without logging in and returns it with
// its number. When a registered customer has t.Email (case-insensitive),
// the ticket is theirs and shows in their Tickets. It validates like
// CreateTicket, and also needs a well-formed email and a name; an order
// must have been placed with that email.
func (c *Client) CreateGuestTicket(ctx context.Context, t GuestTicket) (Ticket, error) {
	var out Ticket
	err := c.do(ctx, http.MethodPost, "/v1/guest/tickets", "", t, &out)
	return out, err
}

// AddGuestTicketMessage adds a message to a ticket without logging in and
// returns the ticket. email must be the ticket's (case-insensitive): a
// wrong one returns ErrNotFound, like a wrong ticket number. A closed
// ticket returns ErrConflict.
func (c *Client) AddGuestTicketMessage(ctx context.Context, id, email, body string) (Ticket, error) {
	in := struct {
		Email string `json:"email"`
		Body  string `json:"body"`
	}{email, body}
	var out Ticket
	err := c.do(ctx, http.MethodPost, "/v1/guest/tickets/"+url.PathEscape(id)+"/messages", "", in, &out)
	return out, err
}

// RateGuestTicket is RateTicket without logging in: email must be the
// ticket's, or it returns ErrNotFound.
func (c *Client) RateGuestTicket(ctx context.Context, id, email string, rating int) (Ticket, error) {
	in := struct {
		Email  string `json:"email"`
		Rating int    `json:"rating"`
	}{email, rating}
	var out Ticket
	err := c.do(ctx, http.MethodPost, "/v1/guest/tickets/"+url.PathEscape(id)+"/rating", "", in, &out)
	return out, err
}
