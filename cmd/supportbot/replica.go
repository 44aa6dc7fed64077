package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync/atomic"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"

	etcdstore "supportbot/store/etcd"
)

// This file runs supportbot as one of several replicas sharing an etcd
// store (--store=etcd): they campaign in an etcd election, and only the
// one elected serves customers. The others are standbys: they neither
// poll Telegram nor handle its webhook (they answer it 503), run no staff
// side and no expiry, and /readyz says "standby". Every write of the
// active replica is fenced by its election key, so once it has lost the
// election (its etcd session ended, say while it was paused) nothing it
// commits is written: it stops, and Run returns errNoLongerActive.

// sessionTTL is the etcd session's time to live, in seconds: how long a
// replica that died keeps its leadership before a standby takes over.
const sessionTTL = 5

// errNoLongerActive is returned by Run when this replica lost its
// leadership: another replica serves the customers now. The process exits
// with an error, so a supervisor restarts it as a standby.
var errNoLongerActive = errors.New("this replica is no longer the active one (its etcd session ended or a write was fenced); another replica serves the customers now; restart it to join as a standby")

// replica is this process's part in the election.
type replica struct {
	client   *clientv3.Client
	store    *etcdstore.Store
	session  *concurrency.Session
	election *concurrency.Election
	id       string
	log      *slog.Logger
	// fence is the election key and its create revision while active;
	// before, a key that never exists, so a standby writes nothing.
	fence atomic.Pointer[fence]
	// lost is set once this replica is no longer active: from then on no
	// Bot API call leaves the process.
	lost atomic.Bool
	// stop ends the active replica's serving with its cause; set before
	// the campaign.
	stop atomic.Pointer[context.CancelCauseFunc]
}

type fence struct {
	key string
	rev int64
}

// replicaID names this process in the election: host name and pid.
func replicaID() string {
	host, err := os.Hostname()
	if err != nil {
		host = "unknown"
	}
	return host + "/" + strconv.Itoa(os.Getpid())
}

// lose marks the replica as no longer active, because of err, and stops
// its serving at once.
func (r *replica) lose(err error) {
	if r.lost.Swap(true) {
		return
	}
	r.log.Error("no longer the active replica: stopping at once, another replica serves the customers now", "replica", r.id, "err", err)
	if stop := r.stop.Load(); stop != nil {
		(*stop)(errNoLongerActive)
	}
}

// close releases the election session (so a standby takes over at once)
// and the client.
func (r *replica) close() error {
	var errs []error
	if r.session != nil {
		errs = append(errs, r.session.Close())
	}
	if r.store != nil {
		errs = append(errs, r.store.Close())
	}
	errs = append(errs, r.client.Close())
	return errors.Join(errs...)
}

// runReplica campaigns until this replica is elected, serving as a standby
// meanwhile, then serves customers until ctx is done (a graceful shutdown:
// it resigns once drained, so a standby takes over at once) or it loses
// its leadership (errNoLongerActive: nothing more is sent or committed).
func (m *Main) runReplica(ctx context.Context) error {
	r := m.replica
	m.standby.Store(true)
	m.setActive(false)
	actx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	r.stop.Store(&cancel)
	go func() {
		select {
		case <-r.session.Done():
			r.lose(errors.New("etcd session ended"))
		case <-actx.Done():
		}
	}()
	stopHook, err := m.serveStandbyWebhook()
	if err != nil {
		return err
	}
	m.Logger.Info("standby: waiting to become the active replica", "replica", r.id)
	err = r.election.Campaign(actx, r.id)
	stopHook()
	switch {
	case context.Cause(actx) == errNoLongerActive:
		return errNoLongerActive
	case ctx.Err() != nil:
		return nil // shut down while standing by
	case err != nil:
		return fmt.Errorf("etcd election: %w", err)
	}
	r.fence.Store(&fence{key: r.election.Key(), rev: r.election.Rev()})
	m.Logger.Info("active: this replica serves the customers", "replica", r.id)
	m.standby.Store(false)
	m.setActive(true)
	err = m.serve(actx)
	m.setActive(false)
	if context.Cause(actx) == errNoLongerActive {
		return errNoLongerActive
	}
	// Drained: hand over at once rather than when the session expires.
	rctx, rcancel := context.WithTimeout(context.Background(), etcdTimeout)
	defer rcancel()
	if rerr := r.election.Resign(rctx); rerr != nil {
		m.Logger.Warn("resign leadership", "replica", r.id, "err", rerr)
	}
	return err
}

// setActive sets the supportbot_replica_active gauge.
func (m *Main) setActive(active bool) {
	if m.metrics == nil {
		return
	}
	v := 0.0
	if active {
		v = 1
	}
	m.metrics.active.Set(v)
}

// serveStandbyWebhook serves the Telegram webhook's address, if one is
// configured, answering 503 to every request, so Telegram retries the
// update later (or a load balancer routes it to the active replica). The
// returned stop frees the address for the Telegram channel.
func (m *Main) serveStandbyWebhook() (stop func(), err error) {
	addr := m.Config.TelegramWebhookListen
	if m.Telegram == nil || addr == "" {
		return func() {}, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", m.Config.setting("telegram-webhook-listen", addr), err)
	}
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Retry-After", "1")
			http.Error(w, "standby: another replica is active", http.StatusServiceUnavailable)
		}),
		ReadHeaderTimeout: 5 * time.Second,
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			m.Logger.Error("standby webhook server", "err", err)
		}
	}()
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			srv.Close()
		}
		<-done
	}, nil
}

// activeOnlyTransport refuses every request once its replica is no longer
// active: another replica owns the chats, so this one sends nothing more,
// not even the replies it had queued (the new active replica sends them
// from the outbox).
type activeOnlyTransport struct {
	next http.RoundTripper
	lost *atomic.Bool
}

func (g activeOnlyTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if g.lost.Load() {
		if r.Body != nil {
			r.Body.Close()
		}
		return nil, errors.New("not sent: this replica is no longer the active one")
	}
	return g.next.RoundTrip(r)
}

// notActive says why this replica does not serve customers, for /readyz;
// "" when it does, or without replicas.
func (m *Main) notActive() string {
	switch r := m.replica; {
	case r == nil:
		return ""
	case r.lost.Load():
		return "no longer the active replica"
	case m.standby.Load():
		return "standby (another replica is active)"
	}
	return ""
}
