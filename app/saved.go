package app

import (
	"encoding/json"
	"slices"
	"strings"
	"sync"
)

// Preference keys the app core owns.
const (
	// PrefSavedAccounts holds the "Continue as …" accounts (JSON list of
	// SavedAccount); their credentials are in the secret store.
	PrefSavedAccounts = "accounts.saved"
	// PrefResumeAccount is the account signed in with "Remember me", whose
	// refresh token is in the secret store for a silent sign-in at start.
	PrefResumeAccount = "session.resume_account"
	// PrefLastUsername pre-fills the sign-in form.
	PrefLastUsername = "signin.last_username"
)

// Secret store keys.
const (
	secretRefreshPrefix    = "refresh:"    // + account id: the refresh token ("Remember me")
	secretRememberedPrefix = "remembered:" // + account id: a remembered-login credential
)

// refreshKey and rememberedKey name an account's items in the secret
// store: scoped by the server (Config.Server) when there is one, so that
// each server + account has its own items.
func (a *App) refreshKey(accountID string) string {
	return secretRefreshPrefix + scopedID(accountID, a.cfg.Server)
}

func (a *App) rememberedKey(accountID string) string {
	return secretRememberedPrefix + scopedID(accountID, a.cfg.Server)
}

// scopedID is an account id scoped by its server: "acc_1@https://…".
func scopedID(accountID, server string) string {
	if server == "" {
		return accountID
	}
	return accountID + "@" + server
}

// splitScoped undoes scopedID.
func splitScoped(s string) (accountID, server string) {
	accountID, server, _ = strings.Cut(s, "@")
	return accountID, server
}

// resumePref is the preference naming the account to resume at start
// ("Remember me"), per slot when the core has one (Config.Slot).
func (a *App) resumePref() string {
	if a.cfg.Slot == "" {
		return PrefResumeAccount
	}
	return PrefResumeAccount + "." + a.cfg.Slot
}

// savedAccounts reads the saved accounts from preferences; a damaged value
// reads as none rather than blocking sign-in.
func (a *App) savedAccounts() []SavedAccount {
	var out []SavedAccount
	if v := a.cfg.Prefs.String(PrefSavedAccounts); v != "" {
		if err := json.Unmarshal([]byte(v), &out); err != nil {
			return nil
		}
	}
	return out
}

func (a *App) storeSavedAccounts(list []SavedAccount) []SavedAccount {
	slices.SortFunc(list, func(x, y SavedAccount) int { return strings.Compare(x.Username, y.Username) })
	if len(list) == 0 {
		a.cfg.Prefs.RemoveValue(PrefSavedAccounts)
		return nil
	}
	b, _ := json.Marshal(list) // plain struct: cannot fail
	a.cfg.Prefs.SetString(PrefSavedAccounts, string(b))
	return list
}

// savedMu serialises changes to the saved accounts, which every core of
// the process (Accounts) reads and rewrites in the shared preferences.
var savedMu sync.Mutex

// putSavedAccount adds or replaces one saved account of this core's server.
func (a *App) putSavedAccount(sa SavedAccount) []SavedAccount {
	savedMu.Lock()
	defer savedMu.Unlock()
	sa.Server = a.cfg.Server
	list := slices.DeleteFunc(a.savedAccounts(), func(x SavedAccount) bool { return a.isSaved(x, sa.AccountID) })
	return a.storeSavedAccounts(append(list, sa))
}

// isSaved reports whether x is the saved account accountID on this core's
// server.
func (a *App) isSaved(x SavedAccount, accountID string) bool {
	return x.AccountID == accountID && x.Server == a.cfg.Server
}

// dropSavedAccount forgets one saved account locally (preference and secret).
func (a *App) dropSavedAccount(accountID string) []SavedAccount {
	if a.cfg.Secrets != nil {
		_ = a.cfg.Secrets.Delete(a.rememberedKey(accountID)) // absent is fine; a failing keyring is reported elsewhere
	}
	savedMu.Lock()
	defer savedMu.Unlock()
	list := slices.DeleteFunc(a.savedAccounts(), func(x SavedAccount) bool { return a.isSaved(x, accountID) })
	return a.storeSavedAccounts(list)
}

// findSaved finds the saved account accountID of this core's server.
func (a *App) findSaved(list []SavedAccount, accountID string) (SavedAccount, bool) {
	i := slices.IndexFunc(list, func(x SavedAccount) bool { return a.isSaved(x, accountID) })
	if i < 0 {
		return SavedAccount{}, false
	}
	return list[i], true
}

// reloadSaved reads the saved accounts again, after another core changed
// them (Accounts.RemoveSaved).
func (a *App) reloadSaved() {
	list := a.savedAccounts()
	a.update(func(s *Snapshot) { s.SavedAccounts = list })
}
