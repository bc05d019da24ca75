// Package launch assembles a running Sessionguard: the embedded sessiond
// (or a remote server), the API client, the secret store and the app core.
package launch

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"sessionguard/api"
	"sessionguard/app"
	"sessionguard/client"
	"sessionguard/platform"
	"sessionguard/server"
	"sessionguard/server/keyfile"
	"sessionguard/server/store/sqlite"
)

// AppID is the app's identifier (FyneApp.toml, keyring service, data dir).
const AppID = "io.sessionguard.app"

// Version is the app's version; FyneApp.toml carries the same.
const Version = "1.0.0"

// PrefServer holds the chosen server address; "local" means this device's
// own embedded server.
const PrefServer = "server.url"

const localServer = app.ServerLocal

// Prefs is the preferences store (fyne.Preferences fits).
type Prefs = platform.Prefs

// Config says how to launch.
type Config struct {
	// DataDir holds the embedded server's database and secrets key, and
	// the app's cache.
	DataDir string
	// Prefs are the app's preferences.
	Prefs Prefs
	// Server, when set, overrides the saved choice ("local" or a URL).
	Server string
	// Version is the app version reported as the device's app_version.
	Version string
	// Secrets overrides the platform's secret store (tests).
	Secrets app.SecretStore
}

// Launcher owns the running pieces and can switch servers. Its methods
// may be called from any goroutine.
type Launcher struct {
	cfg Config

	mu     sync.Mutex
	local  *local
	core   *app.App // Use's
	api    *client.Client
	server string // the URL in use (Use)
	// The secret store all cores share (secrets).
	store    app.SecretStore
	storeErr error
}

// New prepares a launcher; call Use to start a core.
func New(cfg Config) (*Launcher, error) {
	if cfg.DataDir == "" {
		return nil, errors.New("launch: no data directory")
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, err
	}
	return &Launcher{cfg: cfg}, nil
}

// FirstRun reports whether no server has been chosen yet.
func (l *Launcher) FirstRun() bool {
	return l.cfg.Server == "" && l.cfg.Prefs.String(PrefServer) == ""
}

// Saved is the server to use now: the override, the saved choice, or this
// device's own.
func (l *Launcher) Saved() string {
	if l.cfg.Server != "" {
		return l.cfg.Server
	}
	if v := l.cfg.Prefs.String(PrefServer); v != "" {
		return v
	}
	return localServer
}

// checkTimeout bounds Check's wait for an answer.
const checkTimeout = 10 * time.Second

// Check tells whether a Sessionguard server answers at address before it
// is chosen, and returns the address as the app will use it. Its errors
// match client.ErrInvalidURL or client.ErrInsecureServer (a
// *client.AddressError, which may suggest the address meant: "https://"
// in front of a bare host name), client.ErrOffline (nothing answers
// there; also client.ErrNoNetwork without a network), or
// client.ErrNotSessiond (something answers, but not sessiond);
// app.DescribeServerCheck puts them in words.
func (l *Launcher) Check(ctx context.Context, address string) (string, error) {
	c, err := client.New(address)
	if err != nil {
		return "", err
	}
	defer c.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(ctx, checkTimeout)
	defer cancel()
	if _, err := c.CheckServer(ctx); err != nil {
		return "", err
	}
	return c.BaseURL(), nil
}

// Choose switches to the server the person chose: "" (or "local") for
// this device's own, else an address, which must pass Check first. A
// refused address changes nothing.
func (l *Launcher) Choose(ctx context.Context, address string) (*app.App, error) {
	if address == "" || address == localServer {
		return l.Use(ctx, localServer)
	}
	url, err := l.Check(ctx, address)
	if err != nil {
		return nil, err
	}
	return l.Use(ctx, url)
}

