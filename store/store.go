package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.etcd.io/bbolt"

	"supportbot/bot"
)

// Load returns the session stored under key with its token decrypted, and
// false if there is none. It fails with an error wrapping ErrDecrypt when the
// token does not decrypt, and ErrSchemaVersion for an unknown schema version;
// those, and undecodable JSON, also wrap bot.ErrUnreadable.
func (db *DB) Load(ctx context.Context, key string) (bot.Session, bool, error) {
	if err := ctx.Err(); err != nil {
		return bot.Session{}, false, err
	}
	var raw []byte
	err := db.bolt.View(func(tx *bbolt.Tx) error {
		raw = bytes.Clone(tx.Bucket(bucketSessions).Get([]byte(key)))
		return nil
	})
	if err != nil {
		return bot.Session{}, false, fmt.Errorf("load session %s: %v", key, err)
	}
	if raw == nil {
		return bot.Session{}, false, nil
	}
	s, err := db.codec.DecodeSession(key, raw)
	if err != nil {
		return bot.Session{}, false, fmt.Errorf("load session %s: %w", key, err)
	}
	return s, true, nil
}

// Handled reports whether updateID was committed for the channel of key (the
// part before the first ':') less than Options.HandledTTL ago. A zero
// updateID is never handled.
func (db *DB) Handled(ctx context.Context, key string, updateID int64) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	if updateID == 0 {
		return false, nil
	}
	channel, err := channelOf(key)
	if err != nil {
		return false, err
	}
	now := db.now()
	var ok bool
	err = db.bolt.View(func(tx *bbolt.Tx) error {
		hb := tx.Bucket(bucketHandled).Bucket([]byte(channel))
		ok = hb != nil && db.remembered(hb.Get(itob(uint64(updateID))), now)
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("check update %d of %s: %v", updateID, key, err)
	}
	return ok, nil
}

// Commit writes c.Session under c.Session.Key with its token and secrets
// encrypted,
// records c.UpdateID as handled on the key's channel, and appends c.Replies
// to the outbox, all in one durable transaction. It returns the stored
// envelopes in order. When c.UpdateID was already handled it writes nothing
// and returns an error wrapping bot.ErrDuplicate.
//
// Commit sets the stored Version to bot.SchemaVersion, and Updated to the
// clock's time if it is zero. In Batch mode concurrent Commits share
// transactions.
func (db *DB) Commit(ctx context.Context, c bot.Commit) ([]bot.Envelope, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	key := c.Session.Key
	channel, err := channelOf(key)
	if err != nil {
		return nil, err
	}

	// Encode outside the transaction: less work under bbolt's writer lock,
	// and one nonce even if Batch runs fn twice.
	s := c.Session
	if s.Updated.IsZero() {
		s.Updated = db.now()
	}
	val, err := db.codec.EncodeSession(s)
	if err != nil {
		return nil, fmt.Errorf("commit: %v", err) // names the key
	}
	var id, stamp []byte
	now := db.now()
	if c.UpdateID != 0 {
		id = itob(uint64(c.UpdateID))
		stamp = itob(uint64(now.Unix()))
	}

	var out []bot.Envelope
	var del []uint64 // delivered envelopes to remove with this commit
	if db.delDelay > 0 {
		del = db.noted()
	}
	fn := func(tx *bbolt.Tx) error {
		// Batch may call fn again after a rollback: start afresh.
		out = nil
		if id != nil {
			hb, err := tx.Bucket(bucketHandled).CreateBucketIfNotExists([]byte(channel))
			if err != nil {
				return err
			}
			if db.remembered(hb.Get(id), now) {
				return bot.ErrDuplicate
			}
			// A new id, or one handled so long ago that it is no longer a
			// duplicate: (re)stamp it.
			if err := hb.Put(id, stamp); err != nil {
				return err
			}
		}
		if err := tx.Bucket(bucketSessions).Put([]byte(key), val); err != nil {
			return err
		}
		ob := tx.Bucket(bucketOutbox)
		for _, r := range c.Replies {
			seq, err := ob.NextSequence()
			if err != nil {
				return err
			}
			to := key
			if r.To != "" {
				to = r.To
			}
			channel, err := channelOf(to)
			if err != nil {
				return err
			}
			cb, err := ob.CreateBucketIfNotExists([]byte(channel))
			if err != nil {
				return err
			}
			e := bot.Envelope{ID: seq, Key: to, Lang: c.Lang, Reply: r}
			v, err := json.Marshal(e)
			if err != nil {
				return err
			}
			if err := cb.Put(itob(seq), v); err != nil {
				return err
			}
			out = append(out, e)
		}
		if len(del) > 0 {
			if err := deleteEnvelopes(tx, del); err != nil {
				return err
			}
		}
		return nil
	}
	if db.group != nil {
		err = db.group.update(fn)
	} else {
		err = db.bolt.Update(fn)
	}
	if errors.Is(err, bot.ErrDuplicate) {
		return nil, fmt.Errorf("commit %s update %d: %w", key, c.UpdateID, bot.ErrDuplicate)
	}
	if err != nil {
		return nil, fmt.Errorf("commit session %s: %v", key, err)
	}
	db.removed(del)
	return out, nil
}

