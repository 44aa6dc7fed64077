package portal

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
)

// WithStaffKey sets the key that authorises the staff methods (StaffTicket,
// StaffReply, StaffAssign, StaffClose, StaffCustomers); it is sent as the
// bearer token. It is a secret: the Client never logs it or puts it in an
// error. Without it the staff methods fail without calling the backend.
func WithStaffKey(key string) Option {
	return func(c *Client) { c.staffKey = key }
}

// staff makes a staff call with the staff key. Without a key it returns
// ErrUnauthorized, as the backend would, without calling it.
func (c *Client) staff(ctx context.Context, method, path string, in, out any) error {
	if c.staffKey == "" {
		return fmt.Errorf("portal: %s %s: no staff key (WithStaffKey): %w", method, path, ErrUnauthorized)
	}
	return c.do(ctx, method, path, c.staffKey, in, out)
}

// StaffTicket returns any ticket, with its messages and its customer.
func (c *Client) StaffTicket(ctx context.Context, id string) (StaffTicket, error) {
	var out StaffTicket
	err := c.staff(ctx, http.MethodGet, "/v1/staff/tickets/"+url.PathEscape(id), nil, &out)
	return out, err
}

// StaffReply adds staff's message, signed by author, to a ticket and
// returns the ticket, now pending (waiting for the customer). A closed
// ticket returns ErrConflict.
func (c *Client) StaffReply(ctx context.Context, id, author, body string) (Ticket, error) {
	in := struct {
		Author string `json:"author"`
		Body   string `json:"body"`
	}{author, body}
	var out Ticket
	err := c.staff(ctx, http.MethodPost, "/v1/staff/tickets/"+url.PathEscape(id)+"/messages", in, &out)
	return out, err
}

// StaffAssign gives a ticket to assignee (empty: nobody) and returns it.
func (c *Client) StaffAssign(ctx context.Context, id, assignee string) (Ticket, error) {
	in := struct {
		Assignee string `json:"assignee"`
	}{assignee}
	var out Ticket
	err := c.staff(ctx, http.MethodPost, "/v1/staff/tickets/"+url.PathEscape(id)+"/assign", in, &out)
	return out, err
}

// StaffClose closes a ticket and returns it. A resolution, if not empty,
// is kept on the ticket and added as author's message. Closing a closed
// ticket changes nothing and succeeds.
func (c *Client) StaffClose(ctx context.Context, id, author, resolution string) (Ticket, error) {
	in := struct {
		Author     string `json:"author"`
		Resolution string `json:"resolution,omitempty"`
	}{author, resolution}
	var out Ticket
	err := c.staff(ctx, http.MethodPost, "/v1/staff/tickets/"+url.PathEscape(id)+"/close", in, &out)
	return out, err
}

// StaffCustomers finds customers by q: an email (case-insensitive), an
// order number, or a phone number (the contact number or a plan's, in
// E.164, Israeli local 0… or US forms). No match returns an empty list; an
// empty q an *InvalidError with q=required.
func (c *Client) StaffCustomers(ctx context.Context, q string) ([]CustomerRecord, error) {
	var out struct {
		Customers []CustomerRecord `json:"customers"`
	}
	err := c.staff(ctx, http.MethodGet, "/v1/staff/customers?"+url.Values{"q": {q}}.Encode(), nil, &out)
	return out.Customers, err
}