// Use builds a core for serverURL ("" or "local": the embedded one,
// started on first use; else a URL), replacing any previous one, and
// remembers the choice. The address is not checked (Choose does): the
// saved server is used as it is at start, shown offline when it does not
// answer, so that Sessionguard opens with what it last knew. It is the
// one-account way; Accounts (OpenAccounts) keeps several cores side by
// side.
func (l *Launcher) Use(ctx context.Context, serverURL string) (*app.App, error) {
	if serverURL == "" {
		serverURL = localServer
	}
	core, c, url, err := l.open(serverURL, "")
	if err != nil {
		return nil, err
	}
	l.Close(ctx, false)
	l.cfg.Prefs.SetString(PrefServer, serverURL)
	l.mu.Lock()
	l.api, l.server, l.core = c, url, core
	l.mu.Unlock()
	return core, nil
}

// Open builds a core for server ("local" or a URL, as Use takes it) whose
// per-account state is kept under slot, beside any other: what
// app.AccountsConfig.Open asks for. Choosing a server for the next
// sign-in also makes it the saved choice.
func (l *Launcher) Open(server, slot string) (*app.App, error) {
	core, _, _, err := l.open(server, slot)
	if err != nil {
		return nil, err
	}
	l.cfg.Prefs.SetString(PrefServer, server)
	return core, nil
}

// OpenAccounts returns the accounts of this device, with their cores made
// by Open.
func (l *Launcher) OpenAccounts() *app.Accounts {
	secrets, _ := l.secrets()
	return app.NewAccounts(app.AccountsConfig{
		Open:     l.Open,
		Prefs:    l.cfg.Prefs,
		Secrets:  secrets,
		Server:   l.Saved(),
		CacheDir: filepath.Join(l.cfg.DataDir, "cache"),
	})
}

// secrets is the one secret store every core shares (its index of items
// lives in the preferences, so two stores would lose each other's items),
// opened on first use; problem says why there is none.
func (l *Launcher) secrets() (app.SecretStore, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.store == nil && l.storeErr == nil {
		if l.cfg.Secrets != nil {
			l.store = l.cfg.Secrets
		} else {
			l.store, l.storeErr = platform.OpenSecretStore(l.cfg.DataDir, l.cfg.Prefs)
		}
	}
	return l.store, l.storeErr
}

// open makes a core for server under slot, and the client it uses.
func (l *Launcher) open(server, slot string) (*app.App, *client.Client, string, error) {
	url := server
	if server == localServer {
		loc, err := l.startLocal()
		if err != nil {
			return nil, nil, "", fmt.Errorf("starting this device's server: %w", err)
		}
		url = loc.url
	}
	c, err := client.New(url)
	if err != nil {
		return nil, nil, "", err
	}
	secrets, problem := l.secrets()
	cache := filepath.Join(l.cfg.DataDir, "cache")
	if slot != "" {
		cache = filepath.Join(cache, slot)
	}
	prefs := l.cfg.Prefs
	core := app.New(app.Config{
		API:                 c,
		Secrets:             secrets,
		KeyringProblem:      problem,
		IsNotFound:          func(err error) bool { return errors.Is(err, platform.ErrNotFound) },
		Prefs:               prefs,
		ClearPrefKeys:       []string{platform.PrefInstallID, platform.PrefDeviceName, platform.PrefSecretIndex, PrefServer},
		Device:              func() api.Device { return platform.DescribeDevice(prefs, l.cfg.Version) },
		CacheDir:            cache,
		DeleteLocalAccounts: l.DeleteLocalAccounts,
		NetworkUp:           platform.NetworkUp,
		Server:              server,
		Slot:                slot,
	})
	return core, c, url, nil
}

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

// Embedded reports whether the core talks to this device's own server.
func (l *Launcher) Embedded() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.local != nil && l.server == l.local.url
}

// URL is the server address in use.
func (l *Launcher) URL() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.server
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

// Close stops the core (logging out a session without "Remember me") and,
// with all, the embedded server.
func (l *Launcher) Close(ctx context.Context, all bool) {
	l.mu.Lock()
	core, c, loc := l.core, l.api, l.local
	l.core, l.api = nil, nil
	if all {
		l.local = nil
	}
	l.mu.Unlock()
	if core != nil {
		core.Close(ctx)
	}
	if c != nil {
		c.CloseIdleConnections()
	}
	if all && loc != nil {
		loc.close()
	}
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