// remembered reports whether a handled id whose stored value is stamp (its
// commit time in Unix seconds) still counts as handled at now: for
// Options.HandledTTL after its commit. A missing or malformed stamp does
// not.
func (db *DB) remembered(stamp []byte, now time.Time) bool {
	if len(stamp) != 8 {
		return false
	}
	at := time.Unix(int64(binary.BigEndian.Uint64(stamp)), 0)
	return now.Before(at.Add(db.ttl))
}

// sweepChunk bounds the handled ids ExpireHandled looks at in one
// transaction, so commits never wait long for the writer lock.
const sweepChunk = 10_000

// ExpireHandled deletes the handled update ids committed Options.HandledTTL
// or longer ago (they no longer count as handled, deleted or not) and
// returns how many it deleted. It runs in short transactions, so it may be
// called while the bot commits; run it periodically.
func (db *DB) ExpireHandled(ctx context.Context) (int, error) {
	now := db.now()
	var channels [][]byte
	err := db.bolt.View(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketHandled).ForEachBucket(func(k []byte) error {
			channels = append(channels, bytes.Clone(k))
			return nil
		})
	})
	if err != nil {
		return 0, fmt.Errorf("expire handled updates: %v", err)
	}
	n := 0
	for _, channel := range channels {
		var from []byte // the first key of the next chunk; nil: from the start
		for {
			if err := ctx.Err(); err != nil {
				return n, err
			}
			var next []byte
			var deleted int
			err := db.bolt.Update(func(tx *bbolt.Tx) error {
				next, deleted = nil, 0
				hb := tx.Bucket(bucketHandled).Bucket(channel)
				if hb == nil {
					return nil
				}
				c := hb.Cursor()
				k, v := c.First()
				if from != nil {
					k, v = c.Seek(from)
				}
				var old [][]byte
				for i := 0; k != nil && i < sweepChunk; k, v = c.Next() {
					if !db.remembered(v, now) {
						old = append(old, bytes.Clone(k))
					}
					i++
				}
				if k != nil {
					next = bytes.Clone(k)
				}
				// Delete after the scan: deleting under a moving cursor skips keys.
				for _, k := range old {
					if err := hb.Delete(k); err != nil {
						return err
					}
				}
				deleted = len(old)
				return nil
			})
			if err != nil {
				return n, fmt.Errorf("expire handled updates of %s: %v", channel, err)
			}
			n += deleted
			if next == nil {
				break
			}
			from = next
		}
	}
	return n, nil
}

