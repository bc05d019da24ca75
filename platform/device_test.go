package platform

import (
	"errors"
	"runtime"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/uuid"

	"sessionguard/api"
)

func TestOSReleaseName(t *testing.T) {
	tests := []struct {
		name  string
		files fstest.MapFS
		want  string
	}{
		{"debian", fstest.MapFS{"etc/os-release": {Data: []byte("PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\n")}}, "Debian GNU/Linux 12 (bookworm)"},
		{"single quotes and comments", fstest.MapFS{"etc/os-release": {Data: []byte("# comment\n\nPRETTY_NAME='Arch Linux'\n")}}, "Arch Linux"},
		{"unquoted", fstest.MapFS{"etc/os-release": {Data: []byte("PRETTY_NAME=Alpine\n")}}, "Alpine"},
		{"escapes", fstest.MapFS{"etc/os-release": {Data: []byte(`PRETTY_NAME="My \"Distro\" \$1"` + "\n")}}, `My "Distro" $1`},
		{"no PRETTY_NAME", fstest.MapFS{"etc/os-release": {Data: []byte("NAME=Fedora\nVERSION=\"40 (Workstation Edition)\"\n")}}, "Fedora 40 (Workstation Edition)"},
		{"usr/lib fallback", fstest.MapFS{"usr/lib/os-release": {Data: []byte("PRETTY_NAME=\"Ubuntu 24.04 LTS\"\n")}}, "Ubuntu 24.04 LTS"},
		{"etc wins over usr/lib", fstest.MapFS{
			"etc/os-release":     {Data: []byte("PRETTY_NAME=\"Etc\"\n")},
			"usr/lib/os-release": {Data: []byte("PRETTY_NAME=\"UsrLib\"\n")},
		}, "Etc"},
		{"control characters dropped", fstest.MapFS{"etc/os-release": {Data: []byte("PRETTY_NAME=\"Evil\x1b[31m OS\"\n")}}, "Evil[31m OS"},
		{"missing", fstest.MapFS{}, ""},
		{"garbage", fstest.MapFS{"etc/os-release": {Data: []byte("\x00\x01 no equals\n")}}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := osReleaseName(tc.files); got != tc.want {
				t.Errorf("osReleaseName = %q, want %q", got, tc.want)
			}
		})
	}
}

func dmi(files map[string]string) fstest.MapFS {
	m := fstest.MapFS{}
	for k, v := range files {
		m["sys/devices/virtual/dmi/id/"+k] = &fstest.MapFile{Data: []byte(v)}
	}
	return m
}

