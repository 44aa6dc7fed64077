package portal

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
)

// Orders returns page (1-based) of the customer's orders, newest first,
// perPage to a page (1–50). Zero page or perPage take the backend's
// defaults (1 and 10). A page past the end has no orders.
func (c *Client) Orders(ctx context.Context, token string, page, perPage int) (OrderPage, error) {
	q := url.Values{}
	if page != 0 {
		q.Set("page", strconv.Itoa(page))
	}
	if perPage != 0 {
		q.Set("per_page", strconv.Itoa(perPage))
	}
	path := "/v1/orders"
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	var p OrderPage
	err := c.do(ctx, http.MethodGet, path, token, nil, &p)
	return p, err
}

// Order returns one of the customer's orders; another customer's order
// returns ErrNotFound.
func (c *Client) Order(ctx context.Context, token, id string) (Order, error) {
	var o Order
	err := c.do(ctx, http.MethodGet, "/v1/orders/"+url.PathEscape(id), token, nil, &o)
	return o, err
}

// GuestOrder looks an order up without logging in, by its number and the
// email it was placed with. A wrong number and a wrong email both return
// ErrNotFound, so the answer reveals neither.
func (c *Client) GuestOrder(ctx context.Context, orderID, email string) (Order, error) {
	in := struct {
		OrderID string `json:"order_id"`
		Email   string `json:"email"`
	}{orderID, email}
	var o Order
	err := c.do(ctx, http.MethodPost, "/v1/guest/orders/lookup", "", in, &o)
	return o, err
}
