package demo

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strings"
)

// Bearer tokens are self-validating, so a demo restarted with the same
// Options.TokenKey accepts the logins it issued before:
//
//	sbt_<customer ID>.<nonce>.<base64url(HMAC-SHA256(key, customer ID "." nonce))>
//
// Customer IDs and nonces hold no '.', so the MAC input is unambiguous.
// Without a TokenKey the Server draws a random key of its own, and its
// tokens die with it, as before.

const tokenPrefix = "sbt_"

// newToken issues a token for customer id.
func (s *Server) newToken(id string) string {
	nonce := rand.Text()
	return tokenPrefix + id + "." + nonce + "." + s.tokenMAC(id, nonce)
}

func (s *Server) tokenMAC(id, nonce string) string {
	m := hmac.New(sha256.New, s.tokenKey)
	m.Write([]byte(id + "." + nonce))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// tokenCustomer returns the customer token was issued to, or nil when the
// token is missing, forged, tampered with, revoked or names no customer
// of this Server (e.g. a generated customer beyond its ExtraCustomers).
func (s *Server) tokenCustomer(token string) *customer {
	rest, ok := strings.CutPrefix(token, tokenPrefix)
	if !ok {
		return nil
	}
	parts := strings.Split(rest, ".")
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" {
		return nil
	}
	if !hmac.Equal([]byte(parts[2]), []byte(s.tokenMAC(parts[0], parts[1]))) {
		return nil
	}
	if _, gone := s.revoked[token]; gone {
		return nil
	}
	return s.customerByID(parts[0])
}

// revoke ends token (logout; its route lets only live tokens in). The
// revocation set lives in memory only: a revoked token becomes valid again
// if the demo restarts with the same key. That is acceptable for a demo
// (the bot forgets a token when it logs out), but a real backend must
// persist revocations or expire its tokens.
func (s *Server) revoke(token string) {
	s.revoked[token] = struct{}{}
}

// customerByID finds a customer by ID, building a generated one on demand.
func (s *Server) customerByID(id string) *customer {
	if i, ok := s.extraIndex(id, "C-X", ""); ok && id == fmt.Sprintf("C-X%05d", i) {
		s.materialize(i)
	}
	return s.customers[id]
}
