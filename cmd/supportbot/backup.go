package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"supportbot/store"
)

// Backups while the bot runs: the running bot holds the database file's
// lock (bbolt's exclusive flock), so no other process can open it, not even
// read-only. The bot therefore serves consistent copies itself, taken in
// one bbolt read transaction while it keeps committing, over HTTP on a unix
// socket in its data directory: only who may enter the data directory may
// connect, and nothing listens on the network. `supportbot backup` asks
// that socket first, and copies the file itself when no bot answers.
// Either way the copy is written next to --to, synced, checked with
// store.Verify and only then renamed over it.

// backupUsage heads the usage of backup; the flags follow.
const backupUsage = `Usage: supportbot backup --to FILE [--data-dir DIR]

Writes a consistent copy of the session database to FILE. When a bot runs on
the data directory the copy comes from it, taken while it keeps serving;
otherwise the database file is copied directly. FILE is replaced only once
the copy is complete and checked; it opens like supportbot.db, with the same
key (token.key or --key), which the copy does not hold.

Flags:
`

// socketName is the bot's backup socket in its data directory.
const socketName = "supportbot.sock"

func (c *Config) socketPath() string { return filepath.Join(c.DataDir, socketName) }

// runBackup is the backup subcommand.
func runBackup(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c := DefaultConfig()
	var to string
	flags := flag.NewFlagSet("backup", flag.ContinueOnError)
	ev := flagEnv["data-dir"]
	if v := os.Getenv(ev); v != "" {
		c.DataDir = v
	}
	flags.StringVar(&c.DataDir, "data-dir", c.DataDir, "data directory of the bot (env "+ev+")")
	flags.StringVar(&to, "to", "", "file to write the copy to (required); replaced only by a complete copy")
	sev := flagEnv["store"]
	if v := os.Getenv(sev); v != "" {
		c.Store = v
	}
	flags.StringVar(&c.Store, "store", c.Store, "the bot's store: bbolt, or etcd, which this command does not copy (env "+sev+")")
	if err := parseArgs(flags, backupUsage, args, stdout, stderr); err != nil {
		return err
	}
	if c.Store == storeEtcd {
		return errors.New("backup: the sessions are in etcd (store etcd), not in a file of the data directory: back up the cluster with `etcdctl --endpoints=<one member> snapshot save FILE` (and keep the token key)")
	}
	if flags.NArg() > 0 {
		fmt.Fprintf(orStderr(stderr), "backup: unexpected argument %q (supportbot backup -h lists the flags)\n", flags.Arg(0))
		return errUsage
	}
	if to == "" {
		fmt.Fprintln(orStderr(stderr), "backup: --to FILE is required (supportbot backup -h lists the flags)")
		return errUsage
	}
	if same(to, c.dbPath()) {
		return fmt.Errorf("backup: --to=%s is the database itself", to)
	}
	n, from, err := backupTo(ctx, &c, to)
	if err != nil {
		return fmt.Errorf("backup: %v", err)
	}
	fmt.Fprintf(orStdout(stdout), "backup: wrote %s (%d bytes) %s\n", to, n, from)
	return nil
}

// backupTo writes the copy to a temporary file next to to, checks it and
// renames it to to. It returns its size and where it came from.
func backupTo(ctx context.Context, c *Config, to string) (int64, string, error) {
	tmp, err := os.CreateTemp(filepath.Dir(to), "."+filepath.Base(to)+".tmp-*")
	if err != nil {
		return 0, "", err
	}
	defer os.Remove(tmp.Name()) // after a successful rename there is nothing to remove
	defer tmp.Close()
	if err := tmp.Chmod(0o600); err != nil {
		return 0, "", err
	}
	from := "from the running bot"
	n, err := fetchBackup(ctx, c.socketPath(), tmp)
	if errors.Is(err, errNoBot) {
		from = "from " + c.dbPath() + " (no bot running)"
		n, err = store.Copy(ctx, c.dbPath(), tmp, time.Second)
		if errors.Is(err, store.ErrLocked) {
			// A bot may have been starting: it locks the file first and
			// serves the socket once the database is open.
			from = "from the running bot"
			n, err = fetchBackup(ctx, c.socketPath(), tmp)
			if errors.Is(err, errNoBot) {
				err = store.ErrLocked
			}
		}
		switch {
		case errors.Is(err, store.ErrLocked):
			return 0, "", fmt.Errorf("database %s is in use by a process that serves no backups on %s (a supportbot older than this command, one that logged \"backups of the running bot not served\", or another program); stop it and run backup again", c.dbPath(), c.socketPath())
		case errors.Is(err, fs.ErrNotExist):
			return 0, "", fmt.Errorf("no database at %s; is --data-dir right?", c.dbPath())
		}
	}
	if err != nil {
		return 0, "", err
	}
	if err := tmp.Sync(); err != nil {
		return 0, "", err
	}
	if err := tmp.Close(); err != nil {
		return 0, "", err
	}
	if err := store.Verify(tmp.Name(), 0); err != nil {
		return 0, "", fmt.Errorf("the copy does not check out, %s left as it was: %v", to, err)
	}
	if err := os.Rename(tmp.Name(), to); err != nil {
		return 0, "", err
	}
	return n, from, nil
}

