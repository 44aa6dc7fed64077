// Package etcdtest runs etcd clusters inside a test process, on loopback
// ports and in temporary directories, for the tests of store/etcd and of
// whatever runs on it. It is the etcd counterpart of httptest.
package etcdtest

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"
)

// startTimeout bounds how long StartCluster waits for the members to be
// ready.
const startTimeout = 20 * time.Second

// Cluster is a running embedded etcd cluster.
type Cluster struct {
	t         testing.TB
	mu        sync.Mutex
	members   []*embed.Etcd // nil once killed
	endpoints []string
}

// StartCluster starts an n-member cluster, in t.TempDir() on free loopback
// ports, waits until every member is ready, and stops it when the test
// ends. Members are durable (fsync on) and log nothing.
func StartCluster(t testing.TB, n int) *Cluster {
	t.Helper()
	c := &Cluster{t: t}
	cfgs := make([]*embed.Config, n)
	var initial []string
	for i := range n {
		cfg := embed.NewConfig()
		cfg.Name = fmt.Sprintf("m%d", i)
		cfg.Dir = t.TempDir()
		peer, client := freeURL(t), freeURL(t)
		cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{peer}, []url.URL{peer}
		cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{client}, []url.URL{client}
		cfg.InitialClusterToken = "etcdtest"
		cfg.ZapLoggerBuilder = embed.NewZapLoggerBuilder(zap.NewNop())
		cfgs[i] = cfg
		initial = append(initial, cfg.Name+"="+peer.String())
		c.endpoints = append(c.endpoints, client.String())
	}
	// Members start concurrently: each waits for a quorum of peers.
	c.members = make([]*embed.Etcd, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i, cfg := range cfgs {
		cfg.InitialCluster = strings.Join(initial, ",")
		wg.Go(func() {
			e, err := embed.StartEtcd(cfg)
			if err != nil {
				errs[i] = err
				return
			}
			c.mu.Lock()
			c.members[i] = e
			c.mu.Unlock()
			select {
			case <-e.Server.ReadyNotify():
			case <-time.After(startTimeout):
				errs[i] = fmt.Errorf("member %s not ready after %v", cfg.Name, startTimeout)
			}
		})
	}
	wg.Wait()
	t.Cleanup(c.close)
	for _, err := range errs {
		if err != nil {
			t.Fatalf("start etcd: %v", err)
		}
	}
	return c
}

// freeURL returns a loopback URL on a port that was free a moment ago.
func freeURL(t testing.TB) url.URL {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return url.URL{Scheme: "http", Host: l.Addr().String()}
}

// close stops the members still running.
func (c *Cluster) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	var wg sync.WaitGroup
	for i, e := range c.members {
		if e != nil {
			wg.Go(e.Close)
			c.members[i] = nil
		}
	}
	wg.Wait()
}

// Endpoints returns the client URLs of all members, killed ones included.
func (c *Cluster) Endpoints() []string { return append([]string(nil), c.endpoints...) }

// Client returns a client of all members, closed when the test ends.
func (c *Cluster) Client(t testing.TB) *clientv3.Client {
	t.Helper()
	cli, err := clientv3.New(clientv3.Config{
		Endpoints:   c.endpoints,
		DialTimeout: 5 * time.Second,
		Logger:      zap.NewNop(),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() })
	return cli
}

// Kill stops member i at once: its clients' requests in flight fail, and
// it leaves the cluster's quorum.
func (c *Cluster) Kill(i int) {
	c.mu.Lock()
	e := c.members[i]
	c.members[i] = nil
	c.mu.Unlock()
	if e != nil {
		e.Close()
	}
}

// Leader returns the index of the raft leader, asking the running members;
// -1 if none knows one.
func (c *Cluster) Leader() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, e := range c.members {
		if e == nil {
			continue
		}
		lead := uint64(e.Server.Lead())
		for j, m := range c.members {
			if m != nil && uint64(m.Server.MemberID()) == lead {
				return j
			}
		}
	}
	return -1
}

// WaitLeader waits until the running members know a leader and returns its
// index; it fails when ctx ends first.
func (c *Cluster) WaitLeader(ctx context.Context) (int, error) {
	for {
		if l := c.Leader(); l >= 0 {
			return l, nil
		}
		select {
		case <-ctx.Done():
			return -1, fmt.Errorf("no etcd leader: %w", ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}
