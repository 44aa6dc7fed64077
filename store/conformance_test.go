package store

import (
	"bytes"
	"path/filepath"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"supportbot/store/storetest"
)

// TestConformance runs the suite every store passes, in Batch mode as
// cmd/supportbot opens the store.
func TestConformance(t *testing.T) {
	storetest.Run(t, storetest.Harness{
		Open: func(t *testing.T, dir string, now func() time.Time) storetest.Store {
			db, err := Open(filepath.Join(dir, "store.db"), Options{Key: testKey, Batch: true, Now: now, HandledTTL: storetest.HandledTTL})
			if err != nil {
				t.Fatal(err)
			}
			return db
		},
		RawSession: func(t *testing.T, s storetest.Store, key string) []byte {
			var raw []byte
			if err := s.(*DB).bolt.View(func(tx *bbolt.Tx) error {
				raw = bytes.Clone(tx.Bucket(bucketSessions).Get([]byte(key)))
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			return raw
		},
		PutRawSession: func(t *testing.T, s storetest.Store, key string, raw []byte) {
			if err := s.(*DB).bolt.Update(func(tx *bbolt.Tx) error {
				return tx.Bucket(bucketSessions).Put([]byte(key), raw)
			}); err != nil {
				t.Fatal(err)
			}
		},
		Sessions: 100_000,
	})
}
