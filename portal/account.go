package portal

import (
	"context"
	"net/http"
	"net/url"
)

// Emails returns the customer's additional email addresses.
func (c *Client) Emails(ctx context.Context, token string) ([]ExtraEmail, error) {
	var out struct {
		Emails []ExtraEmail `json:"emails"`
	}
	err := c.do(ctx, http.MethodGet, "/v1/me/emails", token, nil, &out)
	return out.Emails, err
}

// AddEmail adds an additional email address receiving the notifications in
// n. An address already on the account returns ErrConflict; a malformed
// one an *InvalidError.
func (c *Client) AddEmail(ctx context.Context, token, email string, n Notify) (ExtraEmail, error) {
	in := struct {
		Email  string `json:"email"`
		Notify Notify `json:"notify"`
	}{email, n}
	var e ExtraEmail
	err := c.do(ctx, http.MethodPost, "/v1/me/emails", token, in, &e)
	return e, err
}

// UpdateEmail replaces the notifications an additional email receives.
func (c *Client) UpdateEmail(ctx context.Context, token, id string, n Notify) (ExtraEmail, error) {
	in := struct {
		Notify Notify `json:"notify"`
	}{n}
	var e ExtraEmail
	err := c.do(ctx, http.MethodPatch, "/v1/me/emails/"+url.PathEscape(id), token, in, &e)
	return e, err
}

// DeleteEmail removes an additional email address.
func (c *Client) DeleteEmail(ctx context.Context, token, id string) error {
	return c.do(ctx, http.MethodDelete, "/v1/me/emails/"+url.PathEscape(id), token, nil, nil)
}

// Addresses returns the customer's address book.
func (c *Client) Addresses(ctx context.Context, token string) ([]Address, error) {
	var out struct {
		Addresses []Address `json:"addresses"`
	}
	err := c.do(ctx, http.MethodGet, "/v1/me/addresses", token, nil, &out)
	return out.Addresses, err
}

// AddAddress adds a to the address book (a.ID is ignored) and returns it
// with its ID. Setting a default flag moves it from the other addresses.
// Missing or malformed fields return an *InvalidError.
func (c *Client) AddAddress(ctx context.Context, token string, a Address) (Address, error) {
	a.ID = ""
	var out Address
	err := c.do(ctx, http.MethodPost, "/v1/me/addresses", token, a, &out)
	return out, err
}

// UpdateAddress replaces the address book entry id with a (a.ID is
// ignored) and returns it.
func (c *Client) UpdateAddress(ctx context.Context, token, id string, a Address) (Address, error) {
	a.ID = ""
	var out Address
	err := c.do(ctx, http.MethodPut, "/v1/me/addresses/"+url.PathEscape(id), token, a, &out)
	return out, err
}
