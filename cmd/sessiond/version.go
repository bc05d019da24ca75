package main

import "runtime/debug"

// version is sessiond's version, as GET /healthz reports it. Release
// builds set it with -ldflags "-X main.version=1.2.3"; otherwise
// buildVersion falls back to the module version `go install` records, and
// then to "dev".
var version string

// buildVersion is the version this binary reports.
func buildVersion() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}
