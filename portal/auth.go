package portal

import (
	"context"
	"net/http"
)

// Login exchanges an email and password for a token. Wrong credentials
// return ErrUnauthorized.
func (c *Client) Login(ctx context.Context, email, password string) (Auth, error) {
	in := struct {
		Email    string `json:"email"`
		Password string `json:"password"`
	}{email, password}
	var a Auth
	err := c.do(ctx, http.MethodPost, "/v1/auth/login", "", in, &a)
	return a, err
}

// Logout revokes token. A token that is already revoked or unknown returns
// ErrUnauthorized, which callers may treat as logged out.
func (c *Client) Logout(ctx context.Context, token string) error {
	return c.do(ctx, http.MethodPost, "/v1/auth/logout", token, nil, nil)
}

// RequestPasswordReset asks the backend to email a reset link. It succeeds
// whether or not an account has that email, so it reveals nothing.
func (c *Client) RequestPasswordReset(ctx context.Context, email string) error {
	in := struct {
		Email string `json:"email"`
	}{email}
	return c.do(ctx, http.MethodPost, "/v1/auth/password-reset", "", in, nil)
}

// Me returns the logged-in customer.
func (c *Client) Me(ctx context.Context, token string) (Customer, error) {
	var cu Customer
	err := c.do(ctx, http.MethodGet, "/v1/me", token, nil, &cu)
	return cu, err
}

// UpdateMe changes the customer's name, email or language and returns the
// updated profile. An email already used by another account returns
// ErrConflict; a malformed one an *InvalidError.
func (c *Client) UpdateMe(ctx context.Context, token string, u ProfileUpdate) (Customer, error) {
	var cu Customer
	err := c.do(ctx, http.MethodPatch, "/v1/me", token, u, &cu)
	return cu, err
}

// ChangePassword replaces the customer's password. A wrong current password
// returns an *InvalidError with current_password=incorrect; a new one
// shorter than 8 characters new_password=too_short.
func (c *Client) ChangePassword(ctx context.Context, token, current, next string) error {
	in := struct {
		Current string `json:"current_password"`
		New     string `json:"new_password"`
	}{current, next}
	return c.do(ctx, http.MethodPost, "/v1/me/password", token, in, nil)
}
