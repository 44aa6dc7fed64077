package portal

import (
	"bytes"
	"context"
	crand "crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Defaults of a Client.
const (
	DefaultTimeout = 5 * time.Second
	DefaultRetries = 2
	DefaultBackoff = 200 * time.Millisecond
)

// maxBackoff caps one wait between attempts.
const maxBackoff = 5 * time.Second

// maxBody caps how much of a response is read.
const maxBody = 8 << 20

// IdempotencyHeader is the request header that makes a write safe to retry:
// the backend applies a write once per key and replays its first answer to
// a retry with the same key.
const IdempotencyHeader = "Idempotency-Key"

// Client speaks the portal's HTTP contract (openapi.yaml). It is safe for
// concurrent use.
//
// Every method returns, wrapped: ErrUnauthorized for a bad token or bad
// credentials, ErrNotFound, ErrConflict, an *InvalidError (errors.Is
// ErrInvalid) with field reasons, or ErrUnavailable when the backend cannot
// be reached, times out or answers 5xx. Errors never contain tokens,
// passwords or request bodies.
//
// GET calls are retried on transport errors and on 502, 503 and 504, with
// jittered exponential backoff. Every write carries a fresh Idempotency-Key,
// or the one pinned with WithIdempotencyKey; a write is retried, with the
// same key, only when no response arrived.
type Client struct {
	baseURL string
	hc      *http.Client
	timeout time.Duration
	retries int
	backoff time.Duration
	newKey  func() string
	observe func(op string, d time.Duration, err error)
	// staffKey authorises the staff methods (WithStaffKey). A secret:
	// never logged, never in an error.
	staffKey string
}

// Option configures a Client.
type Option func(*Client)

// WithHTTPClient makes the Client send requests through hc instead of
// http.DefaultClient.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) { c.hc = hc }
}

// WithTimeout bounds each HTTP attempt (default DefaultTimeout); the
// caller's context bounds the whole call, retries included. d <= 0 means no
// per-attempt bound.
func WithTimeout(d time.Duration) Option {
	return func(c *Client) { c.timeout = d }
}

// WithRetries sets how many times a failed call is retried (default
// DefaultRetries); 0 disables retries.
func WithRetries(n int) Option {
	return func(c *Client) { c.retries = max(n, 0) }
}

// WithBackoff sets the base wait before the first retry (default
// DefaultBackoff). The wait doubles on each further retry and is jittered
// to between half and all of it.
func WithBackoff(base time.Duration) Option {
	return func(c *Client) { c.backoff = max(base, 0) }
}

// WithIdempotencyKeys replaces the generator of Idempotency-Key values
// (default: 128 random bits from crypto/rand). Tests use it to pin keys.
func WithIdempotencyKeys(gen func() string) Option {
	return func(c *Client) { c.newKey = gen }
}

// idemKeyCtx is the context key of a pinned Idempotency-Key.
type idemKeyCtx struct{}

// WithIdempotencyKey returns a copy of ctx that makes the Client send key
// as the Idempotency-Key of a write made with it, instead of a fresh one.
// A caller that keeps key across separate calls (such as the bot, in the
// customer's session) can repeat a write after a timeout or a crash and
// have it applied at most once: the backend replays the first answer. Every
// write made with the returned ctx carries key, so use it for one write
// only; reusing it for a different request gets ErrConflict. An empty key
// changes nothing.
func WithIdempotencyKey(ctx context.Context, key string) context.Context {
	return context.WithValue(ctx, idemKeyCtx{}, key)
}

// NewClient returns a Client for the backend at baseURL, such as
// "https://portal.example.com" (the /v1 prefix is added by the Client).
func NewClient(baseURL string, opts ...Option) *Client {
	c := &Client{
		baseURL: strings.TrimRight(baseURL, "/"),
		hc:      http.DefaultClient,
		timeout: DefaultTimeout,
		retries: DefaultRetries,
		backoff: DefaultBackoff,
		newKey:  crand.Text,
	}
	for _, o := range opts {
		o(c)
	}
	return c
}

