//go:build !js

// Command sessionguard is the Sessionguard app: see every place your
// account is logged in and end any of them, from wherever you are.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"syscall"

	"fyne.io/fyne/v2"
	fyneapp "fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/driver/desktop"

	"sessionguard/app"
	"sessionguard/launch"
	"sessionguard/ui"
)

func main() {
	serverURL := flag.String("server", "", "sessiond address, e.g. https://sessions.example.com (default: the saved choice, or this device's own server)")
	dataDir := flag.String("data-dir", "", "where the app keeps its files (default: the app's storage)")
	demo := flag.Bool("demo", false, "start with the demo account and simulated devices on this device's server")
	version := flag.Bool("version", false, "print the name, version and build, and exit")
	flag.Parse()
	if *version {
		fmt.Println(launch.Compiled())
		return
	}
	if *demo {
		*serverURL = "local"
	}

	fa := fyneapp.NewWithID(launch.AppID)
	fa.Settings().SetTheme(ui.Theme()) // readable colours, dark or light as the system prefers
	meta, fromFyne := launch.Resolve(fa.Metadata())
	if !fromFyne { // a plain go build started away from FyneApp.toml
		fyneapp.SetMetadata(meta.Fyne(fyne.NewStaticResource("Icon.png", iconPNG)))
	}
	dir := *dataDir
	if dir == "" {
		dir = fa.Storage().RootURI().Path()
	}
	l, err := launch.New(launch.Config{DataDir: dir, Prefs: fa.Preferences(), Server: *serverURL, Version: meta.Version})
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	firstRun := l.FirstRun()
	accounts := l.OpenAccounts() // every account signed in here, side by side
	if err := accounts.Load(); err != nil {
		log.Fatal(err)
	}

	var info func(first bool) ui.Info
	useServer := func(address string) (*app.App, ui.Info, error) {
		server := app.ServerLocal
		if address != "" && address != app.ServerLocal {
			url, err := l.Check(ctx, address) // a Sessionguard server must answer there
			if err != nil {
				return nil, ui.Info{}, err
			}
			server = url
		}
		c, err := accounts.UseServer(ctx, server)
		if err != nil {
			return nil, ui.Info{}, err
		}
		return c, info(false), nil
	}
	info = func(first bool) ui.Info {
		return ui.Info{Name: meta.Name, Version: meta.Version, Build: meta.Build, Server: l.Saved(), Embedded: l.Saved() == app.ServerLocal,
			DataDir: dir, LocalAccounts: l.HasLocalAccounts(),
			FirstRun: first, UseServer: useServer,
			TryDemo: func() (string, string, error) { return l.SeedDemo(ctx) }}
	}
	in := info(firstRun)
	if *demo {
		if err := l.StartLocal(); err != nil {
			log.Fatal(err)
		}
		if in.PrefillUsername, in.PrefillPassword, err = l.SeedDemo(ctx); err != nil {
			log.Fatal(err)
		}
	}

	w := fa.NewWindow("Sessionguard")
	w.Resize(fyne.NewSize(440, 760))
	w.SetMaster()
	w.Canvas().AddShortcut(&desktop.CustomShortcut{KeyName: fyne.KeyQ, Modifier: fyne.KeyModifierShortcutDefault},
		func(fyne.Shortcut) { fa.Quit() })
	u := ui.NewAccounts(w, accounts, in)
	u.Start()
	go func() { _ = accounts.Start(ctx) }()

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() { <-sig; fyne.Do(fa.Quit) }()

	w.ShowAndRun()
	u.Stop()
	accounts.Close(ctx) // logs out each session without "Remember me"
	l.Close(ctx, true)  // stops the local server
}
