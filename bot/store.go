package bot

import (
	"context"
	"errors"
	"time"
)

// ErrDuplicate is returned by Store.Commit when the update id was already
// handled; nothing was written.
var ErrDuplicate = errors.New("bot: update already handled")

// ErrConflict is returned by Store.Commit when the session changed since
// Load read it (another replica handled the conversation meanwhile);
// nothing was written. The engine loads it again and handles the update
// afresh.
var ErrConflict = errors.New("bot: session changed since it was read")

// ErrFenced is returned by a replicated Store's Commit when this replica is
// no longer the active one; nothing was written, and nothing this replica
// commits from now on will be. The process should stop serving.
var ErrFenced = errors.New("bot: this replica is no longer the active one")

// Store persists sessions, handled update ids and the outbox. The store
// package implements it on bbolt.
type Store interface {
	// Load returns the session stored under key; ok is false if there is none.
	Load(ctx context.Context, key string) (s Session, ok bool, err error)
	// Handled reports whether updateID was already committed for the
	// channel of key (the part before the first ':').
	Handled(ctx context.Context, key string, updateID int64) (bool, error)
	// Commit writes c.Session, records c.UpdateID as handled and appends
	// c.Replies to the outbox, all in one durable transaction. It returns the
	// envelopes it stored, in order. It returns ErrDuplicate, and writes
	// nothing, when c.UpdateID was already handled; a replicated store also
	// returns ErrConflict when c.Session.Rev is not the stored session's
	// revision, and ErrFenced when this replica lost its leadership.
	Commit(ctx context.Context, c Commit) ([]Envelope, error)
	// Pending returns up to limit undelivered envelopes for channel (the
	// part of their Key before the first ':') with an ID above after, in
	// ID order; limit <= 0 means all of them. Each adapter reads only its
	// own channel's envelopes.
	Pending(ctx context.Context, channel string, after uint64, limit int) ([]Envelope, error)
	// Delivered removes delivered envelopes from the outbox.
	Delivered(ctx context.Context, ids ...uint64) error
	// Expire deletes sessions not updated since before and returns how many.
	Expire(ctx context.Context, before time.Time) (int, error)
}
