package store

import (
	"bytes"
	"context"
	"fmt"

	"go.etcd.io/bbolt"
)

// KV is a durable key-value space of its own, for an adapter's records
// (a ticket's Slack thread). Each Put is one durable transaction.
type KV struct {
	db   *DB
	name []byte
}

// KV returns the space called name, creating it on first write.
func (db *DB) KV(name string) *KV { return &KV{db: db, name: []byte(name)} }

// Get returns the value stored under key; ok is false if there is none.
func (kv *KV) Get(ctx context.Context, key string) (val []byte, ok bool, err error) {
	if err := ctx.Err(); err != nil {
		return nil, false, err
	}
	err = kv.db.bolt.View(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketKV).Bucket(kv.name)
		if b == nil {
			return nil
		}
		if v := b.Get([]byte(key)); v != nil {
			val, ok = bytes.Clone(v), true
		}
		return nil
	})
	if err != nil {
		return nil, false, fmt.Errorf("read %s: %v", kv.name, err)
	}
	return val, ok, nil
}

// Put stores val under key.
func (kv *KV) Put(ctx context.Context, key string, val []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	err := kv.db.bolt.Update(func(tx *bbolt.Tx) error {
		b, err := tx.Bucket(bucketKV).CreateBucketIfNotExists(kv.name)
		if err != nil {
			return err
		}
		return b.Put([]byte(key), val)
	})
	if err != nil {
		return fmt.Errorf("write %s: %v", kv.name, err)
	}
	return nil
}

// Delete removes key; a missing key is not an error.
func (kv *KV) Delete(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	err := kv.db.bolt.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketKV).Bucket(kv.name)
		if b == nil {
			return nil
		}
		return b.Delete([]byte(key))
	})
	if err != nil {
		return fmt.Errorf("delete from %s: %v", kv.name, err)
	}
	return nil
}
