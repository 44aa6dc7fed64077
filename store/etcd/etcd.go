package etcd

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"

	"supportbot/bot"
	"supportbot/store"
)

// DefaultPrefix is the key prefix used when Options.Prefix is empty.
const DefaultPrefix = "supportbot/"

// maxTxnOps is etcd's default limit on the operations of one Txn
// (--max-txn-ops); compares do not count.
const maxTxnOps = 128

// maxReplies is the most replies one Commit may append: the session and
// the handled marker take two of a Txn's operations.
const maxReplies = maxTxnOps - 2

// ErrKeyMismatch is returned, wrapped, by Open when the cluster holds the
// fingerprint of another token-encryption key: every replica must use the
// same SUPPORTBOT_KEY.
var ErrKeyMismatch = errors.New("etcd store: the cluster's sessions are sealed with another token key; every replica must use the same SUPPORTBOT_KEY")

// Options configure Open. Client and Key are required.
type Options struct {
	// Client is a connected etcd client. The Store does not close it.
	Client *clientv3.Client
	// Prefix is put before every key; empty means DefaultPrefix.
	Prefix string
	// Key is the 32-byte token-encryption key, the same as the bbolt
	// store's.
	Key []byte
	// HandledTTL is how long a handled update id is remembered, counted
	// from its commit; zero means store.DefaultHandledTTL.
	HandledTTL time.Duration
	// Now is the clock; nil means time.Now. It stamps handled update ids
	// and sessions committed with a zero Updated, and ages handled ids.
	Now func() time.Time
	// Fence, if set, names the leadership key and the create revision at
	// which this replica holds it. Every write (Commit, Delivered, Expire,
	// KV Put and Delete) checks, in its own Txn, that the key still has
	// that create revision, and fails with bot.ErrFenced when not.
	Fence func() (key string, rev int64)
}

// Store is an etcd-backed bot.Store. Its methods are safe for concurrent
// use.
type Store struct {
	cli    *clientv3.Client
	prefix string
	codec  *store.Codec
	ttl    time.Duration
	bucket time.Duration // width of a handled-id lease's time bucket
	now    func() time.Time
	fence  func() (string, int64)

	nonce string        // random per Store, names envelope keys
	seq   atomic.Uint64 // per Commit, names envelope keys

	mu     sync.Mutex
	leases map[int64]clientv3.LeaseID // by bucket number
}

var _ bot.Store = (*Store)(nil)

// Open returns a Store on opt.Client. It checks that the cluster answers
// within ctx, records the token key's fingerprint if the cluster has none,
// and fails with an error wrapping ErrKeyMismatch if it has another one.
func Open(ctx context.Context, opt Options) (*Store, error) {
	if opt.Client == nil {
		return nil, errors.New("open etcd store: no client")
	}
	codec, err := store.NewCodec(opt.Key)
	if err != nil {
		return nil, fmt.Errorf("open etcd store: %v", err)
	}
	var nonce [8]byte
	_, _ = rand.Read(nonce[:]) // never fails
	s := &Store{
		cli:    opt.Client,
		prefix: opt.Prefix,
		codec:  codec,
		ttl:    opt.HandledTTL,
		now:    opt.Now,
		fence:  opt.Fence,
		nonce:  fmt.Sprintf("%016x", binary.BigEndian.Uint64(nonce[:])),
		leases: map[int64]clientv3.LeaseID{},
	}
	if s.prefix == "" {
		s.prefix = DefaultPrefix
	}
	if s.ttl <= 0 {
		s.ttl = store.DefaultHandledTTL
	}
	// About 168 buckets per TTL: an hour at the default week.
	s.bucket = min(max(s.ttl/168, time.Second), time.Hour)
	if s.now == nil {
		s.now = time.Now
	}

	fk := s.prefix + "meta/key-fingerprint"
	want := store.KeyFingerprint(opt.Key)
	resp, err := s.cli.Txn(ctx).
		If(clientv3.Compare(clientv3.CreateRevision(fk), "=", 0)).
		Then(clientv3.OpPut(fk, want)).
		Else(clientv3.OpGet(fk)).
		Commit()
	if err != nil {
		return nil, s.fail(ctx, err, "open etcd store: check %s", fk)
	}
	if !resp.Succeeded {
		kvs := resp.Responses[0].GetResponseRange().Kvs
		if len(kvs) == 1 && string(kvs[0].Value) != want {
			return nil, fmt.Errorf("open etcd store: %s: %w", fk, ErrKeyMismatch)
		}
	}
	return s, nil
}

