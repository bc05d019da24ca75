package main

import _ "embed"

// iconPNG is the app icon (FyneApp.toml's Icon), for builds that carry no
// Fyne metadata of their own.
//
//go:embed Icon.png
var iconPNG []byte
