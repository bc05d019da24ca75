package app

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"slices"
	"sync"
	"time"

	"sessionguard/api"
	"sessionguard/client"
)

// Closures you can verify (DESIGN "Closure you can verify"): when this
// device's session is ended elsewhere, the app wipes the account's tokens
// (and with erase, everything it keeps for the account), then sends the
// server a receipt with the single-use closure token it was given. The
// receipt waits in the preferences until the server has it, so that a
// crash or a restart between the wipe and the send loses nothing; it
// holds no account secret (the token confirms that one closure and
// nothing else).

// PrefPendingReceipts holds receipts not yet taken by their server (JSON
// list of pendingReceipt).
const PrefPendingReceipts = "closures.pending"

// pendingReceipt is a receipt waiting to be sent.
type pendingReceipt struct {
	Server string `json:"server"`
	Token  string `json:"closure_token"`
	Erased bool   `json:"erased"`
}

// receiptsMu serialises changes to the pending receipts, which every core
// of the process (Accounts) shares.
var receiptsMu sync.Mutex

// pendingReceipts reads the receipts waiting to be sent; a damaged value
// reads as none.
func (a *App) pendingReceipts() []pendingReceipt { return readReceipts(a.cfg.Prefs) }

func readReceipts(prefs Prefs) []pendingReceipt {
	var out []pendingReceipt
	if v := prefs.String(PrefPendingReceipts); v != "" {
		if err := json.Unmarshal([]byte(v), &out); err != nil {
			return nil
		}
	}
	return out
}

// changeReceipts rewrites the pending receipts with fn, under receiptsMu.
func (a *App) changeReceipts(fn func([]pendingReceipt) []pendingReceipt) {
	receiptsMu.Lock()
	defer receiptsMu.Unlock()
	list := fn(a.pendingReceipts())
	if len(list) == 0 {
		a.cfg.Prefs.RemoveValue(PrefPendingReceipts)
		return
	}
	b, _ := json.Marshal(list) // plain struct: cannot fail
	a.cfg.Prefs.SetString(PrefPendingReceipts, string(b))
}

// sendReceipts sends the receipts waiting for this core's server, in the
// background. A receipt the server took, or refused as used or unknown,
// is done; one that could not be sent (offline) waits for the next start.
func (a *App) sendReceipts() {
	a.mu.Lock()
	a.wg.Add(1)
	a.mu.Unlock()
	go func() {
		defer a.wg.Done()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		a.SendReceipts(ctx)
	}()
}

// SendReceipts sends, now, the receipts waiting for this core's server
// and reports how many the server took. Accounts calls it for servers no
// account is signed in to.
func (a *App) SendReceipts(ctx context.Context) int {
	sent := 0
	for _, r := range a.pendingReceipts() {
		if r.Server != a.cfg.Server {
			continue
		}
		err := a.api.ConfirmClosure(ctx, r.Token, r.Erased)
		switch {
		case err == nil:
			sent++
		case errors.Is(err, client.ErrInvalidToken), errors.Is(err, client.ErrInvalidRequest):
			// Taken already (a receipt sent twice) or gone with its session:
			// nothing more to do.
		default:
			continue // offline, or the server failed: next time
		}
		a.changeReceipts(func(list []pendingReceipt) []pendingReceipt {
			return slices.DeleteFunc(list, func(x pendingReceipt) bool { return x.Token == r.Token })
		})
	}
	return sent
}

// closeAccount is what this device does when its session was ended on the
// server (endedRemotely): queue the receipt, wipe the account's tokens
// and saved login and its cached list, and with erase everything else the
// app keeps for the account: with no other account on this install,
// everything "Clear app data" deletes except this device's own server.
// It returns the saved accounts left.
func (a *App) closeAccount(acct api.Account, closureToken string, erase bool) []SavedAccount {
	if closureToken != "" {
		// First, so that nothing after it can lose the receipt; it is
		// sent once the wipe is done.
		a.changeReceipts(func(list []pendingReceipt) []pendingReceipt {
			return append(list, pendingReceipt{Server: a.cfg.Server, Token: closureToken, Erased: erase})
		})
	}
	if a.cfg.Secrets != nil {
		_ = a.cfg.Secrets.Delete(a.refreshKey(acct.ID))
	}
	list := a.dropSavedAccount(acct.ID)
	a.stopCache()
	if !erase {
		return list
	}
	if a.cfg.Prefs.String(PrefLastUsername) == acct.Username {
		a.cfg.Prefs.RemoveValue(PrefLastUsername)
	}
	if len(list) == 0 && (a.cfg.OtherAccounts == nil || a.cfg.OtherAccounts() == 0) {
		_ = a.eraseInstall() // best effort: the receipt says what was asked
	}
	return list
}

