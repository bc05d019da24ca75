// Package web packs Sessionguard's browser build (the Fyne app compiled
// with GOOS=js GOARCH=wasm) into a static site, and serves that site.
package web

import (
	"embed"
	"io/fs"
)

// dist is what `make web` packed into web/dist when sessiond was built:
// only the placeholder README.md if it never ran.
//
//go:embed all:dist
var dist embed.FS

// Dist returns the packed site built into this binary (web/dist as it was
// at build time). Handler reports ErrNotBuilt for it when `make web` had not
// run before the build.
func Dist() fs.FS {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		panic(err) // "dist" is a valid path: cannot happen
	}
	return sub
}
