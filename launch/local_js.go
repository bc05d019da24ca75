//go:build js

package launch

import "errors"

// errNoLocalServer: a browser cannot run this device's own server (no
// files, sockets or SQLite); the web app uses the server that served it.
var errNoLocalServer = errors.New("a browser has no server of its own: use the address of a Sessionguard server")

// local stands for this device's own server, which the web build lacks.
type local struct{ url string }

func (l *local) close() {}

// startLocal always fails in a browser.
func (l *Launcher) startLocal() (*local, error) { return nil, errNoLocalServer }

// DeleteLocalAccounts has nothing to delete in a browser.
func (l *Launcher) DeleteLocalAccounts() (deleted bool, err error) { return false, nil }

// prepareDataDir accepts no directory: a browser tab keeps no files.
func prepareDataDir(dir string) error {
	if dir != "" {
		return errors.New("launch: a browser keeps no files, so no data directory")
	}
	return nil
}