// eraseInstall deletes everything this install keeps, as "Clear app
// data" does (keyring items with the install and proof keys, saved
// accounts, preferences, cached files), but not this device's own
// server, and not the receipts waiting to be sent.
func (a *App) eraseInstall() error {
	var errs []error
	if a.cfg.Secrets != nil {
		if err := a.cfg.Secrets.DeleteAll(); err != nil {
			errs = append(errs, err)
		}
	}
	a.forgetInstallKey()
	a.forgetProofKey()
	for _, k := range append([]string{PrefSavedAccounts, a.resumePref(), PrefLastUsername}, a.cfg.ClearPrefKeys...) {
		a.cfg.Prefs.RemoveValue(k)
	}
	if a.cfg.CacheDir != "" {
		a.cacheMu.Lock() // stopped already (closeAccount): nothing writes it again
		if err := os.RemoveAll(a.cfg.CacheDir); err != nil {
			errs = append(errs, err)
		}
		a.cacheMu.Unlock()
	}
	return errors.Join(errs...)
}

// endedPage is the size of a page of ended sessions: the server's
// default, since people rarely go far back in what was logged out.
const endedPage = 50

// LoadEnded loads the first page of the account's sessions ended in the
// last 30 days (Snapshot.Ended), each with what became of it on its
// device (api.Closure). It reloads by itself when something changes on
// the account (a receipt arrives) once loaded.
func (a *App) LoadEnded(ctx context.Context) error { return a.loadEnded(ctx, false) }

// LoadMoreEnded loads the next page of ended sessions, if any.
func (a *App) LoadMoreEnded(ctx context.Context) error {
	return a.loadMore(&a.moreEnded, func() error { return a.loadEnded(ctx, true) })
}

func (a *App) loadEnded(ctx context.Context, more bool) error {
	a.endedMu.Lock() // one at a time: an older answer never overwrites a newer
	defer a.endedMu.Unlock()
	snap := a.Snapshot()
	if snap.State != StateSignedIn {
		return ErrNotSignedIn
	}
	gen := a.generation()
	a.mu.Lock()
	a.endedWanted = true // from now on a receipt reloads it (refreshEnded)
	a.mu.Unlock()
	cursor, limit := "", 0
	if more {
		if cursor = snap.EndedCursor; cursor == "" {
			return nil
		}
	} else if n := len(snap.Ended); n > 0 {
		limit = min(max(n, endedPage), 200) // a reload keeps what was loaded, no more
	}
	page, err := a.api.EndedSessionsPage(ctx, limit, cursor)
	if ok, err := a.pageWanted(gen, err); !ok {
		return err
	}
	a.update(func(s *Snapshot) {
		if gen != a.gen {
			return
		}
		if more {
			s.Ended = append(s.Ended, page.Sessions...)
		} else {
			s.Ended = page.Sessions
		}
		s.EndedCursor, s.EndedLoaded = page.NextCursor, true
	})
	return nil
}

// refreshEnded reloads the ended sessions in the background once the
// screens have asked for them (a receipt arrived, the stream reconnected),
// or always with force (after a remote log out, whose closure the screens
// follow). Asked again while a reload runs, it reloads once more after.
func (a *App) refreshEnded(gen int, force bool) {
	a.mu.Lock()
	if gen != a.gen || !(force || a.endedWanted) {
		a.mu.Unlock()
		return
	}
	if a.endedRefreshing {
		a.endedAgain = true
		a.mu.Unlock()
		return
	}
	a.endedRefreshing = true
	a.wg.Add(1)
	a.mu.Unlock()
	go func() {
		defer a.wg.Done()
		for {
			ctx, cancel := context.WithTimeout(client.Background(context.Background()), 30*time.Second)
			_ = a.loadEnded(ctx, false)
			cancel()
			a.mu.Lock()
			if !a.endedAgain || gen != a.gen {
				a.endedRefreshing, a.endedAgain = false, false
				a.mu.Unlock()
				return
			}
			a.endedAgain = false
			a.mu.Unlock()
		}
	}()
}
