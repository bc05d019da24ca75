//go:build !js

// This device's own server (sessiond embedded on loopback): not in the
// web build, which has no files, no sockets and no SQLite.

package launch

import (
	"context"
	"crypto/ed25519"
	"errors"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"sessionguard/server"
	"sessionguard/server/keyfile"
	"sessionguard/server/store/sqlite"
)

// StartLocal starts this device's own server unless it runs (for the
// demo, which SeedDemo adds to it).
func (l *Launcher) StartLocal() error {
	_, err := l.startLocal()
	return err
}

// startLocal starts this device's own server unless it runs.
func (l *Launcher) startLocal() (*local, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.local == nil {
		loc, err := startLocal(l.dbPath())
		if err != nil {
			return nil, err
		}
		l.local = loc
	}
	return l.local, nil
}

func (l *Launcher) dbPath() string { return filepath.Join(l.cfg.DataDir, "sessiond.db") }

// localFiles are the files of this device's own server: its database (with
// SQLite's write-ahead log and shared memory) and the key that seals its
// two-step secrets, and the key that signs its security logs' heads.
func (l *Launcher) localFiles() []string {
	db := l.dbPath()
	return []string{db, db + "-wal", db + "-shm", filepath.Join(l.cfg.DataDir, "secrets.key"),
		filepath.Join(l.cfg.DataDir, server.AuditKeyFile)}
}

// HasLocalAccounts reports whether this device's own server has a
// database (with its accounts), running or not.
func (l *Launcher) HasLocalAccounts() bool {
	_, err := os.Stat(l.dbPath())
	return err == nil
}

// DeleteLocalAccounts stops this device's own server, if it runs, and
// deletes its database and secrets key: every account it kept is gone,
// and the next Use of "local" starts a new, empty one. deleted says
// whether there was a database. "Clear app data" calls it (through
// app.Config.DeleteLocalAccounts).
func (l *Launcher) DeleteLocalAccounts() (deleted bool, err error) {
	l.mu.Lock()
	loc := l.local
	l.local = nil
	l.mu.Unlock()
	if loc != nil {
		loc.close()
	}
	var errs []error
	for _, f := range l.localFiles() {
		switch err := os.Remove(f); {
		case err == nil:
			deleted = true
		case !errors.Is(err, fs.ErrNotExist):
			errs = append(errs, err)
		}
	}
	return deleted, errors.Join(errs...)
}

// SeedDemo adds the demo account (with simulated devices) to this
// device's own server and returns its username and password. That server
// must be running already: Use with "local" starts it, SeedDemo never
// does and fails without it. A demo account that exists is left as it is.
func (l *Launcher) SeedDemo(ctx context.Context) (username, password string, err error) {
	l.mu.Lock()
	loc := l.local
	l.mu.Unlock()
	if loc == nil {
		return "", "", errors.New("the demo runs on this device's own server")
	}
	if _, err := loc.srv.SeedDemo(ctx); err != nil {
		return "", "", err
	}
	return server.DemoUsername, server.DemoPassword, nil
}

// local is sessiond embedded on a loopback port.
type local struct {
	url string
	srv *server.Server
	hs  *http.Server
	st  *sqlite.Store
	// stopBackground ends the retention sweeper and outbox watcher.
	stopBackground func()
}

// How often this device's server looks for events other processes wrote
// (none do), and ends devices unused past their rule (a device's rule is
// at least 5 minutes; a minute late is no matter on one's own computer).
const (
	localOutboxPoll = time.Hour
	localIdleSweep  = time.Minute
)

// startLocal runs sessiond on the database at dbPath, its secrets key
// (which seals two-step secrets) in secrets.key beside it, and the key
// that signs its audit heads in server.AuditKeyFile.
func startLocal(dbPath string) (*local, error) {
	key, _, err := keyfile.LoadOrCreate(filepath.Join(filepath.Dir(dbPath), "secrets.key"), server.SecretsKeySize)
	if err != nil {
		return nil, err
	}
	auditKey, _, err := keyfile.LoadOrCreate(filepath.Join(filepath.Dir(dbPath), server.AuditKeyFile), ed25519.SeedSize)
	if err != nil {
		return nil, err
	}
	st, err := sqlite.Open(context.Background(), dbPath)
	if err != nil {
		return nil, err
	}
	// This device's server has one writer, itself (sessiond's operator
	// commands run against standalone servers): its outbox needs no
	// polling, and an app left alone should not wake every second.
	srv := server.New(st, server.Config{OpenRegistration: true, SecretsKey: key, AuditKey: auditKey, Version: Version,
		OutboxPoll: localOutboxPoll, IdleSweepEvery: localIdleSweep})
	if _, err := srv.SealStoredSecrets(context.Background()); err != nil {
		_ = st.Close()
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		_ = st.Close()
		return nil, err
	}
	hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	return &local{url: "http://" + ln.Addr().String(), srv: srv, hs: hs, st: st, stopBackground: srv.StartBackground()}, nil
}

func (l *local) close() {
	l.stopBackground()
	l.srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	_ = l.hs.Shutdown(ctx)
	cancel()
	_ = l.st.Close()
}

// prepareDataDir makes the data directory, which a device needs.
func prepareDataDir(dir string) error {
	if dir == "" {
		return errors.New("launch: no data directory")
	}
	return os.MkdirAll(dir, 0o700)
}
