package webtest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"sessionguard/client"
)

// reauthWindow is sessiond's --reauth-window: short, so that logging a
// device out asks for the password again ("Confirm it's you"), as it
// does ten minutes after signing in with the default.
const reauthWindow = 3 * time.Second

// Waits. The app is a WebAssembly module of some 40 MB compiled on 2
// cores, and WebGL is drawn on the CPU, so they are generous; every one
// fails with what it expected and what the screen showed.
const (
	loadTimeout = 90 * time.Second // navigation to the first screen
	stepTimeout = 30 * time.Second // a screen after a key
	focusWait   = 10 * time.Second
)

// sizes are the window sizes the app is tried at: Login activity shows a
// device beside the list at the first, on a page of its own at the second.
var sizes = []struct {
	name          string
	width, height int
}{
	{"desktop", 1280, 800},
	{"phone", 440, 760},
}

// TestBrowser is Sessionguard in a browser, end to end: the app from
// web/dist served by the real sessiond at /, loaded in headless Chromium,
// signed in to and used from the keyboard alone. Screenshots and the
// load figures (load.txt) go to build/web/.
func TestBrowser(t *testing.T) {
	root := repoRoot(t)
	needBrowser(t, root)
	out := filepath.Join(root, "build", "web")
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	stale, _ := filepath.Glob(filepath.Join(out, "*.png"))
	for _, f := range stale {
		os.Remove(f)
	}
	srv := startSessiond(t, root, "--web-dir", filepath.Join(root, "web", "dist"), "--reauth-window", reauthWindow.String())

	var figures []string // a size's, as soon as they are known
	for _, size := range sizes {
		t.Run(size.name, func(t *testing.T) {
			journey(t, srv, out, size.name, size.width, size.height, func(f string) { figures = append(figures, f) })
		})
	}
	report := fmt.Sprintf("Sessionguard in a browser: load figures (go test ./webtest, %s)\n"+
		"Headless Chromium (%s), WebGL on SwiftShader, served by sessiond on loopback.\n"+
		"Times are from the start of the navigation (performance.now()).\n\n%s",
		time.Now().UTC().Format("2006-01-02 15:04 UTC"), chromiumPath, strings.Join(figures, "\n"))
	if err := os.WriteFile(filepath.Join(out, "load.txt"), []byte(report), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("build/web/load.txt:\n%s", report)
}

// journey is the browser at one size: load, sign in, Login activity, log
// the phone out, and what is left. It gives record the load figures.
func journey(t *testing.T, srv *server, out, name string, width, height int, record func(figures string)) {
	acct := srv.newAccount(t, "ana-"+name)
	b := openBrowser(t, name, width, height, out)
	t.Cleanup(func() {
		if errs := b.otherErrors(); len(errs) > 0 {
			t.Logf("%s: the console's other errors (not failures):\n  %s", name, strings.Join(errs, "\n  "))
		}
	})

	// 1. The page loads the app, which shows the sign-in form.
	b.setStep("load")
	start := time.Now()
	b.run("opening "+srv.base+"/", chromedp.Navigate(srv.base+"/"))
	b.waitFor("the page to start the app (data-phase=running)", loadTimeout, func(s pageState) bool { return s.Phase == "running" })
	b.waitFor("the app's first screen (data-app=ready)", loadTimeout, func(s pageState) bool { return s.App == "ready" })
	wall := time.Since(start)
	s := b.waitText("Log in to Sessionguard", stepTimeout)
	if !strings.Contains(s.Title, "Sessionguard") {
		t.Errorf("the page's title is %q, not Sessionguard's", s.Title)
	}
	figures := b.loadFigures(srv.base, fmt.Sprintf("%s (%d×%d)", name, width, height), wall)
	b.screenshot("01-sign-in.png")
	defer func() { record(figures) }() // with the second load's, if it gets there

	// 2. Sign in from the keyboard: the form opens on Username, Tab goes
	// to Password, Enter logs in.
	b.setStep("sign-in")
	b.waitFocus("Username", focusWait)
	b.press(acct.username)
	b.waitFor(fmt.Sprintf("the field to read %q", acct.username), focusWait, func(s pageState) bool { return s.hasLine(acct.username) })
	b.press(kb.Tab)
	b.waitFocus("Password", focusWait)
	b.press(password)
	b.waitText("Password (filled)", focusWait) // a password field never reads out its text
	b.noSecret(password)
	b.press(kb.Enter)
	b.waitText("Logged in on ", stepTimeout)
	signedIn := time.Now()
	b.noSecret(password)
	b.screenshot("02-home.png")

	// 3. Ctrl+L opens Login activity, which lists the phone.
	b.setStep("login-activity")
	b.press("l", chromedp.KeyModifiers(kb.ModifierCtrl))
	b.waitText("Where you're logged in", stepTimeout)
	b.waitText(phoneName, stepTimeout)
	b.screenshot("03-login-activity.png")

	// 4. Log the phone out: its row, Enter (its details), Log out this
	// device, the confirmation's Log out, and the password again.
	b.setStep("log-out")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := acct.phone.Me(ctx); err != nil {
		t.Fatalf("the phone's session does not work before it is logged out: %v", err)
	}
	b.tabTo("the phone's row", is(phoneName), 12)
	b.press(kb.Enter)
	// Its details (beside the list, or on a page of their own) say what
	// the row doesn't: its platform.
	b.waitFor("the phone's details (Platform: Android)", stepTimeout, func(s pageState) bool { return s.hasLine("Android") })
	b.tabTo(`"Log out this device"`, is("Log out this device"), 25)
	b.press(kb.Enter)
	b.waitText("Log out "+phoneName+"?", stepTimeout)
	b.screenshot("04-confirm.png")
	b.tabTo(`the confirmation's "Log out"`, is("Log out"), 4)
	// The password proof of signing in must be stale by now.
	if wait := reauthWindow + time.Second - time.Since(signedIn); wait > 0 {
		time.Sleep(wait)
	}
	b.press(kb.Enter)
	b.waitText("Confirm it's you", stepTimeout)
	b.waitFocus("Password", focusWait)
	b.press(password)
	b.waitText("Password (filled)", focusWait)
	b.noSecret(password)
	b.screenshot("04-reauth.png")
	b.press(kb.Enter)
	b.waitText(phoneName+" was logged out.", stepTimeout)
	if _, err := acct.phone.Me(ctx); !errors.Is(err, client.ErrSessionRevoked) {
		t.Errorf("the phone's session after it was logged out: got %v, want %v", err, client.ErrSessionRevoked)
	}
	b.screenshot("05-receipt.png")
	b.press(kb.Escape)
	b.waitFor(fmt.Sprintf("Login activity to list one device (%q), not %s", "1 device.", phoneName), stepTimeout, func(s pageState) bool {
		return !s.shows(" was logged out.") && listsOneDevice(s)
	})
	b.screenshot("05-logged-out.png")

	// 5. Nothing is kept in the browser, and a new page knows no one.
	b.setStep("nothing-kept")
	b.wantNothingStored(srv.base)
	start = time.Now()
	b.run("opening "+srv.base+"/ again", chromedp.Navigate(srv.base+"/"))
	b.waitFor("the app's first screen (data-app=ready) again", loadTimeout, func(s pageState) bool { return s.App == "ready" })
	again := time.Since(start)
	s = b.waitText("Log in to Sessionguard", stepTimeout)
	if s.shows("Logged in on ") || s.shows("Continue as") || s.hasLine(acct.username) {
		b.fatalf("a new page still knows the account; %s", s.describe())
	}
	// The page that went took its session with it (pagehide → logout with
	// fetch keepalive): no browser session is left live on the server.
	if left := srv.liveBrowserSessions(t, acct.username); len(left) > 0 {
		b.fatalf("the page that was left still has its session on the server: %v", left)
	}
	tm := b.timing()
	cached := "no"
	for _, r := range tm.Resources {
		if resp := b.response(r.Name); strings.Contains(r.Name, ".wasm") && resp != nil && (resp.FromDiskCache || resp.FromPrefetchCache) {
			cached = "yes"
		}
	}
	figures += fmt.Sprintf("  opened again (the .wasm from the browser's cache: %s): first screen drawn at %s (Go's clock: %s)\n",
		cached, ms(tm.Marks["app:ready"]), again.Round(time.Millisecond))
	b.checkConsole(s)
}

// listsOneDevice reports whether Login activity counts one device and
// lists the phone only under Recently logged out, if at all.
func listsOneDevice(s pageState) bool {
	lines := s.lines()
	if i := slices.Index(lines, "Recently logged out"); i >= 0 {
		lines = lines[:i]
	}
	one := slices.ContainsFunc(lines, func(l string) bool { return strings.HasPrefix(l, "1 device.") })
	phone := slices.ContainsFunc(lines, func(l string) bool { return strings.Contains(l, phoneName) })
	return one && !phone
}

// wantNothingStored fails listing whatever the page keeps in the browser,
// and goes on.
func (b *browser) wantNothingStored(origin string) {
	b.t.Helper()
	found, use := b.storedData(origin)
	b.t.Logf("%s: Chromium counts the origin's storage at %s", b.name, use)
	if len(found) > 0 {
		b.t.Errorf("%s: the page keeps data in the browser:\n  %s", b.name, strings.Join(found, "\n  "))
	}
}

// loadFigures are the figures of the page just loaded, for load.txt: when
// the app started and drew its first screen, and what the .wasm and all
// the page's files weighed on the wire and decoded. It also checks the
// two headers the design asks for: the page's Content-Security-Policy and
// the module's application/wasm.
func (b *browser) loadFigures(origin, title string, wall time.Duration) string {
	b.t.Helper()
	tm := b.timing()
	var sb strings.Builder
	fmt.Fprintf(&sb, "%s:\n", title)
	fmt.Fprintf(&sb, "  document received:              %s\n", ms(tm.DocEnd))
	fmt.Fprintf(&sb, "  app started (data-phase=running): %s\n", ms(tm.Marks["phase:running"]))
	fmt.Fprintf(&sb, "  first screen drawn (data-app=ready): %s (Go's clock, Navigate to ready seen: %s)\n", ms(tm.Marks["app:ready"]), wall.Round(time.Millisecond))
	var transfer, decoded float64
	wasm := 0
	for _, r := range tm.Resources {
		transfer += r.Transfer
		decoded += r.Decoded
		if !strings.Contains(r.Name, ".wasm") {
			continue
		}
		wasm++
		file := strings.TrimPrefix(r.Name, origin)
		fmt.Fprintf(&sb, "  %s: %s transferred, %s decoded, received at %s", file, mb(r.Transfer), mb(r.Decoded), ms(r.End))
		if resp := b.response(r.Name); resp != nil {
			enc := header(resp, "Content-Encoding")
			if enc == "" {
				enc = "none"
			}
			fmt.Fprintf(&sb, " (Content-Encoding: %s)", enc)
			if ct := header(resp, "Content-Type"); ct != "application/wasm" {
				b.t.Errorf("%s is served as %q, not application/wasm", file, ct)
			}
		}
		sb.WriteString("\n")
	}
	if wasm == 0 {
		b.t.Errorf("the page loaded no .wasm file; it loaded %d others", len(tm.Resources))
	}
	fmt.Fprintf(&sb, "  all %d files after the document: %s transferred, %s decoded\n", len(tm.Resources), mb(transfer), mb(decoded))
	if doc := b.response(origin + "/"); doc == nil {
		b.t.Errorf("no response recorded for %s/", origin)
	} else if csp := header(doc, "Content-Security-Policy"); csp == "" {
		b.t.Errorf("%s/ is served without a Content-Security-Policy", origin)
	}
	return sb.String()
}

// ms is a performance.now() time in seconds.
func ms(v float64) string {
	if v == 0 {
		return "not seen"
	}
	return fmt.Sprintf("%.2f s", v/1000)
}

// mb is a size in MB.
func mb(v float64) string { return fmt.Sprintf("%.1f MB", v/1e6) }

// TestMissingParts: without Chromium or the packed app the browser test
// says what is missing and what to run (and so skips, or fails under
// make webtest); with both it runs.
func TestMissingParts(t *testing.T) {
	root := t.TempDir()
	chromium := filepath.Join(root, "chromium")
	msg := missingParts(root, chromium)
	for _, want := range []string{chromium, "web/dist/index.html", "scripts/deps.sh browser", "make web"} {
		if !strings.Contains(msg, want) {
			t.Errorf("with nothing there, the message %q does not say %q", msg, want)
		}
	}
	if err := os.WriteFile(chromium, nil, 0o755); err != nil {
		t.Fatal(err)
	}
	if msg := missingParts(root, chromium); !strings.Contains(msg, "make web") || strings.Contains(msg, "deps.sh") {
		t.Errorf("with only Chromium there, the message is %q", msg)
	}
	dist := filepath.Join(root, "web", "dist")
	if err := os.MkdirAll(dist, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dist, "index.html"), []byte("<!DOCTYPE html>"), 0o644); err != nil {
		t.Fatal(err)
	}
	if msg := missingParts(root, chromium); msg != "" {
		t.Errorf("with both there, the browser test still says %q", msg)
	}
}