// Close stops the Store's work. It neither closes the client nor revokes
// leases: the handled markers must outlive the process.
func (s *Store) Close() error { return nil }

// Ping checks that the cluster answers a linearizable read, for a
// readiness probe.
func (s *Store) Ping(ctx context.Context) error {
	k := s.prefix + "meta/key-fingerprint"
	if _, err := s.cli.Get(ctx, k, clientv3.WithCountOnly()); err != nil {
		return s.fail(ctx, err, "ping etcd: read %s", k)
	}
	return nil
}

// fail builds the error of a failed etcd call: ctx's error is wrapped, so
// callers can tell a deadline; any other is only described.
func (s *Store) fail(ctx context.Context, err error, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if ctx.Err() != nil {
		return fmt.Errorf("%s: %w", msg, ctx.Err())
	}
	return fmt.Errorf("%s: %v", msg, err)
}

func (s *Store) sessionKey(key string) string { return s.prefix + "s/" + key }

func (s *Store) handledKey(channel string, id int64) string {
	return s.prefix + "h/" + channel + "/" + strconv.FormatInt(id, 10)
}

// fenceCmps returns the compare that this replica still holds its
// leadership key, and that key; none without a Fence.
func (s *Store) fenceCmps() ([]clientv3.Cmp, string, int64) {
	if s.fence == nil {
		return nil, "", 0
	}
	k, rev := s.fence()
	return []clientv3.Cmp{clientv3.Compare(clientv3.CreateRevision(k), "=", rev)}, k, rev
}

// fencedTxn runs ops in Txns of at most maxTxnOps-1 operations, each
// guarded by the fence, and fails with an error wrapping bot.ErrFenced as
// soon as one is refused.
func (s *Store) fencedTxn(ctx context.Context, ops []clientv3.Op, what string) error {
	for chunk := range slices.Chunk(ops, maxTxnOps-1) {
		cmps, fk, _ := s.fenceCmps()
		resp, err := s.cli.Txn(ctx).If(cmps...).Then(chunk...).Commit()
		if err != nil {
			return s.fail(ctx, err, "%s", what)
		}
		if !resp.Succeeded {
			return fmt.Errorf("%s: fence %s lost: %w", what, fk, bot.ErrFenced)
		}
	}
	return nil
}

// Load returns the session stored under key; ok is false if there is none.
// Session.Rev is the stored value's ModRevision. An undecodable session is
// returned as a zero Session with its Rev set, ok true, and an error
// wrapping bot.ErrUnreadable (and store.ErrDecrypt or
// store.ErrSchemaVersion), so the engine can replace it.
func (s *Store) Load(ctx context.Context, key string) (bot.Session, bool, error) {
	if err := ctx.Err(); err != nil {
		return bot.Session{}, false, err
	}
	resp, err := s.cli.Get(ctx, s.sessionKey(key))
	if err != nil {
		return bot.Session{}, false, s.fail(ctx, err, "load session %s", key)
	}
	if len(resp.Kvs) == 0 {
		return bot.Session{}, false, nil
	}
	kv := resp.Kvs[0]
	sess, err := s.codec.DecodeSession(key, kv.Value)
	sess.Rev = kv.ModRevision
	if err != nil {
		return sess, true, fmt.Errorf("load session %s: %w", key, err)
	}
	return sess, true, nil
}

// Handled reports whether updateID was committed for the channel of key
// less than HandledTTL ago. A zero updateID is never handled.
func (s *Store) Handled(ctx context.Context, key string, updateID int64) (bool, error) {
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
	resp, err := s.cli.Get(ctx, s.handledKey(channel, updateID))
	if err != nil {
		return false, s.fail(ctx, err, "check update %d of %s", updateID, key)
	}
	return len(resp.Kvs) == 1 && s.remembered(resp.Kvs[0].Value, s.now()), nil
}

// remembered reports whether a handled marker whose value is stamp (its
// commit time in decimal Unix seconds) still counts at now.
func (s *Store) remembered(stamp []byte, now time.Time) bool {
	sec, err := strconv.ParseInt(string(stamp), 10, 64)
	if err != nil {
		return false
	}
	return now.Before(time.Unix(sec, 0).Add(s.ttl))
}

