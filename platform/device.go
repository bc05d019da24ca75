package platform

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"

	"sessionguard/api"
)

// Preference keys used by DescribeDevice and SetDeviceName.
const (
	// PrefInstallID holds the random UUID that identifies this install.
	PrefInstallID = "device.install_id"
	// PrefDeviceName holds the device name the person chose, if any.
	PrefDeviceName = "device.name"
)

// MaxDeviceNameLen is the longest device name, in runes.
const MaxDeviceNameLen = 64

// ErrInvalidDeviceName is wrapped by SetDeviceName's validation errors.
var ErrInvalidDeviceName = errors.New("platform: invalid device name")

// hostFacts is what DescribeDevice learns about the machine, gathered once
// per process by the build-specific loadHostFacts.
type hostFacts struct {
	goos     string // runtime.GOOS
	fullName string // the OS user's display name ("Ana Silva"), may be empty
	login    string // the OS user's login name ("ana"), may be empty
	hostName string // may be empty
	osName   string // "Debian GNU/Linux 12 (bookworm)", "macOS 14.5", …
	model    string // "ThinkPad X1 Carbon Gen 9", "Google Pixel 8", may be empty
	product  string // the model as sold, for the default name ("Pixel 8"); empty: model
	kind     string // "laptop", "Linux PC", "Android phone", "iPhone", …
}

var hostFactsOnce = sync.OnceValue(loadHostFacts)

// installIDMu makes "read the ID, create it if missing" atomic in-process.
var installIDMu sync.Mutex

// DescribeDevice returns the device description sent at sign-in: the
// install's stable ID (a random UUID created on first use and kept in p),
// the saved device name or else a friendly default ("Ana's laptop"), the
// platform, a readable OS version, the hardware model where known, and
// appVersion.
func DescribeDevice(p Prefs, appVersion string) api.Device {
	return describeDevice(p, appVersion, hostFactsOnce())
}

func describeDevice(p Prefs, appVersion string, f hostFacts) api.Device {
	name, err := validDeviceName(p.String(PrefDeviceName))
	if err != nil { // unset, or edited into something invalid
		name = defaultDeviceName(f)
	}
	osName := f.osName
	if osName == "" {
		osName = f.goos
	}
	return api.Device{
		ID:         installID(p),
		Name:       name,
		Platform:   platformOf(f.goos),
		OS:         osName,
		Model:      f.model,
		AppVersion: appVersion,
	}
}

func installID(p Prefs) string {
	installIDMu.Lock()
	defer installIDMu.Unlock()
	if id := p.String(PrefInstallID); id != "" {
		if u, err := uuid.Parse(id); err == nil && u.Version() == 4 {
			return u.String()
		}
	}
	id := uuid.NewString()
	p.SetString(PrefInstallID, id)
	return id
}

// SetDeviceName saves the name this device shows in every login activity
// list. The name is trimmed and must then be 1 to MaxDeviceNameLen runes of
// valid UTF-8 without control characters, line separators or bidirectional
// overrides; otherwise the error wraps ErrInvalidDeviceName.
func SetDeviceName(p Prefs, name string) error {
	n, err := validDeviceName(name)
	if err != nil {
		return err
	}
	p.SetString(PrefDeviceName, n)
	return nil
}

// CheckDeviceName is name as SetDeviceName would save it (trimmed), or
// the error wrapping ErrInvalidDeviceName that it would return.
func CheckDeviceName(name string) (string, error) { return validDeviceName(name) }

func validDeviceName(name string) (string, error) {
	if !utf8.ValidString(name) {
		return "", fmt.Errorf("%w: not valid UTF-8", ErrInvalidDeviceName)
	}
	name = strings.TrimSpace(name)
	switch n := utf8.RuneCountInString(name); {
	case n == 0:
		return "", fmt.Errorf("%w: empty", ErrInvalidDeviceName)
	case n > MaxDeviceNameLen:
		return "", fmt.Errorf("%w: longer than %d characters", ErrInvalidDeviceName, MaxDeviceNameLen)
	}
	for _, r := range name {
		if unicode.IsControl(r) || isBidiControl(r) || r == '\u2028' || r == '\u2029' {
			return "", fmt.Errorf("%w: contains the control character %U", ErrInvalidDeviceName, r)
		}
	}
	return name, nil
}

