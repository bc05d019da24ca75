package launch

import (
	"fmt"

	"fyne.io/fyne/v2"
)

// Name is the app's display name; FyneApp.toml carries the same.
const Name = "Sessionguard"

// Build is the app's build number; FyneApp.toml carries the same.
const Build = 1

// Metadata is who the app says it is: FyneApp.toml's [Details] (name, ID,
// version and build).
type Metadata struct {
	Name, ID, Version string
	Build             int
}

// Compiled is the metadata compiled into this binary (the constants above,
// which a test keeps equal to FyneApp.toml). It needs no Fyne app, so
// --version can print it.
func Compiled() Metadata {
	return Metadata{Name: Name, ID: AppID, Version: Version, Build: Build}
}

// Resolve is the metadata to show once the Fyne app exists. Fyne's own,
// when it is about this app, wins: `fyne package` stamps FyneApp.toml into
// the binary and `go run` reads it from the source folder. A plain
// `go build` binary started elsewhere has none (Fyne then reports an empty
// ID and version 0.0.1), so the compiled metadata stands in; ok is false
// then and the caller should hand it to fyne (app.SetMetadata).
func Resolve(f fyne.AppMetadata) (m Metadata, ok bool) {
	if f.ID != AppID || f.Version == "" {
		return Compiled(), false
	}
	m = Metadata{Name: f.Name, ID: f.ID, Version: f.Version, Build: f.Build}
	if m.Name == "" {
		m.Name = Name
	}
	return m, true
}

// Fyne is m as Fyne's metadata, with icon as the app's icon.
func (m Metadata) Fyne(icon fyne.Resource) fyne.AppMetadata {
	return fyne.AppMetadata{ID: m.ID, Name: m.Name, Version: m.Version, Build: m.Build, Icon: icon,
		Custom: map[string]string{}, Migrations: map[string]bool{"fyneDo": true}}
}

// String is the --version line, e.g. "Sessionguard 1.0.0 (build 1)".
func (m Metadata) String() string {
	return fmt.Sprintf("%s %s (build %d)", m.Name, m.Version, m.Build)
}