// Pending returns up to limit undelivered envelopes of channel with an ID
// above after, in ID order; limit <= 0 means all of them.
func (db *DB) Pending(ctx context.Context, channel string, after uint64, limit int) ([]bot.Envelope, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if after == ^uint64(0) {
		return nil, nil // no ID above
	}
	var out []bot.Envelope
	err := db.bolt.View(func(tx *bbolt.Tx) error {
		cb := tx.Bucket(bucketOutbox).Bucket([]byte(channel))
		if cb == nil {
			return nil
		}
		c := cb.Cursor()
		for k, v := c.Seek(itob(after + 1)); k != nil && (limit <= 0 || len(out) < limit); k, v = c.Next() {
			if db.isNoted(binary.BigEndian.Uint64(k)) {
				continue // delivered, not yet removed
			}
			var e bot.Envelope
			// Unmarshal copies; nothing refers to v after the transaction.
			if err := json.Unmarshal(v, &e); err != nil {
				return fmt.Errorf("decode envelope %d: %v", binary.BigEndian.Uint64(k), err)
			}
			e.ID = binary.BigEndian.Uint64(k)
			out = append(out, e)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read outbox: %v", err)
	}
	return out, nil
}

// Delivered removes the envelopes with the given IDs from the outbox. IDs
// not in the outbox are ignored.
//
// With Options.DeliveredDelay they are only noted here (Pending no longer
// returns them) and removed with the next Commit, or after the delay.
func (db *DB) Delivered(ctx context.Context, ids ...uint64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(ids) == 0 {
		return nil
	}
	if db.delDelay > 0 {
		now := time.Now()
		db.delMu.Lock()
		if db.delIDs == nil {
			db.delIDs = map[uint64]time.Time{}
		}
		for _, id := range ids {
			if _, ok := db.delIDs[id]; !ok {
				db.delIDs[id] = now
			}
		}
		if db.delTimer == nil {
			db.delTimer = time.AfterFunc(db.delDelay, db.delTimeout)
		}
		db.delMu.Unlock()
		return nil
	}
	return db.removeDelivered(ids)
}

// delTimeout runs when the oldest noted envelope may have waited
// Options.DeliveredDelay. Usually a Commit has removed it since (at a
// steady pace every reply's mark goes with the next commit): then the timer
// is set again for the oldest mark left. Only when a mark has waited the
// whole delay do the noted marks get a transaction of their own (all of
// them, the younger ones too).
func (db *DB) delTimeout() {
	db.delMu.Lock()
	db.delTimer = nil
	if db.delClosed {
		db.delMu.Unlock()
		return
	}
	var oldest time.Time
	for _, at := range db.delIDs {
		if oldest.IsZero() || at.Before(oldest) {
			oldest = at
		}
	}
	if oldest.IsZero() {
		db.delMu.Unlock()
		return
	}
	if wait := db.delDelay - time.Since(oldest); wait > 0 {
		db.delTimer = time.AfterFunc(wait, db.delTimeout)
		db.delMu.Unlock()
		return
	}
	db.delMu.Unlock()
	_ = db.flushDelivered() // an error leaves them noted for the next Commit or Close
}

// noted returns the delivered envelopes not yet removed.
func (db *DB) noted() []uint64 {
	db.delMu.Lock()
	defer db.delMu.Unlock()
	ids := make([]uint64, 0, len(db.delIDs))
	for id := range db.delIDs {
		ids = append(ids, id)
	}
	return ids
}

// removed forgets the noted envelopes a transaction removed.
func (db *DB) removed(ids []uint64) {
	db.delMu.Lock()
	defer db.delMu.Unlock()
	for _, id := range ids {
		delete(db.delIDs, id)
	}
}

// isNoted reports whether id was delivered but not yet removed.
func (db *DB) isNoted(id uint64) bool {
	db.delMu.Lock()
	defer db.delMu.Unlock()
	_, ok := db.delIDs[id]
	return ok
}

// flushDelivered removes the noted envelopes in a transaction of its own.
func (db *DB) flushDelivered() error {
	ids := db.noted()
	if len(ids) == 0 {
		return nil
	}
	if err := db.removeDelivered(ids); err != nil {
		return err
	}
	db.removed(ids)
	return nil
}

// deleteEnvelopes deletes ids from every channel's outbox bucket;
// idempotent, as Batch may run it twice.
func deleteEnvelopes(tx *bbolt.Tx, ids []uint64) error {
	ob := tx.Bucket(bucketOutbox)
	return ob.ForEachBucket(func(channel []byte) error {
		cb := ob.Bucket(channel)
		for _, id := range ids {
			if err := cb.Delete(itob(id)); err != nil {
				return err
			}
		}
		return nil
	})
}

// removeDelivered deletes ids from the outbox in one write transaction.
func (db *DB) removeDelivered(ids []uint64) error {
	fn := func(tx *bbolt.Tx) error { return deleteEnvelopes(tx, ids) }
	var err error
	if db.group != nil {
		// Deliveries from many chats share transactions like commits do.
		err = db.group.update(fn)
	} else {
		err = db.bolt.Update(fn)
	}
	if err != nil {
		return fmt.Errorf("delete delivered envelopes: %v", err)
	}
	return nil
}

// Expire deletes the sessions whose Updated is before before and returns how
// many it deleted. Handled update ids and the outbox are left alone.
func (db *DB) Expire(ctx context.Context, before time.Time) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	var n int
	err := db.bolt.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketSessions)
		var old [][]byte
		c := b.Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			var s struct {
				Updated time.Time `json:"updated"`
			}
			if err := json.Unmarshal(v, &s); err != nil {
				return fmt.Errorf("decode session %s: %v", k, err)
			}
			if s.Updated.Before(before) {
				old = append(old, bytes.Clone(k))
			}
		}
		// Delete after the scan: deleting under a moving cursor skips keys.
		for _, k := range old {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		n = len(old)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("expire sessions: %v", err)
	}
	return n, nil
}

// channelOf returns the channel part of a session key, the text before the
// first ':' (all of it if there is none).
func channelOf(key string) (string, error) {
	channel, _, _ := strings.Cut(key, ":")
	if channel == "" {
		return "", fmt.Errorf("session key %q has no channel", key)
	}
	return channel, nil
}

// itob encodes v as 8 big-endian bytes, so keys sort in numeric order.
func itob(v uint64) []byte {
	return binary.BigEndian.AppendUint64(make([]byte, 0, 8), v)
}
