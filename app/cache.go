package app

import (
	"encoding/json"
	"os"
	"path/filepath"

	"sessionguard/api"
)

// deviceCache is the last known state of a signed-in account, for showing
// offline.
type deviceCache struct {
	Account api.Account   `json:"account"`
	Session api.Session   `json:"session"`
	Devices []api.Session `json:"devices"`
}

const cacheFile = "devices.json"

// writeCache saves the current list, atomically, best effort: the cache
// only makes offline nicer.
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
	b, err := json.Marshal(deviceCache{Account: *snap.Account, Session: *snap.Session, Devices: snap.Devices})
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
	}
}

// readCache returns the cached state if it belongs to accountID.
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
	return c, true
}

func (a *App) removeCache() {
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
	a.cacheOff = false
	a.cacheMu.Unlock()
}