// Commit writes c.Session, records c.UpdateID as handled on the key's
// channel and appends c.Replies to the outbox in one etcd Txn, and returns
// the stored envelopes in order. Nothing is written when it fails: with an
// error wrapping bot.ErrFenced when this replica lost its leadership,
// bot.ErrDuplicate when c.UpdateID was already handled, and bot.ErrConflict
// when the stored session is not at c.Session.Rev.
//
// After an error that says neither (a timeout, a leader change), the Txn
// may or may not have been applied: commit the same update id again, and
// ErrDuplicate tells it was.
func (s *Store) Commit(ctx context.Context, c bot.Commit) ([]bot.Envelope, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	key := c.Session.Key
	channel, err := channelOf(key)
	if err != nil {
		return nil, err
	}
	if len(c.Replies) > maxReplies {
		return nil, fmt.Errorf("commit session %s: %d replies, at most %d", key, len(c.Replies), maxReplies)
	}
	now := s.now()
	sess := c.Session
	if sess.Updated.IsZero() {
		sess.Updated = now
	}
	val, err := s.codec.EncodeSession(sess)
	if err != nil {
		return nil, fmt.Errorf("commit: %v", err) // names the key
	}

	sk := s.sessionKey(key)
	ops := []clientv3.Op{clientv3.OpPut(sk, string(val))}
	var hk string
	if c.UpdateID != 0 {
		hk = s.handledKey(channel, c.UpdateID)
		ops = append(ops, clientv3.OpPut(hk, "")) // its value and lease are set per attempt
	}
	out := make([]bot.Envelope, len(c.Replies))
	token := fmt.Sprintf("%s%016x", s.nonce, s.seq.Add(1))
	for i, r := range c.Replies {
		to := key
		if r.To != "" {
			to = r.To
		}
		ch, err := channelOf(to)
		if err != nil {
			return nil, err
		}
		out[i] = bot.Envelope{Key: to, Lang: c.Lang, Reply: r}
		v, err := json.Marshal(out[i])
		if err != nil {
			return nil, fmt.Errorf("commit session %s: encode envelope: %v", key, err)
		}
		ok := fmt.Sprintf("%so/%s/%s/%s-%02x", s.prefix, ch, to, token, i)
		ops = append(ops, clientv3.OpPut(ok, string(v)))
	}

	// staleRev is the ModRevision of a handled marker older than the TTL
	// whose lease has not deleted it yet: it no longer counts, and is
	// overwritten if it is still that one.
	var staleRev int64
	for attempt := 0; ; attempt++ {
		cmps, fk, frev := s.fenceCmps()
		cmps = append(cmps, clientv3.Compare(clientv3.ModRevision(sk), "=", c.Session.Rev))
		elses := []clientv3.Op{clientv3.OpGet(sk, clientv3.WithKeysOnly())}
		var lease clientv3.LeaseID
		if hk != "" {
			if staleRev != 0 {
				cmps = append(cmps, clientv3.Compare(clientv3.ModRevision(hk), "=", staleRev))
			} else {
				cmps = append(cmps, clientv3.Compare(clientv3.CreateRevision(hk), "=", 0))
			}
			lease, err = s.lease(ctx, now)
			if err != nil {
				return nil, s.fail(ctx, err, "commit session %s: grant lease for update %d", key, c.UpdateID)
			}
			ops[1] = clientv3.OpPut(hk, strconv.FormatInt(now.Unix(), 10), clientv3.WithLease(lease))
			elses = append(elses, clientv3.OpGet(hk))
		}
		if fk != "" {
			elses = append(elses, clientv3.OpGet(fk, clientv3.WithKeysOnly()))
		}
		resp, err := s.cli.Txn(ctx).If(cmps...).Then(ops...).Else(elses...).Commit()
		if errors.Is(err, rpctypes.ErrLeaseNotFound) && attempt < 3 {
			s.forgetLease(lease) // expired: grant a new one
			continue
		}
		if err != nil {
			return nil, s.fail(ctx, err, "commit session %s", key)
		}
		if resp.Succeeded {
			rev := uint64(resp.Header.Revision)
			for i := range out {
				out[i].ID = rev<<8 | uint64(i)
			}
			return out, nil
		}

		// Which compare failed: the fence, then the update id, then the
		// session.
		rs := resp.Responses
		if fk != "" {
			kvs := rs[len(rs)-1].GetResponseRange().Kvs
			if len(kvs) == 0 || kvs[0].CreateRevision != frev {
				return nil, fmt.Errorf("commit session %s: fence %s lost: %w", key, fk, bot.ErrFenced)
			}
		}
		if hk != "" {
			if kvs := rs[1].GetResponseRange().Kvs; len(kvs) == 1 {
				if s.remembered(kvs[0].Value, now) {
					return nil, fmt.Errorf("commit %s update %d: %w", key, c.UpdateID, bot.ErrDuplicate)
				}
				if kvs[0].ModRevision != staleRev && attempt < 3 {
					staleRev = kvs[0].ModRevision
					continue
				}
			} else if staleRev != 0 && attempt < 3 {
				staleRev = 0 // the lease deleted it meanwhile
				continue
			}
		}
		var stored int64
		if kvs := rs[0].GetResponseRange().Kvs; len(kvs) == 1 {
			stored = kvs[0].ModRevision
		}
		if stored != c.Session.Rev {
			return nil, fmt.Errorf("commit session %s: read at revision %d, stored at %d: %w", key, c.Session.Rev, stored, bot.ErrConflict)
		}
		return nil, fmt.Errorf("commit session %s: transaction refused", key)
	}
}