// do sends one call: in (if not nil) as the JSON body, token (if not
// empty) as the bearer token, and decodes a 2xx answer into out (if not
// nil). path starts with "/v1/" and is already escaped. The observer, if
// any, hears of it.
func (c *Client) do(ctx context.Context, method, path, token string, in, out any) error {
	if c.observe == nil {
		return c.call(ctx, method, path, token, in, out)
	}
	start := time.Now()
	err := c.call(ctx, method, path, token, in, out)
	c.observe(operation(method, path), time.Since(start), err)
	return err
}

// call is do without the observer.
func (c *Client) call(ctx context.Context, method, path, token string, in, out any) error {
	// Errors name the path without its query, which may hold an email or
	// a phone number (StaffCustomers).
	shown, _, _ := strings.Cut(path, "?")
	var body []byte
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return fmt.Errorf("portal: %s %s: encode request: %w", method, shown, err)
		}
	}
	if _, err := url.Parse(c.baseURL + path); err != nil {
		return fmt.Errorf("portal: %s %s: bad base URL: %w", method, shown, err)
	}
	safe := method == http.MethodGet
	var key string
	if !safe {
		if k, _ := ctx.Value(idemKeyCtx{}).(string); k != "" {
			key = k
		} else {
			key = c.newKey()
		}
	}
	var lastErr error
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			if err := c.wait(ctx, attempt); err != nil {
				return fmt.Errorf("portal: %s %s: %w: %w (after %w)", method, shown, ErrUnavailable, err, lastErr)
			}
		}
		status, data, responded, err := c.once(ctx, method, path, token, key, body)
		if err != nil {
			retry := (safe || !responded) && attempt < c.retries && ctx.Err() == nil
			if retry {
				lastErr = err
				continue
			}
			return fmt.Errorf("portal: %s %s: %w: %w", method, shown, ErrUnavailable, err)
		}
		if safe && attempt < c.retries && retryable(status) {
			lastErr = fmt.Errorf("status %d", status)
			continue
		}
		return decode(method, shown, status, data, out)
	}
}

// once makes one HTTP attempt. responded reports whether a response
// status arrived, even if reading its body then failed.
func (c *Client) once(ctx context.Context, method, path, token, key string, body []byte) (status int, data []byte, responded bool, err error) {
	if c.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.timeout)
		defer cancel()
	}
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.baseURL+path, r)
	if err != nil {
		return 0, nil, false, err
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "supportbot-portal/1")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if key != "" {
		req.Header.Set(IdempotencyHeader, key)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		if ue, ok := err.(*url.Error); ok {
			ue.URL, _, _ = strings.Cut(ue.URL, "?") // the query may hold personal data
		}
		return 0, nil, false, err
	}
	defer resp.Body.Close()
	data, err = io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return resp.StatusCode, nil, true, fmt.Errorf("read response: %w", err)
	}
	return resp.StatusCode, data, true, nil
}

// wait sleeps before retry number attempt (1-based), or until ctx is done.
func (c *Client) wait(ctx context.Context, attempt int) error {
	d := c.backoff << (attempt - 1)
	if d > maxBackoff || d < 0 {
		d = maxBackoff
	}
	if d > 0 {
		d = d/2 + rand.N(d/2+1)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func retryable(status int) bool {
	switch status {
	case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// decode maps an answer to out or to an error.
func decode(method, path string, status int, data []byte, out any) error {
	if status >= 200 && status < 300 {
		if out == nil || status == http.StatusNoContent || len(data) == 0 {
			return nil
		}
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("portal: %s %s: decode response: %w", method, path, err)
		}
		return nil
	}
	var e ErrorResponse
	_ = json.Unmarshal(data, &e) // the body is optional; the status decides
	var err error
	switch {
	case status == http.StatusUnauthorized:
		err = ErrUnauthorized
	case status == http.StatusNotFound:
		err = ErrNotFound
	case status == http.StatusConflict:
		err = ErrConflict
	case status == http.StatusUnprocessableEntity || status == http.StatusBadRequest:
		err = &InvalidError{Message: e.Error.Message, Fields: e.Error.Fields}
	case status >= 500 || status == http.StatusTooManyRequests:
		return fmt.Errorf("portal: %s %s: %w (status %d)", method, path, ErrUnavailable, status)
	default:
		return fmt.Errorf("portal: %s %s: unexpected status %d", method, path, status)
	}
	return fmt.Errorf("portal: %s %s: %w", method, path, err)
}
