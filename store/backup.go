package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// Backup writes a consistent copy of the whole database file to w and
// returns its size. The copy is taken in one read transaction, so commits
// go on meanwhile and the copy holds exactly what was committed when it
// started. Tokens stay encrypted as stored: the copy opens with the same
// key. The read transaction keeps the file from growing its memory map
// until the copy ends, so commits that need more room wait for it. Backup
// stops early, with ctx's error, when ctx ends.
func (db *DB) Backup(ctx context.Context, w io.Writer) (int64, error) {
	// A restored copy must not send again what was delivered.
	if err := db.flushDelivered(); err != nil {
		return 0, err
	}
	return backup(ctx, db.bolt, w)
}

// Copy writes a consistent copy of the database file at path to w, as
// Backup does, for a database no process has open: it opens the file
// read-only, which needs no key and changes nothing. It fails with an error
// wrapping ErrLocked when a process (a running bot) holds the file for
// longer than timeout (zero means DefaultTimeout); such a process can still
// write a copy with Backup. With no file at path the error wraps
// fs.ErrNotExist.
func Copy(ctx context.Context, path string, w io.Writer, timeout time.Duration) (int64, error) {
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	b, err := openReadOnly(path, timeout)
	if err != nil {
		return 0, err
	}
	defer b.Close()
	return backup(ctx, b, w)
}

// Verify checks that the file at path is a complete supportbot database:
// bbolt's consistency check passes and the three buckets exist. It opens
// the file read-only, so it fails with an error wrapping ErrLocked while a
// process holds it for longer than timeout (zero means DefaultTimeout).
func Verify(path string, timeout time.Duration) error {
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	b, err := openReadOnly(path, timeout)
	if err != nil {
		return err
	}
	defer b.Close()
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("verify %s: %v", path, err)
	}
	return b.View(func(tx *bbolt.Tx) error {
		// Pages past the end of the file would fault when read: check the
		// size the meta page promises before walking them.
		if fi.Size() < tx.Size() {
			return fmt.Errorf("verify %s: truncated: %d bytes, want %d", path, fi.Size(), tx.Size())
		}
		var errs []error
		for err := range tx.Check() {
			errs = append(errs, err)
		}
		if err := errors.Join(errs...); err != nil {
			return fmt.Errorf("verify %s: %v", path, err)
		}
		for _, name := range [][]byte{bucketSessions, bucketHandled, bucketOutbox} {
			if tx.Bucket(name) == nil {
				return fmt.Errorf("verify %s: no %s bucket", path, name)
			}
		}
		return nil
	})
}

// openReadOnly opens path read-only, sharing the file lock with other
// readers only.
func openReadOnly(path string, timeout time.Duration) (*bbolt.DB, error) {
	b, err := bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true, Timeout: timeout})
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, fmt.Errorf("open store %s: %w", path, ErrLocked)
	}
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err) // fs.ErrNotExist for a missing file
	}
	return b, nil
}

// backup writes b to w from one read transaction.
func backup(ctx context.Context, b *bbolt.DB, w io.Writer) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	var n int64
	err := b.View(func(tx *bbolt.Tx) error {
		var err error
		n, err = tx.WriteTo(ctxWriter{ctx, w})
		return err
	})
	if ctx.Err() != nil {
		return n, ctx.Err()
	}
	if err != nil {
		return n, fmt.Errorf("back up store: %v", err) // e.g. the writer's disk is full
	}
	return n, nil
}

// ctxWriter fails writes once ctx is done, ending a copy early.
type ctxWriter struct {
	ctx context.Context
	w   io.Writer
}

func (c ctxWriter) Write(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.w.Write(p)
}