// isBidiControl reports the explicit directional formatting characters,
// which could make one device's name display as another's.
func isBidiControl(r rune) bool {
	return r == '\u061C' || r == '\u200E' || r == '\u200F' ||
		(r >= '\u202A' && r <= '\u202E') || (r >= '\u2066' && r <= '\u2069')
}

// platformOf maps runtime.GOOS to api.Platform*; other systems report their
// GOOS, which the server shows as a generic device.
func platformOf(goos string) string {
	switch goos {
	case "darwin":
		return api.PlatformMacOS
	case "ios":
		return api.PlatformIOS
	case "android":
		return api.PlatformAndroid
	case "linux":
		return api.PlatformLinux
	case "windows":
		return api.PlatformWindows
	case goosBrowser:
		return api.PlatformWeb
	}
	return goos
}

// defaultDeviceName is the name a person would give the machine: their
// first name and its model ("Ana's ThinkPad X1 Carbon"), else their first
// name and its kind ("Ana's laptop"), else the model ("Pixel 8"), else a
// host name someone chose ("build-box"), else the system and kind ("Debian
// PC"), else "This device". A browser is "Chrome on Linux".
func defaultDeviceName(f hostFacts) string {
	if f.goos == goosBrowser { // a browser says no more than what it is
		return clip(f.kind, MaxDeviceNameLen)
	}
	person := personName(f.fullName, f.login)
	model := friendlyModel(f.product)
	if model == "" {
		model = friendlyModel(f.model)
	}
	switch {
	case person != "" && model != "":
		return clip(person+"'s "+model, MaxDeviceNameLen)
	case person != "" && f.kind != "":
		return clip(person+"'s "+f.kind, MaxDeviceNameLen)
	case model != "":
		return clip(model, MaxDeviceNameLen)
	}
	if h := cleanHostName(f.hostName); chosenHostName(h) {
		return clip(h, MaxDeviceNameLen)
	}
	if k := systemKind(f); k != "" {
		return clip(k, MaxDeviceNameLen)
	}
	return "This device"
}

// friendlyModel is the model as people call it, or "" when it names no
// product a person would recognise: a virtual machine's firmware string,
// or a bare type number. Apple's identifiers become the product line
// ("MacBookPro18,1" → "MacBook Pro"); a trailing generation goes
// ("ThinkPad X1 Carbon Gen 9" → "ThinkPad X1 Carbon").
func friendlyModel(model string) string {
	m := printable(model)
	if m == "" || isVirtualModel(m) {
		return ""
	}
	for _, a := range []struct{ prefix, name string }{
		{"MacBookPro", "MacBook Pro"}, {"MacBookAir", "MacBook Air"}, {"MacBook", "MacBook"},
		{"iMac", "iMac"}, {"Macmini", "Mac mini"}, {"MacPro", "Mac Pro"}, {"Mac", "Mac"},
		{"iPhone", "iPhone"}, {"iPad", "iPad"}, {"iPod", "iPod touch"},
	} {
		if rest, ok := strings.CutPrefix(m, a.prefix); ok && rest != "" && rest[0] >= '0' && rest[0] <= '9' && strings.Contains(rest, ",") {
			return a.name
		}
	}
	if f := strings.Fields(m); len(f) >= 3 && strings.EqualFold(f[len(f)-2], "Gen") {
		m = strings.Join(f[:len(f)-2], " ")
	}
	if !strings.ContainsAny(m, " ") && !hasLetterRun(m, 3) { // "20XW0055GE", "SM-S911B"
		return ""
	}
	return m
}

// hasLetterRun reports whether s has n letters in a row.
func hasLetterRun(s string, n int) bool {
	run := 0
	for _, r := range s {
		if unicode.IsLetter(r) {
			run++
			if run >= n {
				return true
			}
		} else {
			run = 0
		}
	}
	return false
}

// isVirtualModel reports the models virtual machines and emulators report.
func isVirtualModel(m string) bool {
	l := strings.ToLower(m)
	for _, v := range []string{"standard pc", "virtual", "vmware", "kvm", "qemu", "bochs", "bhyve", "hvm domu",
		"google compute engine", "openstack", "cloud", "emulator", "sdk_gphone", "android sdk", "simulator"} {
		if strings.Contains(l, v) {
			return true
		}
	}
	return false
}

