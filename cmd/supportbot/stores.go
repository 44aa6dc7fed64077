package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.etcd.io/etcd/client/pkg/v3/transport"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"
	"go.uber.org/zap"

	"supportbot/bot"
	"supportbot/bot/slack"
	"supportbot/store"
	etcdstore "supportbot/store/etcd"
)

// sessionStore is what the program needs of its store, bbolt or etcd: the
// engine's bot.Store, and the hourly expiry of handled update ids.
type sessionStore interface {
	bot.Store
	ExpireHandled(ctx context.Context) (int, error)
}

var (
	_ sessionStore = (*store.DB)(nil)
	_ sessionStore = (*etcdstore.Store)(nil)
)

// etcdTimeout bounds dialing the etcd cluster and the start-up check that
// it answers.
const etcdTimeout = 5 * time.Second

// openStore opens the store Config.Store selects and sets m.sessions, and
// m.DB (bbolt) or m.replica (etcd).
func (m *Main) openStore(ctx context.Context, key []byte) error {
	c := &m.Config
	if c.Store != storeEtcd {
		var err error
		m.DB, err = store.Open(c.dbPath(), store.Options{Key: key, Timeout: time.Second, Batch: true, Now: m.Now, DeliveredDelay: deliveredDelay})
		if errors.Is(err, store.ErrLocked) {
			return fmt.Errorf("database %s is in use by another supportbot process; stop it or use another --data-dir", c.dbPath())
		}
		if err != nil {
			return err
		}
		m.sessions = m.DB
		return nil
	}
	r, err := m.openReplica(ctx, key)
	if err != nil {
		return err
	}
	m.replica = r
	m.sessions = r.store
	// A standby until elected: /readyz, served from the start of Run,
	// must not say ready before runReplica has campaigned.
	m.standby.Store(true)
	return nil
}

// openReplica connects to the etcd cluster, checks that it answers and
// holds sessions sealed with key, and opens the session for the election.
func (m *Main) openReplica(ctx context.Context, key []byte) (*replica, error) {
	c := &m.Config
	endpoints, err := c.etcdEndpoints()
	if err != nil {
		return nil, err
	}
	cfg := clientv3.Config{
		Endpoints:   endpoints,
		DialTimeout: etcdTimeout,
		Username:    c.EtcdUsername,
		Password:    c.EtcdPassword,
		Logger:      zap.NewNop(), // its failures reach us as errors
	}
	if cfg.TLS, err = c.etcdTLS(); err != nil {
		return nil, err
	}
	cli, err := clientv3.New(cfg)
	if err != nil {
		return nil, c.unreachable(err)
	}
	r := &replica{client: cli, id: replicaID(), log: m.Logger}
	r.fence.Store(&fence{key: c.EtcdPrefix + "leader/none", rev: -1}) // a standby writes nothing
	fail := func(err error) (*replica, error) {
		r.close()
		return nil, err
	}
	cctx, cancel := context.WithTimeout(ctx, etcdTimeout)
	defer cancel()
	// Any read proves the cluster answers (with its quorum) and takes our
	// credentials.
	if _, err := cli.Get(cctx, c.EtcdPrefix+"meta/", clientv3.WithPrefix(), clientv3.WithCountOnly()); err != nil {
		return fail(c.unreachable(err))
	}
	r.store, err = etcdstore.Open(cctx, etcdstore.Options{
		Client: cli, Prefix: c.EtcdPrefix, Key: key, Now: m.Now,
		Fence: func() (string, int64) { f := r.fence.Load(); return f.key, f.rev },
	})
	if errors.Is(err, etcdstore.ErrKeyMismatch) {
		return fail(fmt.Errorf("the etcd cluster at %s holds sessions sealed with another token key: every replica must use the same key; give each the same SUPPORTBOT_KEY (or --key, --key-file), the one the first replica used (%s)", c.EtcdEndpoints, m.keySource()))
	}
	if err != nil {
		return fail(c.unreachable(err))
	}
	r.session, err = concurrency.NewSession(cli, concurrency.WithTTL(sessionTTL), concurrency.WithContext(context.WithoutCancel(ctx)))
	if err != nil {
		return fail(c.unreachable(err))
	}
	r.election = concurrency.NewElection(r.session, c.EtcdPrefix+"leader")
	return r, nil
}

// keySource says where this replica's token key came from.
func (m *Main) keySource() string {
	if m.Config.Key != "" {
		return "this replica's is from " + m.Config.name("key")
	}
	return "this replica's is " + m.Config.keyPath() + ", created on its first run"
}

// unreachable is the start-up error for a cluster that does not answer.
// It names the endpoints, never the password.
func (c *Config) unreachable(err error) error {
	msg := err.Error()
	if c.EtcdPassword != "" {
		msg = strings.ReplaceAll(msg, c.EtcdPassword, "[redacted]")
	}
	return fmt.Errorf("cannot reach the etcd cluster at %s: %s", c.EtcdEndpoints, msg)
}

// etcdTLS returns the TLS configuration of the etcd client: nil without
// any TLS file.
func (c *Config) etcdTLS() (*tls.Config, error) {
	if c.EtcdCA == "" && c.EtcdCert == "" {
		return nil, nil
	}
	info := transport.TLSInfo{TrustedCAFile: c.EtcdCA, CertFile: c.EtcdCert, KeyFile: c.EtcdKey}
	cfg, err := info.ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("%s, %s, %s: %v", c.name("etcd-ca"), c.name("etcd-cert"), c.name("etcd-key"), err)
	}
	return cfg, nil
}

// kv returns the durable key-value space name of the chosen store.
func (m *Main) kv(name string) slack.KV {
	if m.replica != nil {
		return m.replica.store.KV(name)
	}
	return m.DB.KV(name)
}

// observedStore times the store's commits for the metrics and reports a
// fenced write, which means this replica is no longer the active one.
type observedStore struct {
	sessionStore
	observe func(time.Duration) // nil without metrics
	fenced  func(error)         // nil without replicas
}

// Commit implements bot.Store.
func (s observedStore) Commit(ctx context.Context, c bot.Commit) ([]bot.Envelope, error) {
	start := time.Now()
	envs, err := s.sessionStore.Commit(ctx, c)
	if s.observe != nil {
		s.observe(time.Since(start))
	}
	s.check(err)
	return envs, err
}

// Delivered implements bot.Store.
func (s observedStore) Delivered(ctx context.Context, ids ...uint64) error {
	err := s.sessionStore.Delivered(ctx, ids...)
	s.check(err)
	return err
}

func (s observedStore) check(err error) {
	if s.fenced != nil && errors.Is(err, bot.ErrFenced) {
		s.fenced(err)
	}
}

// Expire implements bot.Store.
func (s observedStore) Expire(ctx context.Context, before time.Time) (int, error) {
	n, err := s.sessionStore.Expire(ctx, before)
	s.check(err)
	return n, err
}

// observeStore wraps the chosen store s: its commits timed for the
// metrics, a fenced write ending this replica's leadership.
func (m *Main) observeStore(s sessionStore) sessionStore {
	o := observedStore{sessionStore: s}
	if m.metrics != nil {
		o.observe = func(d time.Duration) { m.metrics.commitSeconds.Observe(d.Seconds()) }
	}
	if m.replica != nil {
		o.fenced = m.replica.lose
	}
	return o
}

// deliveredDelay is how long the bbolt store may wait to remove delivered
// replies (store.Options.DeliveredDelay): usually the next commit removes
// them first, so a reply costs one write transaction instead of two. After
// a crash, replies delivered in this last moment are sent again.
const deliveredDelay = 100 * time.Millisecond
