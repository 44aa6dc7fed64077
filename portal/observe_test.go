package portal_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"supportbot/portal"
)

// TestObserver runs calls with ids in their paths and queries against the
// demo backend: the observer hears each once, named by its route, never by
// an id, a query, a token or an email.
func TestObserver(t *testing.T) {
	type heard struct {
		op  string
		err error
	}
	var mu sync.Mutex
	var got []heard
	c, _ := newDemo(t, nil, portal.WithObserver(func(op string, d time.Duration, err error) {
		if d <= 0 {
			t.Errorf("%s took %v, want a positive duration", op, d)
		}
		mu.Lock()
		defer mu.Unlock()
		got = append(got, heard{op, err})
	}))
	ctx := context.Background()
	token := login(t, c, danaEmail, danaPass)
	calls := []struct {
		call    func() error
		wantOp  string
		wantErr error
	}{
		{func() error { _, err := c.Plan(ctx, token, "P-2001"); return err }, "GET /v1/plans/{id}", nil},
		{func() error { _, err := c.Usage(ctx, token, "P-2001"); return err }, "GET /v1/plans/{id}/usage", nil},
		{func() error { _, err := c.Plan(ctx, token, "P-9999"); return err }, "GET /v1/plans/{id}", portal.ErrNotFound},
		{func() error { _, err := c.Orders(ctx, token, 2, 5); return err }, "GET /v1/orders", nil},
		{func() error { _, err := c.Order(ctx, token, "SB-104233"); return err }, "GET /v1/orders/{id}", nil},
		{func() error { _, err := c.GuestOrder(ctx, "SB-104233", danaEmail); return err }, "POST /v1/guest/orders/lookup", nil},
		{func() error { _, err := c.Departments(ctx); return err }, "GET /v1/departments", nil},
		{func() error { _, err := c.Me(ctx, "not-a-token"); return err }, "GET /v1/me", portal.ErrUnauthorized},
	}
	want := []string{"POST /v1/auth/login"}
	for _, cl := range calls {
		if err := cl.call(); !errors.Is(err, cl.wantErr) {
			t.Errorf("%s: err = %v, want %v", cl.wantOp, err, cl.wantErr)
		}
		want = append(want, cl.wantOp)
	}
	mu.Lock()
	defer mu.Unlock()
	var ops []string
	for i, h := range got {
		ops = append(ops, h.op)
		for _, secret := range []string{"P-2001", "P-9999", "SB-104233", token, danaEmail, "page", "?"} {
			if strings.Contains(h.op, secret) {
				t.Errorf("op %q holds %q", h.op, secret)
			}
		}
		if i > 0 && (h.err == nil) != (calls[i-1].wantErr == nil) {
			t.Errorf("%s: observer heard err %v, want %v", h.op, h.err, calls[i-1].wantErr)
		}
	}
	if diff := cmp.Diff(want, ops); diff != "" {
		t.Errorf("ops (-want +got):\n%s", diff)
	}
}
