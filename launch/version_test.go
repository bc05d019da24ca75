package launch

import (
	"os"
	"regexp"
	"strconv"
	"testing"

	"fyne.io/fyne/v2"
)

// fyneAppDetails reads FyneApp.toml's [Details] keys with a plain pattern
// (independent of the code under test).
func fyneAppDetails(t *testing.T) map[string]string {
	t.Helper()
	b, err := os.ReadFile("../FyneApp.toml")
	if err != nil {
		t.Fatal(err)
	}
	sec := regexp.MustCompile(`(?ms)^\[Details\]\s*$(.*?)(?:^\[|\z)`).FindSubmatch(b)
	if sec == nil {
		t.Fatal("FyneApp.toml has no [Details]")
	}
	kv := map[string]string{}
	for _, m := range regexp.MustCompile(`(?m)^\s*(\w+)\s*=\s*"?([^"\n]*?)"?\s*$`).FindAllSubmatch(sec[1], -1) {
		kv[string(m[1])] = string(m[2])
	}
	return kv
}

// TestVersionMatchesFyneAppToml keeps the metadata the app reports (and
// --version prints) equal to what fyne package stamps into installers.
func TestVersionMatchesFyneAppToml(t *testing.T) {
	d := fyneAppDetails(t)
	build, err := strconv.Atoi(d["Build"])
	if err != nil {
		t.Fatalf("FyneApp.toml Build = %q: %v", d["Build"], err)
	}
	want := Metadata{Name: d["Name"], ID: d["ID"], Version: d["Version"], Build: build}
	if got := Compiled(); got != want {
		t.Fatalf("compiled metadata %+v, FyneApp.toml says %+v", got, want)
	}
	if d["Icon"] == "" {
		t.Error("FyneApp.toml has no Icon")
	} else if _, err := os.Stat("../" + d["Icon"]); err != nil {
		t.Errorf("FyneApp.toml's Icon: %v", err)
	}
	if got, want := Compiled().String(), d["Name"]+" "+d["Version"]+" (build "+d["Build"]+")"; got != want {
		t.Errorf("version line %q, want %q", got, want)
	}
}

func TestResolveMetadata(t *testing.T) {
	// What fyne package stamps in (or go run reads) is about this app: used,
	// build number and all.
	packaged := fyne.AppMetadata{ID: AppID, Name: "Sessionguard", Version: "1.2.3", Build: 7}
	if m, ok := Resolve(packaged); !ok || m != (Metadata{Name: "Sessionguard", ID: AppID, Version: "1.2.3", Build: 7}) {
		t.Errorf("packaged: %+v, %v", m, ok)
	}
	// A plain go build started away from FyneApp.toml: Fyne's defaults.
	for _, f := range []fyne.AppMetadata{{Version: "0.0.1", Build: 1}, {}, {ID: "com.example.other", Version: "9.9.9"}} {
		if m, ok := Resolve(f); ok || m != Compiled() {
			t.Errorf("Resolve(%+v) = %+v, %v; want the compiled metadata", f, m, ok)
		}
	}
	f := Compiled().Fyne(nil)
	if f.ID != AppID || f.Name != Name || f.Version != Version || f.Build != Build || f.Custom == nil || !f.Migrations["fyneDo"] {
		t.Errorf("Fyne() = %+v", f)
	}
}
