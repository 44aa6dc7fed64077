package demo

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

	"supportbot/portal"
)

// serve runs a demo Server with opt on an httptest server and returns a
// client for it.
func serve(t *testing.T, opt Options) *portal.Client {
	t.Helper()
	ts := httptest.NewServer(New(opt))
	t.Cleanup(ts.Close)
	return portal.NewClient(ts.URL, portal.WithRetries(0))
}

func login(t *testing.T, c *portal.Client, email, password string) string {
	t.Helper()
	a, err := c.Login(context.Background(), email, password)
	if err != nil {
		t.Fatalf("Login %s: %v", email, err)
	}
	return a.Token
}

// whoami returns the ID of the customer token belongs to, or the error.
func whoami(c *portal.Client, token string) (string, error) {
	cu, err := c.Me(context.Background(), token)
	return cu.ID, err
}

// TestTokenSurvivesRestart issues tokens on one Server and presents them to
// a second one (a restarted demo) with the same key, and to one without it.
func TestTokenSurvivesRestart(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	first := serve(t, Options{TokenKey: key, ExtraCustomers: 50})
	dana := login(t, first, "dana.levi@example.com", "demo-dana")
	extra := login(t, first, "user42@demo.example", "demo-pass-42")

	again := serve(t, Options{TokenKey: append([]byte(nil), key...), ExtraCustomers: 50})
	for tok, want := range map[string]string{dana: "C-1001", extra: "C-X00042"} {
		if id, err := whoami(again, tok); err != nil || id != want {
			t.Errorf("same key: Me = %q, %v; want %s", id, err, want)
		}
	}
	// The generated customer's orders are there too, built on first use.
	if page, err := again.Orders(context.Background(), extra, 1, 10); err != nil || len(page.Orders) != 2 {
		t.Errorf("same key: generated customer's orders = %+v, %v; want 2", page, err)
	}

	for name, c := range map[string]*portal.Client{
		"another key":         serve(t, Options{TokenKey: []byte("another key, just as long as it..")}),
		"no key":              serve(t, Options{}),
		"fewer extra clients": serve(t, Options{TokenKey: key, ExtraCustomers: 41}),
	} {
		toks := []string{dana, extra}
		if name == "fewer extra clients" {
			toks = toks[1:] // customer 42 does not exist there
		}
		for _, tok := range toks {
			if _, err := whoami(c, tok); !errors.Is(err, portal.ErrUnauthorized) {
				t.Errorf("%s: Me = %v, want ErrUnauthorized", name, err)
			}
		}
	}
}

// TestForgedTokens presents tokens that were never issued, or altered.
func TestForgedTokens(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	c := serve(t, Options{TokenKey: key})
	tok := login(t, c, "michael.cohen@example.com", "demo-michael")
	if _, err := whoami(c, tok); err != nil {
		t.Fatalf("Me with a fresh token: %v", err)
	}
	parts := strings.Split(strings.TrimPrefix(tok, tokenPrefix), ".")
	if len(parts) != 3 {
		t.Fatalf("token %q: want 3 dot-separated parts", tok)
	}
	flip := func(s string) string {
		b := []byte(s)
		if b[0] == 'A' {
			b[0] = 'B'
		} else {
			b[0] = 'A'
		}
		return string(b)
	}
	other := New(Options{TokenKey: []byte("someone else's key")})
	// Altered, signed with another key, or naming no customer of this Server.
	for name, forged := range map[string]string{
		"other customer":    tokenPrefix + "C-1001." + parts[1] + "." + parts[2],
		"other nonce":       tokenPrefix + parts[0] + "." + flip(parts[1]) + "." + parts[2],
		"other mac":         tokenPrefix + parts[0] + "." + parts[1] + "." + flip(parts[2]),
		"no mac":            tokenPrefix + parts[0] + "." + parts[1] + ".",
		"extra part":        tok + ".x",
		"no prefix":         strings.TrimPrefix(tok, tokenPrefix),
		"signed elsewhere":  other.newToken(parts[0]),
		"random":            "sbt_" + strings.Repeat("A", 26),
		"unknown customer":  (&Server{tokenKey: key}).newToken("C-9999"),
		"extra not enabled": (&Server{tokenKey: key}).newToken("C-X00001"),
	} {
		if _, err := whoami(c, forged); !errors.Is(err, portal.ErrUnauthorized) {
			t.Errorf("%s (%q): Me = %v, want ErrUnauthorized", name, forged, err)
		}
	}
}

// TestLogoutRevokes logs out: the token stops working, other tokens of the
// same customer do not.
func TestLogoutRevokes(t *testing.T) {
	c := serve(t, Options{TokenKey: []byte("k")})
	ctx := context.Background()
	tok := login(t, c, "sarah.johnson@example.com", "demo-sarah")
	keep := login(t, c, "sarah.johnson@example.com", "demo-sarah")
	if tok == keep {
		t.Fatal("two logins gave the same token")
	}
	if err := c.Logout(ctx, tok); err != nil {
		t.Fatalf("Logout: %v", err)
	}
	if _, err := whoami(c, tok); !errors.Is(err, portal.ErrUnauthorized) {
		t.Errorf("after logout: Me = %v, want ErrUnauthorized", err)
	}
	if err := c.Logout(ctx, tok); !errors.Is(err, portal.ErrUnauthorized) {
		t.Errorf("second Logout = %v, want ErrUnauthorized", err)
	}
	if _, err := whoami(c, keep); err != nil {
		t.Errorf("the other login after logout: Me = %v", err)
	}
}
