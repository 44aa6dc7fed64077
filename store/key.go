package store

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// KeySize is the size in bytes of the token encryption key (AES-256).
const KeySize = 32

// tokenPrefix marks an encrypted token in a stored session: it is followed
// by base64(nonce ‖ ciphertext ‖ tag) from AES-256-GCM with a random 96-bit
// nonce and the session key as additional data, so a token copied to another
// session does not decrypt.
const tokenPrefix = "enc:v1:"

// ParseKey decodes a token encryption key given as 64 hexadecimal characters,
// ignoring surrounding white space. Its errors never echo the input.
func ParseKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if len(s) != 2*KeySize {
		return nil, fmt.Errorf("token key: %d characters, want %d hexadecimal", len(s), 2*KeySize)
	}
	key, err := hex.DecodeString(s)
	if err != nil {
		return nil, errors.New("token key: not hexadecimal")
	}
	return key, nil
}

// LoadOrCreateKey returns the token encryption key kept in the file at path,
// written as 64 hexadecimal characters and a newline (the format ParseKey
// reads). If there is no such file, it generates a key with crypto/rand and
// creates the file with mode 0600, never replacing a file that appeared in
// the meantime. A file that does not hold exactly one key is an error.
//
// Losing the file makes the stored tokens unreadable: Load then fails with
// ErrDecrypt for logged-in sessions.
func LoadOrCreateKey(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		key := make([]byte, KeySize)
		_, _ = rand.Read(key) // never fails
		err = createExclusive(path, []byte(hex.EncodeToString(key)+"\n"))
		if err == nil {
			return key, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("create token key: %w", err)
		}
		// Another process created it first: use its key.
		data, err = os.ReadFile(path)
	}
	if err != nil {
		return nil, fmt.Errorf("read token key: %w", err)
	}
	key, err := ParseKey(string(data))
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	return key, nil
}

// createExclusive writes data to a new file at path with mode 0600. The file
// appears complete or not at all: it is written to a temporary file in the
// same directory and hard-linked into place, which fails with fs.ErrExist if
// path exists.
func createExclusive(path string, data []byte) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, ".tmp-key-*") // mode 0600
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Link(tmp, path); err != nil {
		return err
	}
	// Make the new directory entry durable, so a crash cannot lose the key
	// after tokens were encrypted with it. Not every platform can sync a
	// directory; that is not worth failing for.
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
	return nil
}
