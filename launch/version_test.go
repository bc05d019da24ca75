package launch

import (
	"os"
	"regexp"
	"testing"
)

// TestVersionMatchesFyneAppToml keeps the version the app reports equal to
// the one fyne package stamps into installers.
func TestVersionMatchesFyneAppToml(t *testing.T) {
	b, err := os.ReadFile("../FyneApp.toml")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^\s*Version\s*=\s*"([^"]+)"`).FindSubmatch(b)
	if m == nil {
		t.Fatal("FyneApp.toml has no Version")
	}
	if got := string(m[1]); got != Version {
		t.Fatalf("FyneApp.toml says %s, launch.Version says %s", got, Version)
	}
	if !regexp.MustCompile(`(?m)^\s*ID\s*=\s*"` + regexp.QuoteMeta(AppID) + `"`).Match(b) {
		t.Fatalf("FyneApp.toml's ID is not %s", AppID)
	}
}
