package portal

import (
	"strings"
	"time"
)

// WithObserver makes the Client report every call to observe, for metrics:
// op names the call by its method and route ("GET /v1/orders",
// "PUT /v1/plans/{id}/sim"), never with an id, a query, a token or a body;
// d is how long the call took, retries included; err is what the call
// returned (nil on success). observe runs on the caller's goroutine after
// the call, so it must be quick and safe for concurrent use.
func WithObserver(observe func(op string, d time.Duration, err error)) Option {
	return func(c *Client) { c.observe = observe }
}

// routes are the paths of openapi.yaml; {id} stands for one path segment.
var routes = []string{
	"/v1/auth/login",
	"/v1/auth/logout",
	"/v1/auth/password-reset",
	"/v1/me",
	"/v1/me/password",
	"/v1/me/emails",
	"/v1/me/emails/{id}",
	"/v1/me/addresses",
	"/v1/me/addresses/{id}",
	"/v1/orders",
	"/v1/orders/{id}",
	"/v1/guest/orders/lookup",
	"/v1/departments",
	"/v1/tickets",
	"/v1/tickets/{id}",
	"/v1/tickets/{id}/messages",
	"/v1/tickets/{id}/rating",
	"/v1/guest/tickets",
	"/v1/guest/tickets/{id}/messages",
	"/v1/guest/tickets/{id}/rating",
	"/v1/staff/tickets/{id}",
	"/v1/staff/tickets/{id}/messages",
	"/v1/staff/tickets/{id}/assign",
	"/v1/staff/tickets/{id}/close",
	"/v1/staff/customers",
	"/v1/payment-link",
	"/v1/plans",
	"/v1/plans/{id}",
	"/v1/plans/{id}/sim",
	"/v1/plans/{id}/dates",
	"/v1/plans/{id}/voicemail",
	"/v1/plans/{id}/apn",
	"/v1/plans/{id}/usage",
	"/v1/plans/{id}/forwarding",
}

// operation names a call for an Observer: its method and the route its
// path matches, or "other" for a path of no route, so the names form a
// small fixed set.
func operation(method, path string) string {
	path, _, _ = strings.Cut(path, "?")
	segs := strings.Split(path, "/")
	for _, r := range routes {
		rs := strings.Split(r, "/")
		if len(rs) != len(segs) {
			continue
		}
		match := true
		for i, s := range rs {
			if s == "{id}" && segs[i] != "" || s == segs[i] {
				continue
			}
			match = false
			break
		}
		if match {
			return method + " " + r
		}
	}
	return method + " other"
}
