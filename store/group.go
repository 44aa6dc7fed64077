package store

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"go.etcd.io/bbolt"
)

// group commits write functions together. A call that finds no
// transaction under way commits at once; calls that come while one is
// under way (its fsync, mostly) queue, and when it ends the first of them
// leads the queue into the next transaction. If the last transaction was
// shared, the leader first waits up to delay for as many calls as it had:
// conversations whose commits just returned need a moment to make their
// next one, and without the wait their transactions would shrink to the
// few that happened to be queued.
//
// So a lone conversation pays one transaction per commit and no delay,
// and many share transactions as with bbolt's DB.Batch, which instead
// holds every call, even a lone one, up to its MaxBatchDelay and commits
// on a timer's goroutine.
type group struct {
	db    *bbolt.DB
	max   int           // most calls per transaction
	delay time.Duration // longest wait for company

	mu    sync.Mutex
	busy  bool // a leader is committing
	queue []*groupCall
	last  int           // calls in the last transaction
	idle  time.Time     // when the last busy spell ended
	want  int           // a waiting leader's queue target
	grown chan struct{} // closed when the queue reaches want
	txs   int           // shared transactions committed or rolled back, for tests
}

type groupCall struct {
	fn   func(*bbolt.Tx) error
	done chan error    // the call's result
	lead chan struct{} // the call leads the queue into the next transaction
}

// errSolo tells a call whose function failed in a shared transaction to
// run again in a transaction of its own: the failure may have been caused
// by another call's writes, which were rolled back with it.
var errSolo = errors.New("store: run alone")

// update runs fn in a write transaction, shared with other calls of
// update. As with DB.Batch, fn may be called more than once and must be
// idempotent; its error is returned from a transaction it ran in alone.
func (g *group) update(fn func(*bbolt.Tx) error) error {
	c := &groupCall{fn: fn, done: make(chan error, 1), lead: make(chan struct{}, 1)}
	g.mu.Lock()
	if g.busy {
		g.queue = append(g.queue, c)
		if g.grown != nil && len(g.queue) >= g.want {
			close(g.grown)
			g.grown = nil
		}
		g.mu.Unlock()
		select {
		case <-c.lead:
			return g.leadBatch(c)
		case err := <-c.done:
			return g.result(c, err)
		}
	}
	g.busy = true
	if time.Since(g.idle) > idleReset*g.delay {
		// Quiet for a while: no company is coming.
		g.last = 1
	}
	g.mu.Unlock()
	return g.leadBatch(c)
}

// idleReset, times the delay, is how long without a transaction makes a
// call that finds none under way commit alone at once, however many
// shared the last one. Between the bursts of a busy spell the pause is
// shorter, and the next transaction waits for the burst's company.
const idleReset = 5

// leadBatch commits c and the calls queued behind it, hands the lead to
// the next queued call (or ends the busy spell) and returns c's own
// result.
func (g *group) leadBatch(c *groupCall) error {
	g.mu.Lock()
	if g.delay > 0 && g.last > 1 && len(g.queue)+1 < min(g.last, g.max) {
		g.want = min(g.last, g.max) - 1
		grown := make(chan struct{})
		g.grown = grown
		g.mu.Unlock()
		t := time.NewTimer(g.delay)
		select {
		case <-grown:
		case <-t.C:
		}
		t.Stop()
		g.mu.Lock()
		g.grown = nil
	}
	n := min(len(g.queue), g.max-1)
	batch := append([]*groupCall{c}, g.queue[:n]...)
	g.queue = append([]*groupCall(nil), g.queue[n:]...)
	g.last = len(batch)
	g.mu.Unlock()

	g.commit(batch)

	g.mu.Lock()
	if len(g.queue) == 0 {
		g.busy = false
		g.idle = time.Now()
	} else {
		next := g.queue[0]
		g.queue = g.queue[1:]
		next.lead <- struct{}{}
	}
	g.mu.Unlock()
	return g.result(c, <-c.done)
}

// result is what update returns for c, given what its transaction said.
func (g *group) result(c *groupCall, err error) error {
	if errors.Is(err, errSolo) {
		return g.db.Update(c.fn)
	}
	return err
}

// commit runs calls in one transaction and sends each its result. A call
// whose function fails among others (or panics) is taken out and told to
// run alone (errSolo), and the others go again without it.
func (g *group) commit(calls []*groupCall) {
	for len(calls) > 0 {
		failed := -1
		g.mu.Lock()
		g.txs++
		g.mu.Unlock()
		err := g.db.Update(func(tx *bbolt.Tx) error {
			for i, c := range calls {
				if err := safeCall(c.fn, tx); err != nil {
					failed = i
					return err
				}
			}
			return nil
		})
		var p *panicError
		if failed < 0 || len(calls) == 1 && !errors.As(err, &p) {
			// Committed, or a lone call's own answer: no need to run
			// it again.
			for _, c := range calls {
				c.done <- err
			}
			return
		}
		calls[failed].done <- errSolo
		calls = append(calls[:failed:failed], calls[failed+1:]...)
	}
}

// panicError is a panic in a call's function, recovered so that it fails
// that call only: the call then runs alone and panics in its own caller.
type panicError struct{ v any }

func (p *panicError) Error() string { return fmt.Sprintf("panic: %v", p.v) }

// safeCall calls fn, turning a panic into a *panicError.
func safeCall(fn func(*bbolt.Tx) error, tx *bbolt.Tx) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = &panicError{p}
		}
	}()
	return fn(tx)
}
