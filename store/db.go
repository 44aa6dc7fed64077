package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"supportbot/bot"
)

// Defaults used by Open for zero Options fields.
const (
	// DefaultTimeout is how long Open waits for the file lock.
	DefaultTimeout = time.Second
	// DefaultHandledTTL is how long a handled update id is remembered. It is
	// at most a week on purpose: after a week without updates Telegram
	// starts its update ids afresh at a random value, and an id remembered
	// from before that silence would drop a new update that reuses it.
	// Telegram redelivers an update for 24 hours at most.
	DefaultHandledTTL = 7 * 24 * time.Hour
	// DefaultMaxBatchSize is the most Commits combined into one transaction
	// in Batch mode. With 200 concurrent conversations, 200 commits per
	// transaction gave the best throughput measured (BenchmarkCommitChats).
	DefaultMaxBatchSize = 200
	// DefaultMaxBatchDelay is how long a transaction in Batch mode may wait
	// for others to join it. It must cover the time the conversations of
	// one batch take to prepare their next Commit.
	DefaultMaxBatchDelay = 2 * time.Millisecond
)

// ErrLocked is returned, wrapped with the path, by Open when another process
// or another open DB in this process holds the database file.
var ErrLocked = errors.New("store: database file is locked")

// ErrDecrypt is returned, wrapped, by Load when a stored token does not
// decrypt with the configured key: the key is wrong or the value is damaged.
var ErrDecrypt = errors.New("store: token does not decrypt with this key")

// ErrSchemaVersion is returned, wrapped, by Load when a stored session has a
// schema version this build does not know, for example one written by a newer
// release.
var ErrSchemaVersion = errors.New("store: unknown session schema version")

// Options configure Open. Only Key is required.
type Options struct {
	// Timeout is how long Open waits for the file lock held by another
	// process before failing with ErrLocked. Zero means DefaultTimeout.
	Timeout time.Duration
	// Key is the 32-byte AES-256 key that encrypts Session.Token at rest.
	// See LoadOrCreateKey and ParseKey.
	Key []byte
	// NoSync skips fsync after each commit. A crash may then lose or corrupt
	// committed updates; it exists to measure what durability costs.
	NoSync bool
	// Batch makes Commit combine concurrent calls into shared transactions
	// (group commit). A Commit that finds no transaction under way commits
	// at once; those that come meanwhile share the next one. It raises
	// throughput with many concurrent conversations and costs nothing with
	// one.
	Batch bool
	// MaxBatchSize is the most Commits per transaction in Batch mode.
	// Zero means DefaultMaxBatchSize.
	MaxBatchSize int
	// MaxBatchDelay is the longest a transaction in Batch mode waits for
	// more Commits, which it does only when the one before it was shared.
	// Zero means DefaultMaxBatchDelay.
	MaxBatchDelay time.Duration
	// HandledTTL is how long a handled update id is remembered, counted
	// from its commit, whatever its value: an older one is no longer a
	// duplicate, and ExpireHandled deletes it. Zero means DefaultHandledTTL.
	HandledTTL time.Duration
	// Now is the clock; nil means time.Now. It stamps handled update ids and
	// sessions committed with a zero Updated, and ages handled ids.
	Now func() time.Time
	// DeliveredDelay, if positive, defers the removal of delivered
	// envelopes: Delivered only notes them (Pending no longer returns
	// them), and they are removed in the transaction of the next Commit,
	// or in one of their own if no Commit came within this delay, and at
	// Close. One write transaction per reply instead of two; the price is that after a crash
	// the replies delivered in the last DeliveredDelay are sent again.
	DeliveredDelay time.Duration
}

// DB is a bbolt-backed bot.Store. Its methods are safe for concurrent use.
type DB struct {
	bolt  *bbolt.DB
	codec *Codec
	group *group        // Options.Batch; nil: a transaction per call
	ttl   time.Duration // of a handled update id
	now   func() time.Time

	// Delivered envelopes not yet removed (Options.DeliveredDelay).
	delDelay  time.Duration
	delMu     sync.Mutex
	delIDs    map[uint64]time.Time // when each was noted
	delTimer  *time.Timer
	delClosed bool // no more timers
}

var _ bot.Store = (*DB)(nil)

