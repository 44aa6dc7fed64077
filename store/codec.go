package store

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"supportbot/bot"
)

// Codec encodes sessions as every store keeps them: JSON of bot.Session with
// Version = bot.SchemaVersion, the portal token and held secrets sealed with
// AES-256-GCM and bound to the session key (and secret name), so a sealed
// value copied to another session does not open. The bbolt DB and the etcd
// store share it, so either reads what the other wrote. A Codec is safe for
// concurrent use.
type Codec struct {
	aead cipher.AEAD
}

// NewCodec returns a Codec sealing with key, which must be KeySize bytes.
func NewCodec(key []byte) (*Codec, error) {
	if key == nil {
		return nil, errors.New("no token encryption key")
	}
	if len(key) != KeySize {
		return nil, fmt.Errorf("token key has %d bytes, want %d", len(key), KeySize)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCMWithRandomNonce(block)
	if err != nil {
		return nil, err
	}
	return &Codec{aead: aead}, nil
}

// KeyFingerprint identifies a token key without revealing it: the hex of the
// first 16 bytes of SHA-256 of "supportbot key fingerprint" followed by the
// key. Replicas compare fingerprints to check they share one key.
func KeyFingerprint(key []byte) string {
	h := sha256.New()
	h.Write([]byte("supportbot key fingerprint"))
	h.Write(key)
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// EncodeSession returns s as stored, under s.Key: its Version set to
// bot.SchemaVersion, its token and secrets sealed. Rev is never encoded.
// Updated is encoded as it is; a store fills a zero one beforehand.
func (c *Codec) EncodeSession(s bot.Session) ([]byte, error) {
	key := s.Key
	s.Version = bot.SchemaVersion
	if s.Token != "" {
		s.Token = c.seal(key, s.Token)
	}
	if len(s.Secrets) > 0 {
		sealed := make(map[string]string, len(s.Secrets))
		for name, v := range s.Secrets {
			sealed[name] = c.seal(secretAD(key, name), v)
		}
		s.Secrets = sealed
	}
	val, err := json.Marshal(s)
	if err != nil {
		return nil, fmt.Errorf("encode session %s: %v", key, err)
	}
	return val, nil
}

// DecodeSession decodes raw, stored under key, and opens its token and
// secrets. Its errors wrap bot.ErrUnreadable, and also ErrDecrypt when a
// sealed value does not open with this key (or was moved from another
// session) and ErrSchemaVersion for an unknown schema version. They never
// hold the session's contents.
func (c *Codec) DecodeSession(key string, raw []byte) (bot.Session, error) {
	s, err := c.decode(key, raw)
	if err != nil {
		return bot.Session{}, fmt.Errorf("%w: %w", bot.ErrUnreadable, err)
	}
	return s, nil
}

// decode is DecodeSession without the bot.ErrUnreadable.
func (c *Codec) decode(key string, raw []byte) (bot.Session, error) {
	var s bot.Session
	if err := json.Unmarshal(raw, &s); err != nil {
		return bot.Session{}, fmt.Errorf("decode: %v", err)
	}
	// Version 1 is the only one so far. When bot.SchemaVersion is raised,
	// values with a lower version are migrated here.
	if s.Version != bot.SchemaVersion {
		return bot.Session{}, fmt.Errorf("version %d, this build reads %d: %w", s.Version, bot.SchemaVersion, ErrSchemaVersion)
	}
	if s.Token != "" {
		tok, err := c.open(key, s.Token)
		if err != nil {
			return bot.Session{}, err
		}
		s.Token = tok
	}
	for name, v := range s.Secrets {
		pt, err := c.open(secretAD(key, name), v)
		if err != nil {
			return bot.Session{}, err
		}
		s.Secrets[name] = pt
	}
	return s, nil
}

// secretAD binds a held secret to its session and name, so a sealed value
// cannot be moved to another session or another name.
func secretAD(key, name string) string { return key + "|secret|" + name }

// seal encrypts token for the session stored under key (or a secret's
// secretAD).
func (c *Codec) seal(key, token string) string {
	ct := c.aead.Seal(nil, nil, []byte(token), []byte(key))
	return tokenPrefix + base64.StdEncoding.EncodeToString(ct)
}

// open decrypts a value sealed by seal for key. Its errors wrap ErrDecrypt.
func (c *Codec) open(key, stored string) (string, error) {
	b64, ok := strings.CutPrefix(stored, tokenPrefix)
	if !ok {
		return "", fmt.Errorf("token stored without encryption: %w", ErrDecrypt)
	}
	ct, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return "", fmt.Errorf("token not base64: %w", ErrDecrypt)
	}
	pt, err := c.aead.Open(nil, nil, ct, []byte(key))
	if err != nil {
		return "", ErrDecrypt
	}
	return string(pt), nil
}
