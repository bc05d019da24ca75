// Package launch assembles a running Sessionguard: the embedded sessiond
// (or a remote server), the API client, the secret store and the app core.
package launch

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
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

const localServer = "local"

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

// Launcher owns the running pieces and can switch servers.
type Launcher struct {
	cfg    Config
	local  *local
	core   *app.App
	api    *client.Client
	server string // the URL in use
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

// Use builds a core for serverURL ("" or "local": the embedded one,
// started on first use; else a URL), replacing any previous one, and
// remembers the choice. A URL whose server answers, but not as a
// Sessionguard server does, is refused; one that does not answer at all
// is taken (the app then shows it offline).
func (l *Launcher) Use(ctx context.Context, serverURL string) (*app.App, error) {
	if serverURL == "" {
		serverURL = localServer
	}
	url := serverURL
	if serverURL == localServer {
		if l.local == nil {
			loc, err := startLocal(filepath.Join(l.cfg.DataDir, "sessiond.db"))
			if err != nil {
				return nil, fmt.Errorf("starting this device's server: %w", err)
			}
			l.local = loc
		}
		url = l.local.url
	}
	c, err := client.New(url)
	if err != nil {
		return nil, err
	}
	if serverURL != localServer {
		hctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err := c.Health(hctx)
		cancel()
		if err != nil && !errors.Is(err, client.ErrOffline) {
			return nil, fmt.Errorf("%s does not answer like a Sessionguard server: %w", url, err)
		}
	}
	l.Close(ctx, false)
	l.cfg.Prefs.SetString(PrefServer, serverURL)
	secrets, problem := l.cfg.Secrets, error(nil)
	if secrets == nil {
		s, err := platform.OpenSecretStore(l.cfg.DataDir, l.cfg.Prefs)
		if err != nil {
			problem = err
		} else {
			secrets = s
		}
	}
	prefs := l.cfg.Prefs
	l.api, l.server = c, url
	l.core = app.New(app.Config{
		API:            c,
		Secrets:        secrets,
		KeyringProblem: problem,
		IsNotFound:     func(err error) bool { return errors.Is(err, platform.ErrNotFound) },
		Prefs:          prefs,
		ClearPrefKeys:  []string{platform.PrefInstallID, platform.PrefDeviceName, platform.PrefSecretIndex, PrefServer},
		Device:         func() api.Device { return platform.DescribeDevice(prefs, l.cfg.Version) },
		CacheDir:       filepath.Join(l.cfg.DataDir, "cache"),
	})
	return l.core, nil
}

// Embedded reports whether the core talks to this device's own server.
func (l *Launcher) Embedded() bool { return l.local != nil && l.server == l.local.url }

// URL is the server address in use.
func (l *Launcher) URL() string { return l.server }

// SeedDemo adds the demo account (with simulated devices) to this
// device's own server and returns its username and password. That server
// must be running already: Use with "local" starts it, SeedDemo never
// does and fails without it. A demo account that exists is left as it is.
func (l *Launcher) SeedDemo(ctx context.Context) (username, password string, err error) {
	if l.local == nil {
		return "", "", errors.New("the demo runs on this device's own server")
	}
	if _, err := l.local.srv.SeedDemo(ctx); err != nil {
		return "", "", err
	}
	return server.DemoUsername, server.DemoPassword, nil
}

// Close stops the core (logging out a session without "Remember me") and,
// with all, the embedded server.
func (l *Launcher) Close(ctx context.Context, all bool) {
	if l.core != nil {
		l.core.Close(ctx)
		l.core = nil
	}
	if l.api != nil {
		l.api.CloseIdleConnections()
		l.api = nil
	}
	if all && l.local != nil {
		l.local.close()
		l.local = nil
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

// startLocal runs sessiond on the database at dbPath, its secrets key
// (which seals two-step secrets) in secrets.key beside it.
func startLocal(dbPath string) (*local, error) {
	key, _, err := keyfile.LoadOrCreate(filepath.Join(filepath.Dir(dbPath), "secrets.key"), server.SecretsKeySize)
	if err != nil {
		return nil, err
	}
	st, err := sqlite.Open(context.Background(), dbPath)
	if err != nil {
		return nil, err
	}
	srv := server.New(st, server.Config{OpenRegistration: true, SecretsKey: key})
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