var (
	bucketSessions = []byte("sessions")
	bucketHandled  = []byte("handled")
	// bucketOutbox holds one bucket per channel, its envelopes by ID; the
	// IDs come from the outbox bucket's own sequence, so they increase
	// across channels.
	bucketOutbox = []byte("outbox")
	// bucketKV holds one bucket per adapter's durable records (KV).
	bucketKV = []byte("kv")
)

// Open opens or creates the database file at path (mode 0600). It fails with
// an error wrapping ErrLocked when the file stays locked for opt.Timeout, and
// with an error when opt.Key is not a 32-byte key.
func Open(path string, opt Options) (*DB, error) {
	codec, err := NewCodec(opt.Key)
	if err != nil {
		return nil, fmt.Errorf("open store: %v", err)
	}

	timeout := opt.Timeout
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	// The free-page list is not written with every commit (one page less
	// per transaction); Open rebuilds it by scanning the file, which for
	// a database of this size takes milliseconds. etcd runs bbolt so too.
	b, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: timeout, NoSync: opt.NoSync, NoFreelistSync: true, FreelistType: bbolt.FreelistMapType})
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, fmt.Errorf("open store %s: %w", path, ErrLocked)
	}
	if err != nil {
		return nil, fmt.Errorf("open store %s: %v", path, err)
	}
	err = b.Update(func(tx *bbolt.Tx) error {
		for _, name := range [][]byte{bucketSessions, bucketHandled, bucketOutbox, bucketKV} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		return splitOutbox(tx.Bucket(bucketOutbox))
	})
	if err != nil {
		_ = b.Close()
		return nil, fmt.Errorf("open store %s: create buckets: %v", path, err)
	}

	db := &DB{
		bolt:  b,
		codec: codec,
		ttl:   orDefault(opt.HandledTTL, DefaultHandledTTL),
		now:   opt.Now,

		delDelay: opt.DeliveredDelay,
	}
	if db.now == nil {
		db.now = time.Now
	}
	if opt.Batch {
		db.group = &group{db: b, max: orDefault(opt.MaxBatchSize, DefaultMaxBatchSize),
			delay: orDefault(opt.MaxBatchDelay, DefaultMaxBatchDelay)}
	}
	return db, nil
}

// orDefault returns v, or def when v is zero (or negative).
func orDefault[T int | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}

// Close releases the file. Calling it again does nothing.
func (db *DB) Close() error {
	db.delMu.Lock()
	db.delClosed = true
	if db.delTimer != nil {
		db.delTimer.Stop()
		db.delTimer = nil
	}
	db.delMu.Unlock()
	if err := db.flushDelivered(); err != nil {
		return err
	}
	if err := db.bolt.Close(); err != nil {
		return fmt.Errorf("close store: %v", err)
	}
	return nil
}

// Stats returns the number of stored sessions and undelivered envelopes, for
// diagnostics. It walks both buckets.
func (db *DB) Stats() (sessions, outbox int, err error) {
	err = db.bolt.View(func(tx *bbolt.Tx) error {
		sessions = tx.Bucket(bucketSessions).Stats().KeyN
		return tx.Bucket(bucketOutbox).ForEachBucket(func(k []byte) error {
			outbox += tx.Bucket(bucketOutbox).Bucket(k).Stats().KeyN
			return nil
		})
	})
	if err != nil {
		return 0, 0, fmt.Errorf("store stats: %v", err)
	}
	return sessions, outbox, nil
}

// splitOutbox moves envelopes written by an older version, kept directly in
// the outbox bucket, into their channel's bucket.
func splitOutbox(ob *bbolt.Bucket) error {
	type moved struct{ k, v []byte }
	var old []moved
	err := ob.ForEach(func(k, v []byte) error {
		if v != nil { // nil: a channel's bucket
			old = append(old, moved{bytes.Clone(k), bytes.Clone(v)})
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, m := range old {
		var e bot.Envelope
		if err := json.Unmarshal(m.v, &e); err != nil {
			return fmt.Errorf("decode envelope: %v", err)
		}
		channel, err := channelOf(e.Key)
		if err != nil {
			return err
		}
		cb, err := ob.CreateBucketIfNotExists([]byte(channel))
		if err != nil {
			return err
		}
		if err := cb.Put(m.k, m.v); err != nil {
			return err
		}
		if err := ob.Delete(m.k); err != nil {
			return err
		}
	}
	return nil
}