// chosenHostName reports whether h looks like a name someone gave the
// machine, not one it came with: at least three characters, not a
// distribution's or a generic word, not a container's hex ID.
func chosenHostName(h string) bool {
	if utf8.RuneCountInString(h) < 3 {
		return false
	}
	switch strings.ToLower(h) {
	case "debian", "ubuntu", "fedora", "archlinux", "arch", "linux", "alpine", "centos", "raspberrypi",
		"host", "server", "desktop", "laptop", "computer", "machine", "box", "node", "pc", "workstation":
		return false
	}
	l := strings.ToLower(h)
	if strings.Trim(l, "0123456789abcdef-") == "" { // 3f2a9c1b7e4d
		return false
	}
	for _, p := range []string{"desktop-", "laptop-", "win-", "ip-"} { // Windows' DESKTOP-4F3K2J1, cloud ip-10-0-0-1
		if strings.HasPrefix(l, p) {
			return false
		}
	}
	return true
}

// systemKind names the machine by its system and kind: "Debian PC",
// "Fedora laptop", "Windows PC", or the kind alone.
func systemKind(f hostFacts) string {
	kind := f.kind
	family := ""
	if fs := strings.Fields(printable(f.osName)); len(fs) > 0 && f.goos == "linux" {
		family = fs[0]
	}
	switch {
	case kind == "":
		return ""
	case family == "" || strings.EqualFold(family, "linux") || strings.EqualFold(family, f.goos):
		return kind
	case kind == "Linux PC":
		return family + " PC"
	case kind == "laptop":
		return family + " laptop"
	}
	return kind
}

// personName picks a first name: the first word of the display name, else
// the first part of the login name ("ana.silva" → "Ana"), capitalised.
// Accounts that are not a person (root, Android's per-app users) give "".
func personName(fullName, login string) string {
	if i := strings.IndexByte(fullName, ','); i >= 0 { // GECOS: "Ana Silva,Room,…"
		fullName = fullName[:i]
	}
	first := ""
	if fs := strings.Fields(printable(fullName)); len(fs) > 0 {
		first = fs[0]
	}
	if first == "" {
		if i := strings.LastIndexByte(login, '\\'); i >= 0 { // Windows: DOMAIN\user
			login = login[i+1:]
		}
		login = printable(login)
		if i := strings.IndexAny(login, "._-@ "); i >= 0 {
			login = login[:i]
		}
		first = login
	}
	if first == "" || notAPerson(first) {
		return ""
	}
	r, size := utf8.DecodeRuneInString(first)
	return clip(string(unicode.ToTitle(r))+first[size:], 32)
}

func notAPerson(name string) bool {
	switch strings.ToLower(name) {
	case "root", "admin", "administrator", "user", "nobody", "system", "localhost":
		return true
	}
	// Android app users: u0_a123 (cut at '_' above leaves "u0").
	if len(name) >= 2 && (name[0] == 'u' || name[0] == 'U') {
		if _, err := strconv.Atoi(name[1:]); err == nil {
			return true
		}
	}
	return false
}

// cleanHostName drops the domain and names that say nothing.
func cleanHostName(h string) string {
	h = printable(h)
	if i := strings.IndexByte(h, '.'); i > 0 {
		h = h[:i]
	}
	switch strings.ToLower(h) {
	case "", "localhost", "(none)", "unknown":
		return ""
	}
	return h
}

// printable trims s and drops control and bidi characters.
func printable(s string) string {
	s = strings.ToValidUTF8(s, "")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || isBidiControl(r) {
			return -1
		}
		return r
	}, s)
	return strings.TrimSpace(s)
}

// clip shortens s to at most n runes.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return strings.TrimSpace(string([]rune(s)[:n]))
}

// userNames returns the OS user's display name and login name, if known.
func userNames() (fullName, login string) {
	u, err := user.Current()
	if err != nil {
		return "", ""
	}
	return u.Name, u.Username
}

func hostName() string {
	h, _ := os.Hostname()
	return h
}

// Linux (and other systems with os-release and sysfs) readers. They take the
// file system root so tests can feed fake trees; paths are fs.FS paths
// (no leading slash).

// osReleaseName returns PRETTY_NAME from etc/os-release (or
// usr/lib/os-release), else "NAME VERSION", else "".
func osReleaseName(root fs.FS) string {
	for _, p := range []string{"etc/os-release", "usr/lib/os-release"} {
		b, err := fs.ReadFile(root, p)
		if err != nil {
			continue
		}
		v := parseOSRelease(b)
		if s := printable(v["PRETTY_NAME"]); s != "" {
			return s
		}
		if s := printable(strings.TrimSpace(v["NAME"] + " " + v["VERSION"])); s != "" {
			return s
		}
	}
	return ""
}