// lease returns the lease for handled markers committed at now: one per
// time bucket, granted on first use for HandledTTL plus the bucket's width,
// so each marker outlives its TTL by at most one bucket.
func (s *Store) lease(ctx context.Context, now time.Time) (clientv3.LeaseID, error) {
	b := now.UnixNano() / int64(s.bucket)
	s.mu.Lock()
	id, ok := s.leases[b]
	s.mu.Unlock()
	if ok {
		return id, nil
	}
	ttl := int64((s.ttl + s.bucket + time.Second - 1) / time.Second)
	resp, err := s.cli.Grant(ctx, ttl)
	if err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if id, ok := s.leases[b]; ok {
		// Another Commit granted one first; ours lapses unused.
		return id, nil
	}
	for old := range s.leases {
		if old < b {
			delete(s.leases, old)
		}
	}
	s.leases[b] = resp.ID
	return resp.ID, nil
}

// forgetLease drops an expired lease from the cache.
func (s *Store) forgetLease(id clientv3.LeaseID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for b, l := range s.leases {
		if l == id {
			delete(s.leases, b)
		}
	}
}

// ExpireHandled returns 0: etcd's leases delete handled markers, and a
// marker older than HandledTTL no longer counts even before that. It exists
// for parity with the bbolt store.
func (s *Store) ExpireHandled(ctx context.Context) (int, error) { return 0, ctx.Err() }

// outboxPrefix is the prefix of channel's envelope keys.
func (s *Store) outboxPrefix(channel string) string { return s.prefix + "o/" + channel + "/" }

// envelopeID returns the ID of the envelope stored in kv: its create
// revision and its place in its Commit, the key's last two hex digits.
func envelopeID(key []byte, createRev int64) (uint64, error) {
	i := len(key) - 2
	if i < 1 || key[i-1] != '-' {
		return 0, fmt.Errorf("envelope key %s: no index", key)
	}
	ix, err := strconv.ParseUint(string(key[i:]), 16, 8)
	if err != nil {
		return 0, fmt.Errorf("envelope key %s: no index", key)
	}
	return uint64(createRev)<<8 | ix, nil
}

// Pending returns up to limit undelivered envelopes of channel with an ID
// above after, in ID order; limit <= 0 means all of them.
func (s *Store) Pending(ctx context.Context, channel string, after uint64, limit int) ([]bot.Envelope, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if after == ^uint64(0) {
		return nil, nil // no ID above
	}
	p := s.outboxPrefix(channel)
	rev := int64(after >> 8)
	var out []bot.Envelope
	add := func(resp *clientv3.GetResponse) error {
		for _, kv := range resp.Kvs {
			id, err := envelopeID(kv.Key, kv.CreateRevision)
			if err != nil {
				return err
			}
			if id <= after || slices.ContainsFunc(out, func(e bot.Envelope) bool { return e.ID == id }) {
				continue
			}
			var e bot.Envelope
			if err := json.Unmarshal(kv.Value, &e); err != nil {
				return fmt.Errorf("decode envelope %s: %v", kv.Key, err)
			}
			e.ID = id
			out = append(out, e)
		}
		return nil
	}
	get := func(opts ...clientv3.OpOption) error {
		resp, err := s.cli.Get(ctx, p, append(opts, clientv3.WithPrefix())...)
		if err != nil {
			return s.fail(ctx, err, "read outbox %s", channel)
		}
		if err := add(resp); err != nil {
			return err
		}
		if !resp.More {
			return nil
		}
		// The limit may have cut a Commit's envelopes apart: fetch all of
		// the last one's.
		last := resp.Kvs[len(resp.Kvs)-1].CreateRevision
		resp, err = s.cli.Get(ctx, p, clientv3.WithPrefix(), clientv3.WithMinCreateRev(last), clientv3.WithMaxCreateRev(last))
		if err != nil {
			return s.fail(ctx, err, "read outbox %s", channel)
		}
		return add(resp)
	}
	if rev > 0 {
		// The rest of the Commit that holds after.
		if err := get(clientv3.WithMinCreateRev(rev), clientv3.WithMaxCreateRev(rev)); err != nil {
			return nil, err
		}
	}
	opts := []clientv3.OpOption{clientv3.WithMinCreateRev(rev + 1), clientv3.WithSort(clientv3.SortByCreateRevision, clientv3.SortAscend)}
	if limit > 0 {
		opts = append(opts, clientv3.WithLimit(int64(limit)))
	}
	if err := get(opts...); err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b bot.Envelope) int { return cmpUint(a.ID, b.ID) })
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

