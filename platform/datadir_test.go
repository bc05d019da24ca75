package platform

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

func TestDataDirPaths(t *testing.T) {
	home := func() (string, error) { return "/home/ana", nil }
	config := func() (string, error) { return "/cfg", nil }
	noHome := func() (string, error) { return "", errors.New("$HOME is not defined") }
	tests := []struct {
		name, goos, appID, xdg string
		home                   func() (string, error)
		want                   string
		wantErr                bool
	}{
		{name: "linux XDG_DATA_HOME", goos: "linux", appID: "io.sessionguard.app", xdg: "/xdg", home: home, want: "/xdg/io.sessionguard.app"},
		{name: "linux default", goos: "linux", appID: "io.sessionguard.app", home: home, want: "/home/ana/.local/share/io.sessionguard.app"},
		{name: "linux relative XDG ignored", goos: "linux", appID: "x", xdg: "rel/dir", home: home, want: "/home/ana/.local/share/x"},
		{name: "freebsd like linux", goos: "freebsd", appID: "x", home: home, want: "/home/ana/.local/share/x"},
		{name: "linux no home", goos: "linux", appID: "x", home: noHome, wantErr: true},
		{name: "windows", goos: "windows", appID: "x", xdg: "/xdg", home: home, want: "/cfg/x"},
		{name: "macos", goos: "darwin", appID: "x", home: home, want: "/cfg/x"},
		{name: "empty id", goos: "linux", appID: "", home: home, wantErr: true},
		{name: "dotdot id", goos: "linux", appID: "..", home: home, wantErr: true},
		{name: "slash id", goos: "linux", appID: "a/b", home: home, wantErr: true},
		{name: "backslash id", goos: "windows", appID: `a\b`, home: home, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			getenv := func(k string) string {
				if k == "XDG_DATA_HOME" {
					return tc.xdg
				}
				return ""
			}
			got, err := dataDir(tc.goos, tc.appID, getenv, tc.home, config)
			if tc.wantErr {
				if err == nil {
					t.Fatalf("dataDir = %q, want an error", got)
				}
				return
			}
			if err != nil || got != filepath.FromSlash(tc.want) {
				t.Fatalf("dataDir = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

func TestDataDirCreates(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("XDG layout")
	}
	base := t.TempDir()
	t.Setenv("XDG_DATA_HOME", base)
	dir, err := DataDir("io.sessionguard.test")
	if err != nil {
		t.Fatal(err)
	}
	if dir != filepath.Join(base, "io.sessionguard.test") {
		t.Fatalf("DataDir = %q", dir)
	}
	st, err := os.Stat(dir)
	if err != nil || !st.IsDir() || st.Mode().Perm() != 0o700 {
		t.Fatalf("stat %s: %v, %v", dir, st, err)
	}
	// Idempotent.
	if again, err := DataDir("io.sessionguard.test"); err != nil || again != dir {
		t.Fatalf("second DataDir = %q, %v", again, err)
	}
}
