package store

import (
	"bytes"
	"encoding/hex"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestLoadOrCreateKey(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "token.key")

	key, err := LoadOrCreateKey(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(key) != KeySize {
		t.Fatalf("key has %d bytes, want %d", len(key), KeySize)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode = %v, want 0600", fi.Mode().Perm())
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(data), hex.EncodeToString(key)+"\n"; got != want {
		t.Errorf("key file holds %q, want %q", got, want)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries, want only the key file", len(entries))
	}

	again, err := LoadOrCreateKey(path)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(key, again); diff != "" {
		t.Errorf("second call returned another key (-first +second):\n%s", diff)
	}

	// The key works with Open.
	mustOpen(t, Options{Key: key})
}

func TestLoadOrCreateKeyRejectsBadFile(t *testing.T) {
	tests := []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"short", []byte("0011")},
		{"raw bytes", bytes.Repeat([]byte{7}, KeySize)},
		{"too long", []byte(strings.Repeat("ab", KeySize+1))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "token.key")
			if err := os.WriteFile(path, tt.data, 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := LoadOrCreateKey(path); err == nil {
				t.Error("no error")
			}
			got, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, tt.data) {
				t.Error("the file was changed")
			}
		})
	}
}

func TestParseKey(t *testing.T) {
	hexKey := hex.EncodeToString(testKey)
	tests := []struct {
		name    string
		in      string
		want    []byte
		wantErr bool
	}{
		{"lower case", hexKey, testKey, false},
		{"upper case with white space", " " + strings.ToUpper(hexKey) + "\n", testKey, false},
		{"empty", "", nil, true},
		{"one character short", hexKey[1:], nil, true},
		{"16-byte key", hexKey[:32], nil, true},
		{"not hexadecimal", "zz" + hexKey[2:], nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseKey(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ParseKey error = %v, want error %t", err, tt.wantErr)
			}
			if err != nil && len(tt.in) > 8 && strings.Contains(err.Error(), tt.in[2:10]) {
				t.Errorf("error %q echoes the key", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseKey (-want +got):\n%s", diff)
			}
		})
	}
}