func cmpUint(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Delivered removes the envelopes with the given IDs from the outbox, in
// Txns of at most maxTxnOps-1 deletes. IDs not in the outbox are ignored.
// It fails with an error wrapping bot.ErrFenced when this replica lost its
// leadership; chunks before the refused one stay deleted.
func (s *Store) Delivered(ctx context.Context, ids ...uint64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(ids) == 0 {
		return nil
	}
	want := make(map[uint64]bool, len(ids))
	lo, hi := ids[0], ids[0]
	for _, id := range ids {
		want[id] = true
		lo, hi = min(lo, id), max(hi, id)
	}
	if lo>>8 == 0 {
		lo = 1 << 8 // revision 0 holds nothing; 0 would mean no bound
	}
	if hi>>8 < lo>>8 {
		return nil
	}
	resp, err := s.cli.Get(ctx, s.prefix+"o/", clientv3.WithPrefix(), clientv3.WithKeysOnly(),
		clientv3.WithMinCreateRev(int64(lo>>8)), clientv3.WithMaxCreateRev(int64(hi>>8)))
	if err != nil {
		return s.fail(ctx, err, "delete delivered envelopes: read outbox")
	}
	var ops []clientv3.Op
	for _, kv := range resp.Kvs {
		id, err := envelopeID(kv.Key, kv.CreateRevision)
		if err != nil {
			return err
		}
		if want[id] {
			ops = append(ops, clientv3.OpDelete(string(kv.Key)))
		}
	}
	return s.fencedTxn(ctx, ops, "delete delivered envelopes")
}

// expirePage is how many sessions Expire reads at a time.
const expirePage = 1000

// Expire deletes the sessions whose Updated is before before and returns
// how many it deleted. It reads them a page at a time and deletes in Txns
// of at most maxTxnOps-1 deletes; a session committed meanwhile is kept.
// It fails with an error wrapping bot.ErrFenced when this replica lost its
// leadership.
func (s *Store) Expire(ctx context.Context, before time.Time) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	p := s.prefix + "s/"
	end := clientv3.GetPrefixRangeEnd(p)
	type old struct {
		key string
		rev int64
	}
	var olds []old
	for from := p; ; {
		resp, err := s.cli.Get(ctx, from, clientv3.WithRange(end), clientv3.WithLimit(expirePage))
		if err != nil {
			return 0, s.fail(ctx, err, "expire sessions: read from %s", from)
		}
		for _, kv := range resp.Kvs {
			var sess struct {
				Updated time.Time `json:"updated"`
			}
			if err := json.Unmarshal(kv.Value, &sess); err != nil {
				return 0, fmt.Errorf("expire sessions: decode session %s: %v", strings.TrimPrefix(string(kv.Key), p), err)
			}
			if sess.Updated.Before(before) {
				olds = append(olds, old{string(kv.Key), kv.ModRevision})
			}
		}
		if !resp.More || len(resp.Kvs) == 0 {
			break
		}
		from = string(resp.Kvs[len(resp.Kvs)-1].Key) + "\x00"
	}
	n := 0
	for chunk := range slices.Chunk(olds, maxTxnOps-1) {
		// Each delete is its own nested Txn, so a session committed since
		// it was read is kept without failing the others.
		ops := make([]clientv3.Op, len(chunk))
		for i, o := range chunk {
			ops[i] = clientv3.OpTxn(
				[]clientv3.Cmp{clientv3.Compare(clientv3.ModRevision(o.key), "=", o.rev)},
				[]clientv3.Op{clientv3.OpDelete(o.key)}, nil)
		}
		cmps, fk, _ := s.fenceCmps()
		resp, err := s.cli.Txn(ctx).If(cmps...).Then(ops...).Commit()
		if err != nil {
			return n, s.fail(ctx, err, "expire sessions")
		}
		if !resp.Succeeded {
			return n, fmt.Errorf("expire sessions: fence %s lost: %w", fk, bot.ErrFenced)
		}
		for _, r := range resp.Responses {
			if r.GetResponseTxn().GetSucceeded() {
				n++
			}
		}
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
