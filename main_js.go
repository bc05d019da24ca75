//go:build js && wasm

package main

import (
	"context"
	"log"

	"fyne.io/fyne/v2"
	fyneapp "fyne.io/fyne/v2/app"

	"sessionguard/browser"
	"sessionguard/launch"
	"sessionguard/platform"
	"sessionguard/ui"
)

// main is the web build: the app in a browser tab, talking to the server
// that served the page. It keeps everything in memory (the preferences
// and the secret store too), so closing the tab forgets the login, and it
// has no server of its own, no keyring and no files.
func main() {
	browser.KeepNoFiles()
	fa := fyneapp.NewWithID(launch.AppID)
	fa.Settings().SetTheme(ui.Theme())
	meta, fromFyne := launch.Resolve(fa.Metadata())
	if !fromFyne {
		fyneapp.SetMetadata(meta.Fyne(fyne.NewStaticResource("Icon.png", iconPNG)))
	}
	server := browser.Origin()
	l, err := launch.New(launch.Config{Prefs: platform.NewMemoryPrefs(), Server: server, Version: meta.Version})
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	accounts := l.OpenAccounts()
	if err := accounts.Load(); err != nil {
		log.Fatal(err)
	}
	in := ui.Info{Name: meta.Name, Version: meta.Version, Build: meta.Build, Server: server}

	w := fa.NewWindow("Sessionguard")
	w.SetMaster()
	u := ui.NewAccounts(w, accounts, in)
	browser.ForgetTyping()
	mirror := browser.NewMirror(u.ScreenText)
	u.OnScreenChange(mirror.Changed)
	u.Start()
	go func() { _ = accounts.Start(ctx) }()
	// A closed or reloaded tab ends its sessions rather than leaving them
	// in Login activity with nobody holding their tokens.
	browser.OnLeave(accounts.LeaveNow)
	w.ShowAndRun()
}