func TestDMIModel(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  string
	}{
		{"plain", map[string]string{"product_name": "XPS 13 9310\n"}, "XPS 13 9310"},
		{"whitespace", map[string]string{"product_name": "  Precision 5570 \n"}, "Precision 5570"},
		{"OEM placeholder", map[string]string{"product_name": "To Be Filled By O.E.M.\n"}, ""},
		{"ASUS placeholder", map[string]string{"product_name": "System Product Name\n"}, ""},
		{"default string", map[string]string{"product_name": "Default string\n"}, ""},
		{"zeros", map[string]string{"product_name": "0000000000\n"}, ""},
		{"lenovo uses product_version", map[string]string{"sys_vendor": "LENOVO\n", "product_name": "20XW0055GE\n", "product_version": "ThinkPad X1 Carbon Gen 9\n"}, "ThinkPad X1 Carbon Gen 9"},
		{"lenovo placeholder version", map[string]string{"sys_vendor": "LENOVO\n", "product_name": "20XW0055GE\n", "product_version": "None\n"}, "20XW0055GE"},
		{"qemu", map[string]string{"product_name": "Standard PC (Q35 + ICH9, 2009)\n"}, "Standard PC (Q35 + ICH9, 2009)"},
		{"missing", nil, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := dmiModel(dmi(tc.files)); got != tc.want {
				t.Errorf("dmiModel = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestLinuxIsLaptop(t *testing.T) {
	ps := func(name, typ, scope string) fstest.MapFS {
		m := fstest.MapFS{"sys/class/power_supply/" + name + "/type": {Data: []byte(typ + "\n")}}
		if scope != "" {
			m["sys/class/power_supply/"+name+"/scope"] = &fstest.MapFile{Data: []byte(scope + "\n")}
		}
		return m
	}
	merge := func(ms ...fstest.MapFS) fstest.MapFS {
		out := fstest.MapFS{}
		for _, m := range ms {
			for k, v := range m {
				out[k] = v
			}
		}
		return out
	}
	tests := []struct {
		name string
		fs   fstest.MapFS
		want bool
	}{
		{"BAT0", ps("BAT0", "Battery", ""), true},
		{"BAT1 with AC", merge(ps("AC", "Mains", ""), ps("BAT1", "Battery", "System")), true},
		{"mains only", ps("AC", "Mains", ""), false},
		{"nothing", fstest.MapFS{}, false},
		{"peripheral battery", ps("hidpp_battery_0", "Battery", "Device"), false},
		{"BAT with device scope", ps("BAT0", "Battery", "Device"), false},
		{"BAT dir without type file", fstest.MapFS{"sys/class/power_supply/BAT0/capacity": {Data: []byte("80\n")}}, true},
		{"notebook chassis", dmi(map[string]string{"chassis_type": "10\n"}), true},
		{"desktop chassis", dmi(map[string]string{"chassis_type": "3\n"}), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := linuxIsLaptop(tc.fs); got != tc.want {
				t.Errorf("linuxIsLaptop = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestUnixFactsFromTree(t *testing.T) {
	root := dmi(map[string]string{"product_name": "Framework Laptop 13\n"})
	root["etc/os-release"] = &fstest.MapFile{Data: []byte("PRETTY_NAME=\"Fedora Linux 40\"\n")}
	root["sys/class/power_supply/BAT1/type"] = &fstest.MapFile{Data: []byte("Battery\n")}
	f := unixFacts(root, "linux")
	if f.osName != "Fedora Linux 40" || f.model != "Framework Laptop 13" || f.kind != "laptop" || f.goos != "linux" {
		t.Errorf("unixFacts = %+v", f)
	}
	f = unixFacts(fstest.MapFS{}, "linux")
	if f.osName != "linux" || f.model != "" || f.kind != "Linux PC" {
		t.Errorf("unixFacts(empty) = %+v", f)
	}
}

func TestDefaultDeviceName(t *testing.T) {
	tests := []struct {
		name string
		f    hostFacts
		want string
	}{
		{"full name laptop", hostFacts{fullName: "Ana Silva", login: "asilva", kind: "laptop"}, "Ana's laptop"},
		{"gecos commas", hostFacts{fullName: "Ana Silva,,,", login: "asilva", kind: "Linux PC"}, "Ana's Linux PC"},
		{"login only, lower case", hostFacts{login: "ana", kind: "Linux PC"}, "Ana's Linux PC"},
		{"login with dot", hostFacts{login: "ana.silva", kind: "laptop"}, "Ana's laptop"},
		{"windows domain login", hostFacts{login: `CORP\ana`, kind: "Windows PC"}, "Ana's Windows PC"},
		{"unicode name", hostFacts{fullName: "élodie Dupont", kind: "Mac"}, "Élodie's Mac"},
		{"android phone", hostFacts{fullName: "ana", kind: "Android phone"}, "Ana's Android phone"},
		{"root uses host", hostFacts{fullName: "root", login: "root", hostName: "build-box.example.com", kind: "Linux PC"}, "build-box"},
		{"android app user uses model", hostFacts{login: "u0_a123", hostName: "localhost", model: "Pixel 8", kind: "Android phone"}, "Pixel 8"},
		{"nothing known", hostFacts{hostName: "localhost"}, "This device"},
		{"empty", hostFacts{}, "This device"},
		{"long name clipped", hostFacts{fullName: strings.Repeat("A", 80), kind: "laptop"}, strings.Repeat("A", 32) + "'s laptop"},
		// The model, as people call it, when there is one.
		{"person and model", hostFacts{fullName: "Ana Silva", model: "ThinkPad X1 Carbon Gen 9", kind: "laptop"}, "Ana's ThinkPad X1 Carbon"},
		{"person and Mac identifier", hostFacts{fullName: "Ana", model: "MacBookPro18,1", kind: "MacBook"}, "Ana's MacBook Pro"},
		{"person and new Mac identifier", hostFacts{login: "ana", model: "Mac14,2", kind: "Mac"}, "Ana's Mac"},
		{"type number is no model", hostFacts{fullName: "Ana", model: "20XW0055GE", kind: "laptop"}, "Ana's laptop"},
		{"android product name", hostFacts{login: "u0_a123", hostName: "localhost", model: "Google Pixel 8", product: "Pixel 8", kind: "Android phone"}, "Pixel 8"},
		{"iphone without a person", hostFacts{model: "iPhone15,2", hostName: "iPhone", kind: "iPhone"}, "iPhone"},
		// A virtual machine run as root, named "vm": the system and kind.
		{"root on a VM", hostFacts{goos: "linux", fullName: "root", login: "root", hostName: "vm", model: "Standard PC (Q35 + ICH9, 2009)",
			osName: "Debian GNU/Linux 12 (bookworm)", kind: "Linux PC"}, "Debian PC"},
		{"container ID host", hostFacts{goos: "linux", login: "root", hostName: "3f2a9c1b7e4d", osName: "Ubuntu 24.04 LTS", kind: "laptop"}, "Ubuntu laptop"},
		{"distribution host name", hostFacts{goos: "linux", login: "root", hostName: "debian", osName: "Fedora Linux 40", kind: "Linux PC"}, "Fedora PC"},
		{"windows without a person", hostFacts{goos: "windows", login: "SYSTEM", hostName: "DESKTOP-4F3K2J1", osName: "Windows 11 Pro", kind: "Windows PC"}, "Windows PC"},
		{"control chars stripped", hostFacts{fullName: "\x1bAna\u202e", kind: "laptop"}, "Ana's laptop"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := defaultDeviceName(tc.f)
			if got != tc.want {
				t.Errorf("defaultDeviceName = %q, want %q", got, tc.want)
			}
			if _, err := validDeviceName(got); err != nil {
				t.Errorf("default name %q is not a valid device name: %v", got, err)
			}
		})
	}
}

func TestDescribeDevice(t *testing.T) {
	facts := hostFacts{goos: "linux", fullName: "Ana Silva", kind: "laptop", osName: "Debian GNU/Linux 12 (bookworm)", model: "ThinkPad X1"}
	p := NewMemoryPrefs()
	d1 := describeDevice(p, "1.2.3", facts)
	d2 := describeDevice(p, "1.2.3", facts)
	want := api.Device{ID: d1.ID, Name: "Ana's ThinkPad X1", Platform: api.PlatformLinux, OS: "Debian GNU/Linux 12 (bookworm)", Model: "ThinkPad X1", AppVersion: "1.2.3"}
	if d1 != want {
		t.Errorf("DescribeDevice = %+v, want %+v", d1, want)
	}
	if u, err := uuid.Parse(d1.ID); err != nil || u.Version() != 4 {
		t.Errorf("ID %q is not a random UUID: %v", d1.ID, err)
	}
	if d2.ID != d1.ID || p.String(PrefInstallID) != d1.ID {
		t.Errorf("ID not stable: %q, %q, pref %q", d1.ID, d2.ID, p.String(PrefInstallID))
	}
	if other := describeDevice(NewMemoryPrefs(), "1.2.3", facts); other.ID == d1.ID {
		t.Error("two installs got the same ID")
	}

	// A saved name wins.
	if err := SetDeviceName(p, "  Work laptop  "); err != nil {
		t.Fatal(err)
	}
	if got := describeDevice(p, "1.2.3", facts).Name; got != "Work laptop" {
		t.Errorf("Name = %q, want the saved name", got)
	}
	// An invalid stored name (edited preferences) falls back to the default.
	p.SetString(PrefDeviceName, "bad\nname")
	if got := describeDevice(p, "1.2.3", facts).Name; got != "Ana's ThinkPad X1" {
		t.Errorf("Name = %q with an invalid saved name", got)
	}
	// An invalid stored ID is replaced, and then stable.
	p.SetString(PrefInstallID, "not-a-uuid")
	d3 := describeDevice(p, "1.2.3", facts)
	if d3.ID == "not-a-uuid" || d3.ID != describeDevice(p, "1.2.3", facts).ID {
		t.Errorf("invalid ID not replaced stably: %q", d3.ID)
	}
	// No OS version known: GOOS.
	if got := describeDevice(p, "", hostFacts{goos: "plan9"}); got.OS != "plan9" || got.Platform != "plan9" || got.Name != "This device" {
		t.Errorf("unknown host = %+v", got)
	}
}

func TestPlatformOf(t *testing.T) {
	for goos, want := range map[string]string{
		"darwin": api.PlatformMacOS, "ios": api.PlatformIOS, "android": api.PlatformAndroid,
		"linux": api.PlatformLinux, "windows": api.PlatformWindows, "freebsd": "freebsd",
	} {
		if got := platformOf(goos); got != want {
			t.Errorf("platformOf(%q) = %q, want %q", goos, got, want)
		}
	}
}

func TestSetDeviceName(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"Ana's phone", "Ana's phone", true},
		{"  trimmed\t", "trimmed", true},
		{"x", "x", true},
		{strings.Repeat("é", 64), strings.Repeat("é", 64), true},
		{"👩‍💻 desk", "👩‍💻 desk", true}, // ZWJ emoji sequences are fine
		{strings.Repeat("é", 65), "", false},
		{"", "", false},
		{"   ", "", false},
		{"line\nbreak", "", false},
		{"tab\tinside", "", false},
		{"nul\x00", "", false},
		{"del\x7f", "", false},
		{"bidi \u202egnp.exe", "", false},
		{"line\u2028separator", "", false},
		{"bad \xff utf8", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			p := NewMemoryPrefs()
			p.SetString(PrefDeviceName, "previous")
			err := SetDeviceName(p, tc.in)
			if tc.ok {
				if err != nil || p.String(PrefDeviceName) != tc.want {
					t.Fatalf("SetDeviceName(%q) = %v, saved %q; want %q", tc.in, err, p.String(PrefDeviceName), tc.want)
				}
				return
			}
			if !errors.Is(err, ErrInvalidDeviceName) {
				t.Fatalf("SetDeviceName(%q) = %v, want ErrInvalidDeviceName", tc.in, err)
			}
			if got := p.String(PrefDeviceName); got != "previous" {
				t.Fatalf("rejected name changed the saved one to %q", got)
			}
		})
	}
}

// TestDescribeDeviceHere runs the real host probes once.
func TestDescribeDeviceHere(t *testing.T) {
	d := DescribeDevice(NewMemoryPrefs(), "0.0.0-test")
	t.Logf("this machine: %+v", d)
	if d.Platform != platformOf(runtime.GOOS) || d.OS == "" || d.Name == "" || d.AppVersion != "0.0.0-test" {
		t.Errorf("DescribeDevice = %+v", d)
	}
	if _, err := validDeviceName(d.Name); err != nil {
		t.Errorf("default name %q invalid: %v", d.Name, err)
	}
}
