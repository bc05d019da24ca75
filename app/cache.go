package app

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"

	"sessionguard/api"
)

// deviceCache is the last known state of a signed-in account, for showing
// offline.
type deviceCache struct {
	Account api.Account `json:"account"`
	Session api.Session `json:"session"`
	// Devices are the first devices of the list (at most cacheDevices).
	Devices []api.Session `json:"devices"`
}

const cacheFile = "devices.json"

// cacheDevices is how many devices the cache keeps: the first page's
// worth, the first screens of the list shown offline. The cache is
// rewritten when they (or the account, or this session) change, and not
// for pages loaded further down, so its cost does not grow with the list.
const cacheDevices = devicesPage

// writeCache saves the first devices of the list, atomically, best
// effort: the cache only makes offline nicer. It writes nothing when
// those are what it last wrote.
func (a *App) writeCache() {
	if a.cfg.CacheDir == "" {
		return
	}
	a.cacheMu.Lock()
	defer a.cacheMu.Unlock()
	if a.cacheOff {
		return // wiped (closeAccount): a list still on its way must not bring it back
	}
	snap := a.Snapshot()
	if snap.Account == nil || snap.Session == nil {
		return
	}
	c := deviceCache{Account: *snap.Account, Session: *snap.Session,
		Devices: snap.Devices[:min(len(snap.Devices), cacheDevices)]}
	if w := a.cacheWritten; w != nil && w.Account == c.Account && w.Session == c.Session && slices.Equal(w.Devices, c.Devices) {
		if _, err := os.Stat(filepath.Join(a.cfg.CacheDir, cacheFile)); err == nil {
			return // unchanged (a page loaded further down), and still there
		}
	}
	b, err := json.Marshal(c)
	if err != nil {
		return
	}
	if err := os.MkdirAll(a.cfg.CacheDir, 0o700); err != nil {
		return
	}
	tmp, err := os.CreateTemp(a.cfg.CacheDir, cacheFile+".*")
	if err != nil {
		return
	}
	_, werr := tmp.Write(b)
	cerr := tmp.Close()
	if werr != nil || cerr != nil {
		_ = os.Remove(tmp.Name())
		return
	}
	if err := os.Rename(tmp.Name(), filepath.Join(a.cfg.CacheDir, cacheFile)); err != nil {
		_ = os.Remove(tmp.Name())
		return
	}
	a.cacheWritten = &c // its Devices are shared with snapshots: never changed
}

// readCache returns the cached state if it belongs to accountID. Its
// devices are meant to be shown: from then on, until a first page comes
// from the server, the device list is the cache's (devicesCached).
func (a *App) readCache(accountID string) (deviceCache, bool) {
	if a.cfg.CacheDir == "" {
		return deviceCache{}, false
	}
	b, err := os.ReadFile(filepath.Join(a.cfg.CacheDir, cacheFile))
	if err != nil {
		return deviceCache{}, false
	}
	var c deviceCache
	if json.Unmarshal(b, &c) != nil || c.Account.ID != accountID {
		return deviceCache{}, false
	}
	a.devicesCached.Store(true)
	return c, true
}

// removeCache deletes the cache file. Call with cacheMu held.
func (a *App) removeCache() {
	a.cacheWritten = nil
	if a.cfg.CacheDir != "" {
		_ = os.Remove(filepath.Join(a.cfg.CacheDir, cacheFile))
	}
}

// stopCache wipes the cached list and keeps it wiped until the next
// sign-in (establish): a refresh still under way writes nothing.
func (a *App) stopCache() {
	a.cacheMu.Lock()
	defer a.cacheMu.Unlock()
	a.cacheOff = true
	a.removeCache()
}

// startCache lets the cached list be written again, for a new sign-in.
func (a *App) startCache() {
	a.cacheMu.Lock()
	a.cacheOff, a.cacheWritten = false, nil
	a.cacheMu.Unlock()
}
