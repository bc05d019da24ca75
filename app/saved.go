package app

import (
	"encoding/json"
	"slices"
	"strings"
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

func refreshKey(accountID string) string    { return secretRefreshPrefix + accountID }
func rememberedKey(accountID string) string { return secretRememberedPrefix + accountID }

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

// putSavedAccount adds or replaces one saved account.
func (a *App) putSavedAccount(sa SavedAccount) []SavedAccount {
	list := slices.DeleteFunc(a.savedAccounts(), func(x SavedAccount) bool { return x.AccountID == sa.AccountID })
	return a.storeSavedAccounts(append(list, sa))
}

// dropSavedAccount forgets one saved account locally (preference and secret).
func (a *App) dropSavedAccount(accountID string) []SavedAccount {
	if a.cfg.Secrets != nil {
		_ = a.cfg.Secrets.Delete(rememberedKey(accountID)) // absent is fine; a failing keyring is reported elsewhere
	}
	list := slices.DeleteFunc(a.savedAccounts(), func(x SavedAccount) bool { return x.AccountID == accountID })
	return a.storeSavedAccounts(list)
}

func findSaved(list []SavedAccount, accountID string) (SavedAccount, bool) {
	i := slices.IndexFunc(list, func(x SavedAccount) bool { return x.AccountID == accountID })
	if i < 0 {
		return SavedAccount{}, false
	}
	return list[i], true
}
