package store

import (
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"go.etcd.io/bbolt"
)

func openGroup(t *testing.T) *group {
	t.Helper()
	db, err := bbolt.Open(filepath.Join(t.TempDir(), "g.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Update(func(tx *bbolt.Tx) error { _, err := tx.CreateBucket([]byte("b")); return err }); err != nil {
		t.Fatal(err)
	}
	return &group{db: db, max: DefaultMaxBatchSize}
}

func put(key string) func(*bbolt.Tx) error {
	return func(tx *bbolt.Tx) error { return tx.Bucket([]byte("b")).Put([]byte(key), []byte("v")) }
}

func keys(t *testing.T, g *group) map[string]bool {
	t.Helper()
	got := map[string]bool{}
	g.db.View(func(tx *bbolt.Tx) error {
		return tx.Bucket([]byte("b")).ForEach(func(k, _ []byte) error { got[string(k)] = true; return nil })
	})
	return got
}

// holdLeader starts a call whose transaction waits until release is
// closed, and returns once it is under way: calls made meanwhile queue and
// then share one transaction.
func holdLeader(t *testing.T, g *group, wg *sync.WaitGroup) (release chan struct{}) {
	release = make(chan struct{})
	inside := make(chan struct{})
	wg.Go(func() {
		err := g.update(func(tx *bbolt.Tx) error {
			close(inside)
			<-release
			return put("leader")(tx)
		})
		if err != nil {
			t.Errorf("leader: %v", err)
		}
	})
	<-inside
	return release
}

// waitQueued waits until n calls are queued behind the leader.
func waitQueued(g *group, n int) {
	for {
		g.mu.Lock()
		q := len(g.queue)
		g.mu.Unlock()
		if q >= n {
			return
		}
		runtime.Gosched()
	}
}

// TestGroupSharesTransactions: calls that come while a transaction is under
// way share the next one; every call's write is committed.
func TestGroupSharesTransactions(t *testing.T) {
	g := openGroup(t)
	var wg sync.WaitGroup
	release := holdLeader(t, g, &wg)
	const n = 50
	for i := range n {
		wg.Go(func() {
			if err := g.update(put(fmt.Sprint("k", i))); err != nil {
				t.Errorf("call %d: %v", i, err)
			}
		})
	}
	waitQueued(g, n)
	close(release)
	wg.Wait()
	if got := keys(t, g); len(got) != n+1 {
		t.Errorf("%d keys committed, want %d", len(got), n+1)
	}
	if g.txs != 2 {
		t.Errorf("%d transactions for a held one and %d calls queued behind it, want 2", g.txs, n)
	}
	// A lone call commits in a transaction of its own, at once.
	if err := g.update(put("alone")); err != nil || !keys(t, g)["alone"] {
		t.Errorf("lone call: %v, committed %v", err, keys(t, g)["alone"])
	}
}

// TestGroupCapsTransactions: at most max calls share a transaction.
func TestGroupCapsTransactions(t *testing.T) {
	g := openGroup(t)
	g.max = 4
	var wg sync.WaitGroup
	release := holdLeader(t, g, &wg)
	for i := range 10 {
		wg.Go(func() {
			if err := g.update(put(fmt.Sprint("k", i))); err != nil {
				t.Errorf("call %d: %v", i, err)
			}
		})
	}
	waitQueued(g, 10)
	close(release)
	wg.Wait()
	if len(keys(t, g)) != 11 || g.txs != 4 {
		t.Errorf("%d keys in %d transactions, want 11 in 4 (1 held, then 4+4+2)", len(keys(t, g)), g.txs)
	}
}

// TestGroupFailureIsolated: a call whose function fails gets its error from
// a transaction of its own, and its writes are not kept; the calls it
// shared a transaction with are committed. A panic is the panicking
// caller's, as with bbolt's Batch.
func TestGroupFailureIsolated(t *testing.T) {
	g := openGroup(t)
	var wg sync.WaitGroup
	release := holdLeader(t, g, &wg)
	boom := errors.New("boom")
	var failErr error
	var panicked any
	wg.Go(func() {
		failErr = g.update(func(tx *bbolt.Tx) error {
			if err := put("failed")(tx); err != nil {
				return err
			}
			return boom
		})
	})
	waitQueued(g, 1)
	wg.Go(func() {
		defer func() { panicked = recover() }()
		g.update(func(tx *bbolt.Tx) error { panic("bad call") })
	})
	waitQueued(g, 2)
	for i := range 5 {
		wg.Go(func() {
			if err := g.update(put(fmt.Sprint("k", i))); err != nil {
				t.Errorf("call %d: %v", i, err)
			}
		})
	}
	waitQueued(g, 7)
	close(release)
	wg.Wait()
	if !errors.Is(failErr, boom) {
		t.Errorf("failing call returned %v, want %v", failErr, boom)
	}
	if panicked != "bad call" {
		t.Errorf("panicking caller recovered %v, want its own panic", panicked)
	}
	got := keys(t, g)
	if got["failed"] || len(got) != 6 {
		t.Errorf("keys %v, want leader and k0..k4 (not the failed call's write)", got)
	}
}

// TestGroupWaitsForCompany: after a shared transaction the next one waits
// (up to the delay) until as many calls have come, so a busy spell keeps
// its transactions full; after a quiet spell a lone call commits at once.
func TestGroupWaitsForCompany(t *testing.T) {
	g := openGroup(t)
	g.delay = time.Hour // only company ends the wait in this test
	var wg sync.WaitGroup
	release := holdLeader(t, g, &wg)
	for i := range 3 {
		wg.Go(func() {
			if err := g.update(put(fmt.Sprint("a", i))); err != nil {
				t.Errorf("call a%d: %v", i, err)
			}
		})
	}
	waitQueued(g, 3)
	close(release)
	wg.Wait() // transactions: the held one, then a0..a2 together
	if g.txs != 2 || g.last != 3 {
		t.Fatalf("%d transactions, the last of %d calls; want 2, the last of 3", g.txs, g.last)
	}

	// The next call waits for two more before committing.
	first := make(chan error, 1)
	go func() { first <- g.update(put("b0")) }()
	for {
		g.mu.Lock()
		waiting := g.grown != nil
		g.mu.Unlock()
		if waiting {
			break
		}
		runtime.Gosched()
	}
	if g.txs != 2 {
		t.Fatalf("the call committed (%d transactions) before its company came", g.txs)
	}
	for i := 1; i < 3; i++ {
		wg.Go(func() {
			if err := g.update(put(fmt.Sprint("b", i))); err != nil {
				t.Errorf("call b%d: %v", i, err)
			}
		})
	}
	wg.Wait()
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	if g.txs != 3 || len(keys(t, g)) != 7 {
		t.Errorf("%d transactions and %d keys, want b0..b2 in one: 3 and 7", g.txs, len(keys(t, g)))
	}

	// Quiet for longer than idleReset delays: a lone call does not wait.
	g.mu.Lock()
	g.idle = time.Now().Add(-idleReset*g.delay - time.Minute)
	g.mu.Unlock()
	if err := g.update(put("c")); err != nil || g.txs != 4 {
		t.Errorf("lone call after a quiet spell: %v, %d transactions, want 4", err, g.txs)
	}
}

// TestGroupLoneFailure: a call alone in its transaction gets its error at
// once, its function run once; a lone panic is raised in its caller.
func TestGroupLoneFailure(t *testing.T) {
	g := openGroup(t)
	boom := errors.New("boom")
	runs := 0
	err := g.update(func(tx *bbolt.Tx) error { runs++; return boom })
	if !errors.Is(err, boom) || runs != 1 {
		t.Errorf("lone failing call: %v after %d runs, want %v after 1", err, runs, boom)
	}
	func() {
		defer func() {
			if p := recover(); p != "lone panic" {
				t.Errorf("recovered %v, want the call's own panic", p)
			}
		}()
		g.update(func(tx *bbolt.Tx) error { panic("lone panic") })
	}()
	if err := g.update(put("after")); err != nil || !keys(t, g)["after"] {
		t.Errorf("a call after the failures: %v", err)
	}
}