// parseOSRelease reads os-release's shell-style KEY=value lines.
func parseOSRelease(b []byte) map[string]string {
	m := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		m[strings.TrimSpace(k)] = unquoteShell(strings.TrimSpace(v))
	}
	return m
}

func unquoteShell(v string) string {
	if len(v) >= 2 && v[0] == '\'' && v[len(v)-1] == '\'' {
		return v[1 : len(v)-1]
	}
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		v = v[1 : len(v)-1]
		var b strings.Builder
		for i := 0; i < len(v); i++ {
			if v[i] == '\\' && i+1 < len(v) && strings.IndexByte("\"\\$`", v[i+1]) >= 0 {
				i++
			}
			b.WriteByte(v[i])
		}
		return b.String()
	}
	return v
}

const dmiDir = "sys/devices/virtual/dmi/id"

// dmiModel returns the machine's model from DMI: product_name, except on
// Lenovo machines where product_name is a type number ("20XW0055GE") and
// product_version holds the name ("ThinkPad X1 Carbon Gen 9"). Placeholders
// firmware vendors leave in ("To Be Filled By O.E.M.") give "".
func dmiModel(root fs.FS) string {
	name := dmiValue(root, "product_name")
	if strings.EqualFold(dmiValue(root, "sys_vendor"), "LENOVO") {
		if v := dmiValue(root, "product_version"); v != "" {
			return v
		}
	}
	return name
}

// dmiValue reads one DMI attribute, trimmed, "" when absent or a placeholder.
func dmiValue(root fs.FS, name string) string {
	b, err := fs.ReadFile(root, path.Join(dmiDir, name))
	if err != nil {
		return ""
	}
	v := printable(string(b))
	if isPlaceholder(v) {
		return ""
	}
	return v
}

// isPlaceholder reports firmware filler values that name no product.
func isPlaceholder(v string) bool {
	l := strings.ToLower(strings.TrimSpace(v))
	switch l {
	case "", "to be filled by o.e.m.", "to be filled by oem", "system product name",
		"system version", "system manufacturer", "default string", "not applicable",
		"not specified", "none", "n/a", "na", "o.e.m.", "oem", "unknown", "invalid",
		"type1productconfigid", "all series", "undefined", "123456789", "0123456789",
		"x.x", "xxxxx", "empty", "product name", "product version":
		return true
	}
	return strings.Trim(l, "0. -") == ""
}

// linuxIsLaptop reports a portable machine: a system battery
// (sys/class/power_supply/BAT*, type Battery) or a portable DMI chassis.
func linuxIsLaptop(root fs.FS) bool {
	entries, _ := fs.ReadDir(root, "sys/class/power_supply")
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), "BAT") {
			continue
		}
		dir := path.Join("sys/class/power_supply", e.Name())
		// Peripheral batteries (mice, headsets) report scope "Device".
		if scope, err := fs.ReadFile(root, path.Join(dir, "scope")); err == nil &&
			strings.EqualFold(strings.TrimSpace(string(scope)), "Device") {
			continue
		}
		if typ, err := fs.ReadFile(root, path.Join(dir, "type")); err == nil &&
			!strings.EqualFold(strings.TrimSpace(string(typ)), "Battery") {
			continue
		}
		return true
	}
	// SMBIOS chassis types: 8 portable, 9 laptop, 10 notebook, 14 sub
	// notebook, 31 convertible, 32 detachable.
	if b, err := fs.ReadFile(root, path.Join(dmiDir, "chassis_type")); err == nil {
		switch strings.TrimSpace(string(b)) {
		case "8", "9", "10", "14", "31", "32":
			return true
		}
	}
	return false
}

// unixFacts gathers facts on Linux desktops and other Unix systems from
// os-release and sysfs under root.
func unixFacts(root fs.FS, goos string) hostFacts {
	f := hostFacts{goos: goos, osName: osReleaseName(root), model: dmiModel(root), hostName: hostName()}
	f.fullName, f.login = userNames()
	switch {
	case linuxIsLaptop(root):
		f.kind = "laptop"
	case goos == "linux":
		f.kind = "Linux PC"
	default:
		f.kind = "computer"
	}
	if f.osName == "" {
		f.osName = goos
	}
	return f
}