// errNoBot means no bot answered on the backup socket.
var errNoBot = errors.New("no bot serves backups")

// fetchBackup asks the bot serving the socket at path for a copy and
// writes it to w. It returns errNoBot when nothing listens there.
func fetchBackup(ctx context.Context, path string, w io.Writer) (int64, error) {
	client := &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			conn, err := d.DialContext(ctx, "unix", path)
			if err != nil {
				return nil, fmt.Errorf("%w: %v", errNoBot, err) // no socket, or a stale one
			}
			return conn, nil
		},
	}}
	defer client.CloseIdleConnections()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://supportbot/backup", nil)
	if err != nil {
		return 0, err
	}
	resp, err := client.Do(req)
	if err != nil {
		if errors.Is(err, errNoBot) {
			return 0, errNoBot
		}
		return 0, fmt.Errorf("ask the running bot at %s: %v", path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return 0, fmt.Errorf("the running bot at %s answered %s: %s", path, resp.Status, msg)
	}
	// The answer has a Content-Length: a copy cut short ends in an error
	// here, never in a file that looks complete.
	n, err := io.Copy(w, resp.Body)
	if err != nil {
		return n, fmt.Errorf("copy from the running bot at %s: %v", path, err)
	}
	return n, nil
}

// backupServer serves copies of a running bot's database on its socket.
type backupServer struct {
	srv    *http.Server
	served chan struct{}
}

// serveBackups serves GET /backup on the unix socket in dir: a consistent
// copy of db. The copy is first written to a temporary file in dir, so the
// read transaction lasts as long as a local disk copy, never as long as a
// slow client (a long one would hold back commits that grow the file). A
// socket left in dir by a bot that crashed is replaced: the caller holds
// the database lock, so no live bot serves it.
func serveBackups(dir string, db *store.DB, log *slog.Logger) (*backupServer, error) {
	path := filepath.Join(dir, socketName)
	if fi, err := os.Lstat(path); err == nil && fi.Mode()&fs.ModeSocket != 0 {
		os.Remove(path)
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, err
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /backup", func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		f, err := os.CreateTemp(dir, ".backup-*")
		if err != nil {
			log.Warn("backup not served", "err", err)
			http.Error(w, "backup: "+err.Error(), http.StatusInternalServerError)
			return
		}
		defer os.Remove(f.Name())
		defer f.Close()
		n, err := db.Backup(r.Context(), f)
		if err == nil {
			_, err = f.Seek(0, io.SeekStart)
		}
		if err != nil {
			log.Warn("backup not served", "err", err)
			http.Error(w, "backup: "+err.Error(), http.StatusInternalServerError)
			return
		}
		// With the length known, a copy cut short fails at the client.
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Content-Length", strconv.FormatInt(n, 10))
		if _, err := io.Copy(w, f); err != nil {
			log.Warn("backup not delivered", "err", err)
			return
		}
		log.Info("backup served", "bytes", n, "took", time.Since(start).Round(time.Millisecond))
	})
	b := &backupServer{
		srv:    &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)},
		served: make(chan struct{}),
	}
	go func() {
		defer close(b.served)
		b.srv.Serve(ln)
	}()
	return b, nil
}

// Close stops serving, letting a copy in progress finish for up to 30 s,
// and removes the socket.
func (b *backupServer) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := b.srv.Shutdown(ctx)
	if err != nil {
		err = b.srv.Close()
	}
	<-b.served
	return err
}

// same reports whether paths a and b name the same file, existing or not.
func same(a, b string) bool {
	if fa, err := os.Stat(a); err == nil {
		if fb, err := os.Stat(b); err == nil {
			return os.SameFile(fa, fb)
		}
	}
	aa, err1 := filepath.Abs(a)
	ab, err2 := filepath.Abs(b)
	return err1 == nil && err2 == nil && aa == ab
}

// orStdout returns w, or os.Stdout if w is nil.
func orStdout(w io.Writer) io.Writer {
	if w == nil {
		return os.Stdout
	}
	return w
}
