package webtest

// The harness: the real sessiond, an account with a second device, and a
// headless Chromium whose page is read through its text copy of the
// screen, with the console watched all along.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/storage"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"sessionguard/api"
	"sessionguard/client"
)

const (
	// chromiumPath is Debian's Chromium (scripts/deps.sh browser).
	chromiumPath = "/usr/bin/chromium"
	// requireEnv set to 1 turns a missing browser or app into a failure
	// (make webtest) rather than a skip (go test ./...).
	requireEnv = "SESSIONGUARD_REQUIRE_BROWSER"
	// pollEvery is how often a wait reads the page.
	pollEvery = 100 * time.Millisecond
	// callTimeout bounds one call into the browser (an evaluation, a key,
	// a screenshot): a page whose main thread is stuck fails the test
	// rather than hanging it.
	callTimeout = 20 * time.Second
)

// repoRoot is the module's root: go test runs a package's tests in the
// package's directory.
func repoRoot(t testing.TB) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	root := filepath.Dir(wd)
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("no go.mod above %s: %v", wd, err)
	}
	return root
}

// needBrowser skips the test unless Chromium and the app built for the
// web (web/dist) are there; with SESSIONGUARD_REQUIRE_BROWSER=1 it fails
// instead, saying what to run.
func needBrowser(t testing.TB, root string) {
	t.Helper()
	msg := missingParts(root, chromiumPath)
	switch {
	case msg == "":
	case os.Getenv(requireEnv) == "1":
		t.Fatalf("%s (%s=1 makes this a failure rather than a skip)", msg, requireEnv)
	default:
		t.Skipf("%s (set %s=1 to fail rather than skip)", msg, requireEnv)
	}
}

// missingParts says what the browser test lacks, Chromium at chromium or
// the packed app under root, and what to run for it; "" when nothing.
func missingParts(root, chromium string) string {
	var missing, fix []string
	if _, err := os.Stat(chromium); err != nil {
		missing = append(missing, chromium)
		fix = append(fix, "scripts/deps.sh browser")
	}
	if _, err := os.Stat(filepath.Join(root, "web", "dist", "index.html")); err != nil {
		missing = append(missing, "web/dist/index.html")
		fix = append(fix, "make web")
	}
	if len(missing) == 0 {
		return ""
	}
	return fmt.Sprintf("the browser test needs %s: run %s", strings.Join(missing, " and "), strings.Join(fix, ", then "))
}

// syncBuffer is a bytes.Buffer that a process and the test can share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// server is the real sessiond, serving the API and the web app at one
// origin.
type server struct {
	base string // http://127.0.0.1:port
	log  *syncBuffer
}

// startSessiond builds cmd/sessiond and runs `sessiond serve` on a free
// loopback port with a new SQLite database, open sign-up, and args. It
// returns once /healthz answers; the server is stopped when t ends.
func startSessiond(t *testing.T, root string, args ...string) *server {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("building sessiond needs the go command on PATH: %v", err)
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "sessiond")
	build := exec.Command(goBin, "build", "-buildvcs=false", "-o", bin, "./cmd/sessiond")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/sessiond: %v\n%s", err, out)
	}

	addr := freeAddr(t)
	s := &server{base: "http://" + addr, log: &syncBuffer{}}
	cmd := exec.Command(bin, append([]string{"serve",
		"--addr", addr,
		"--db", filepath.Join(dir, "sessiond.db"),
		"--open-registration"}, args...)...)
	cmd.Stdout, cmd.Stderr = s.log, s.log
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting sessiond serve: %v", err)
	}
	done := make(chan struct{})
	var exitErr error
	go func() { exitErr = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("sessiond's log:\n%s", s.log)
		}
	})

	c, err := client.New(s.base)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		err := c.Health(ctx)
		cancel()
		if err == nil {
			return s
		}
		select {
		case <-done:
			t.Fatalf("sessiond serve %s exited before answering: %v\n%s", strings.Join(cmd.Args[1:], " "), exitErr, s.log)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("sessiond did not answer %s/healthz within 30 s: %v\n%s", s.base, err, s.log)
		}
		time.Sleep(pollEvery)
	}
}

// freeAddr is a loopback address with a port nothing listens on.
func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// The account's second device: a phone, signed in from Go, that the
// browser logs out.
const phoneName = "Ana's Pixel 8"

// password is the accounts' password: long, and not a common one.
const password = "violet-harbour-lantern-1987"

// account is an account on the server with a phone signed in to it.
type account struct {
	username string
	phone    *client.Client // the phone's API client, signed in
}

// newAccount signs up username (with password) and signs the phone in.
func (s *server) newAccount(t testing.TB, username string) *account {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	signup, err := client.New(s.base)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := signup.CreateAccount(ctx, api.CreateAccountRequest{Username: username, Password: password}); err != nil {
		t.Fatalf("signing up %s: %v", username, err)
	}
	phone, err := client.New(s.base)
	if err != nil {
		t.Fatal(err)
	}
	login, err := phone.Login(ctx, api.LoginRequest{Username: username, Password: password, Device: api.Device{
		ID: "webtest-phone-" + username, Name: phoneName, Platform: api.PlatformAndroid, OS: "Android 15", Model: "Pixel 8", AppVersion: "1.0.0"}})
	if err != nil {
		t.Fatalf("signing in %s on the phone: %v", username, err)
	}
	if login.Session == nil {
		t.Fatalf("signing in %s on the phone did not make a session: %+v", username, login)
	}
	phone.SetTokens(login.Tokens())
	return &account{username: username, phone: phone}
}

// liveBrowserSessions signs username in from Go (a third device) and
// returns the names of the account's live browser sessions, waiting up to
// 5 s for them to go: a closed page's logout is sent as it goes, and
// lands a moment later.
func (s *server) liveBrowserSessions(t testing.TB, username string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := client.New(s.base)
	if err != nil {
		t.Fatal(err)
	}
	login, err := c.Login(ctx, api.LoginRequest{Username: username, Password: password, Device: api.Device{
		ID: "webtest-check-" + username, Name: "Checker", Platform: api.PlatformLinux, OS: "Linux", AppVersion: "1.0.0"}})
	if err != nil {
		t.Fatalf("signing in %s to check its sessions: %v", username, err)
	}
	c.SetTokens(login.Tokens())
	defer func() { _, _ = c.Logout(ctx, false) }()
	var names []string
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		page, err := c.Sessions(ctx, 100, "")
		if err != nil {
			t.Fatalf("listing %s's sessions: %v", username, err)
		}
		names = names[:0]
		for _, ss := range page.Sessions {
			if ss.Device.Platform == api.PlatformWeb {
				names = append(names, ss.Device.Name)
			}
		}
		if len(names) == 0 || time.Now().After(deadline) {
			return names
		}
	}
}

// pageScript runs in the page before the page's own scripts: it records
// Content-Security-Policy violations (also those no console message
// reports) and the moment the page's phase and the app's state change,
// on performance.now()'s clock (from the start of the navigation).
const pageScript = `(() => {
	const w = window.__webtest = {csp: [], marks: {}};
	w.mark = () => {
		const d = document.documentElement && document.documentElement.dataset;
		if (!d) return;
		for (const k of ['phase', 'app']) {
			const key = k + ':' + d[k];
			if (d[k] && !(key in w.marks)) w.marks[key] = performance.now();
		}
	};
	document.addEventListener('securitypolicyviolation', e => w.csp.push(
		e.effectiveDirective + ' blocked ' + (e.blockedURI || 'inline') +
		(e.sourceFile ? ' (' + e.sourceFile + ':' + e.lineNumber + ')' : '')), true);
	new MutationObserver(w.mark).observe(document, {attributes: true, subtree: true, attributeFilter: ['data-phase', 'data-app']});
})();`

// stateScript reads what the page shows (pageState).
const stateScript = `(() => {
	const w = window.__webtest;
	if (w) w.mark();
	const d = document.documentElement.dataset, st = document.getElementById('screen-text'), le = document.getElementById('load-error');
	return {
		phase: d.phase || '', app: d.app || '', title: document.title,
		hasText: !!st, text: st ? st.textContent : '', focus: st ? st.getAttribute('data-focus') || '' : '',
		loadError: le ? le.textContent.trim() : '', csp: w ? w.csp : [],
	};
})()`

// pageState is what the page shows: its phase, the app's state, and the
// text copy of the screen with what has the focus.
type pageState struct {
	Phase     string   `json:"phase"` // loading, running, failed or stopped
	App       string   `json:"app"`   // ready once the first screen is drawn
	Title     string   `json:"title"`
	HasText   bool     `json:"hasText"`
	Text      string   `json:"text"`  // #screen-text: a visible text a line
	Focus     string   `json:"focus"` // its data-focus
	LoadError string   `json:"loadError"`
	CSP       []string `json:"csp"` // securitypolicyviolation events so far
}

// lines are the screen's texts, one a line, trimmed, without empty ones.
func (s pageState) lines() []string {
	var out []string
	for l := range strings.SplitSeq(s.Text, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// shows reports whether the screen shows a text containing sub.
func (s pageState) shows(sub string) bool {
	return slices.ContainsFunc(s.lines(), func(l string) bool { return strings.Contains(l, sub) })
}

// hasLine reports whether the screen shows exactly text.
func (s pageState) hasLine(text string) bool { return slices.Contains(s.lines(), text) }

// describe is the state for a failure message.
func (s pageState) describe() string {
	text := "(no #screen-text)"
	if s.HasText {
		text = "  " + strings.Join(s.lines(), "\n  ")
	}
	return fmt.Sprintf("data-phase=%q data-app=%q title=%q data-focus=%q; the screen says:\n%s", s.Phase, s.App, s.Title, s.Focus, text)
}

// browser is a headless Chromium with one tab, at one window size, whose
// console and responses are recorded from the start.
type browser struct {
	t    *testing.T
	ctx  context.Context // the tab's
	name string          // desktop or phone: the screenshots' prefix
	out  string          // where screenshots go (build/web)
	step string          // what the test does now, for failures

	mu        sync.Mutex
	console   []chromedp.ConsoleMessage
	checked   int                          // console messages checked for fatal ones
	responses map[string]*network.Response // by URL, the last one
}

// openBrowser starts Chromium with a fresh profile and a window of
// width×height, WebGL drawn by SwiftShader (no GPU here), and the
// background traffic of a browser (updates, sync) off. It is closed
// when t ends.
func openBrowser(t *testing.T, name string, width, height int, out string) *browser {
	t.Helper()
	profile := t.TempDir() // removed after the browser has stopped (cleanups run last first)
	logFile, err := os.Create(filepath.Join(out, name+"-chromium.log"))
	if err != nil {
		t.Fatal(err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(width, height),
		// Chromium's sandbox refuses root (as CI runs); the only page
		// opened is the app under test, on loopback.
		chromedp.NoSandbox,
		// WebGL on the CPU: ANGLE over SwiftShader.
		chromedp.Flag("use-angle", "swiftshader"),
		chromedp.Flag("enable-unsafe-swiftshader", true),
		// With --disable-gpu too (no GPU process probing a GPU): WebGL still
		// works, on SwiftShader.
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-domain-reliability", true),
		chromedp.CombinedOutput(logFile),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(actx)
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc() // waits for Chromium to exit
		logFile.Close()
	})
	b := &browser{t: t, ctx: ctx, name: name, out: out, step: "start", responses: map[string]*network.Response{}}
	// The first call starts Chromium and opens the tab; it has no
	// deadline, which would end the browser with it.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting %s: %v (its output is in %s)", chromiumPath, err, logFile.Name())
	}
	// The window's size is the page's, not the page's and a browser's UI
	// (headless, a 1280×800 window has a 1280×657 page).
	b.run("sizing the page", chromedp.EmulateViewport(int64(width), int64(height)))
	// Both subscribe now, before anything loads.
	console := chromedp.Console(ctx)
	responses := chromedp.Events(ctx, network.ResponseReceived)
	go func() {
		for m, err := range console {
			if err != nil {
				return
			}
			b.mu.Lock()
			b.console = append(b.console, m)
			b.mu.Unlock()
		}
	}()
	go func() {
		for ev, err := range responses {
			if err != nil {
				return
			}
			b.mu.Lock()
			b.responses[ev.Response.URL] = ev.Response
			b.mu.Unlock()
		}
	}()
	cctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	if _, err := chromedp.Call(cctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: pageScript}); err != nil {
		t.Fatalf("adding the page script: %v", err)
	}
	return b
}

// setStep names what the test does now: failures say it, and their
// screenshot is build/web/failure-<size>-<step>.png.
func (b *browser) setStep(step string) {
	b.step = step
	b.t.Logf("%s: %s", b.name, step)
}

// fatalf fails the test with what the page shows, the console so far and
// a screenshot.
func (b *browser) fatalf(format string, args ...any) {
	b.t.Helper()
	msg := fmt.Sprintf(format, args...)
	shot := filepath.Join(b.out, "failure-"+b.name+"-"+b.step+".png")
	if err := b.saveScreenshot(shot); err != nil {
		shot = "no screenshot: " + err.Error()
	}
	b.t.Fatalf("%s, at step %q: %s\n(%s)\nconsole:\n%s", b.name, b.step, msg, shot, b.consoleText())
}

// consoleText lists the console messages so far, one a line.
func (b *browser) consoleText() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.console) == 0 {
		return "  (nothing)"
	}
	var sb strings.Builder
	for _, m := range b.console {
		fmt.Fprintf(&sb, "  %s\n", message(m))
	}
	return strings.TrimRight(sb.String(), "\n")
}

// message is a console message on one line, with where it came from.
func message(m chromedp.ConsoleMessage) string {
	s := m.String()
	if m.Exception != nil && m.Exception.Exception != nil && m.Exception.Exception.Description != "" {
		s = string(m.Type) + ": " + m.Exception.Exception.Description
	}
	if m.URL != "" {
		s += fmt.Sprintf(" (%s:%d)", m.URL, m.Line+1)
	}
	return strings.ReplaceAll(s, "\n", " ⏎ ")
}

// fatalMessage says why console message m fails the test ("" if it
// doesn't): an uncaught exception or rejection, a Content-Security-Policy
// violation, or the Go program's panic.
func fatalMessage(m chromedp.ConsoleMessage) string {
	switch text := m.Text; {
	case m.IsException():
		return "an uncaught exception"
	case strings.Contains(text, "Content Security Policy"), strings.HasPrefix(text, "Refused to"):
		return "a Content-Security-Policy violation"
	case strings.HasPrefix(text, "panic: "), strings.HasPrefix(text, "fatal error: "):
		return "the app's Go code crashed"
	}
	return ""
}

// checkConsole fails the test at the first fatal console message (see
// fatalMessage) or CSP violation not yet checked.
func (b *browser) checkConsole(s pageState) {
	b.t.Helper()
	if len(s.CSP) > 0 {
		b.fatalf("the page broke its Content-Security-Policy: %q", s.CSP)
	}
	b.mu.Lock()
	fresh := b.console[b.checked:]
	b.checked = len(b.console)
	var bad []string
	for _, m := range fresh {
		if why := fatalMessage(m); why != "" {
			bad = append(bad, why+": "+message(m))
		}
	}
	b.mu.Unlock()
	if len(bad) > 0 {
		b.fatalf("%s", strings.Join(bad, "\n"))
	}
}

// otherErrors are the console's errors that do not fail the test (a
// missing favicon, a 403 the app answers with "Confirm it's you"), for
// the log.
func (b *browser) otherErrors() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
	for _, m := range b.console {
		if m.Type == chromedp.ConsoleError && fatalMessage(m) == "" {
			out = append(out, message(m))
		}
	}
	return out
}

// run runs actions in the tab, each call bounded by callTimeout.
func (b *browser) run(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, callTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.fatalf("%s: %v", what, err)
	}
}

// eval evaluates expr in the page (awaiting a promise) into a T.
func eval[T any](b *browser, expr string) (T, error) {
	ctx, cancel := context.WithTimeout(b.ctx, callTimeout)
	defer cancel()
	return chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
}

// state reads what the page shows.
func (b *browser) state() (pageState, error) { return eval[pageState](b, stateScript) }

// poll reads the page until ok holds or timeout passes, failing at once
// on a page that failed to load or a fatal console message. It returns
// the last state read and whether ok held.
func (b *browser) poll(timeout time.Duration, ok func(pageState) bool) (pageState, bool) {
	b.t.Helper()
	deadline := time.Now().Add(timeout)
	var last pageState
	for {
		s, err := b.state()
		if err == nil {
			last = s
			b.checkConsole(s)
			if s.Phase == "failed" || s.Phase == "stopped" {
				b.fatalf("the page says the app ended (data-phase=%s): %q", s.Phase, s.LoadError)
			}
			if ok(s) {
				return s, true
			}
		} else if errors.Is(err, context.Canceled) || b.ctx.Err() != nil {
			b.fatalf("the browser is gone: %v", err)
		}
		if time.Now().After(deadline) {
			return last, false
		}
		time.Sleep(pollEvery)
	}
}

// waitFor waits up to timeout until ok holds, failing with what (what
// was expected) and what the page shows.
func (b *browser) waitFor(what string, timeout time.Duration, ok func(pageState) bool) pageState {
	b.t.Helper()
	s, done := b.poll(timeout, ok)
	if !done {
		b.fatalf("waited %v for %s; %s", timeout, what, s.describe())
	}
	return s
}

// waitText waits until the screen shows a text containing sub.
func (b *browser) waitText(sub string, timeout time.Duration) pageState {
	b.t.Helper()
	return b.waitFor(fmt.Sprintf("the screen to show %q", sub), timeout, func(s pageState) bool { return s.shows(sub) })
}

// waitFocus waits until the focused widget's text is want.
func (b *browser) waitFocus(want string, timeout time.Duration) pageState {
	b.t.Helper()
	return b.waitFor(fmt.Sprintf("the focus on %q", want), timeout, func(s pageState) bool { return s.Focus == want })
}

// press sends keys: typed text, or kb.Tab, kb.Enter, kb.Escape, with
// modifiers if any.
func (b *browser) press(keys string, opts ...chromedp.KeyOption) {
	b.t.Helper()
	b.run(fmt.Sprintf("pressing %q", keys), chromedp.KeyEvent(keys, opts...))
}

// focusSettle is how long Tab may take to show its new focus in the
// screen's text (drawn again, then copied after ~100 ms).
const focusSettle = 2 * time.Second

// tabTo presses Tab until match(the focused widget's text) holds, at most
// limit times, and fails saying where the focus went.
func (b *browser) tabTo(what string, match func(focus string) bool, limit int) {
	b.t.Helper()
	s, _ := b.poll(0, func(pageState) bool { return true })
	var seen []string
	for range limit {
		from := s.Focus
		b.press(kb.Tab)
		s, _ = b.poll(focusSettle, func(s pageState) bool { return s.Focus != from || match(s.Focus) })
		seen = append(seen, s.Focus)
		if match(s.Focus) {
			return
		}
	}
	b.fatalf("%d Tabs never reached %s; the focus went %q; %s", limit, what, seen, s.describe())
}

// is matches a focused widget whose text is want.
func is(want string) func(string) bool { return func(f string) bool { return f == want } }

// saveScreenshot saves what the tab shows as a PNG.
func (b *browser) saveScreenshot(path string) error {
	ctx, cancel := context.WithTimeout(b.ctx, callTimeout)
	defer cancel()
	buf, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		return err
	}
	return os.WriteFile(path, buf, 0o644)
}

// screenshot saves build/web/<size>-<file>.
func (b *browser) screenshot(file string) {
	b.t.Helper()
	path := filepath.Join(b.out, b.name+"-"+file)
	if err := b.saveScreenshot(path); err != nil {
		b.fatalf("screenshot %s: %v", path, err)
	}
}

// response is the last response the tab received for url (nil: none).
func (b *browser) response(url string) *network.Response {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.responses[url]
}

// header is a response's header, whatever its case.
func header(r *network.Response, name string) string {
	for k, v := range r.Headers {
		if strings.EqualFold(k, name) {
			return fmt.Sprint(v)
		}
	}
	return ""
}

// resource is a PerformanceResourceTiming entry.
type resource struct {
	Name     string  `json:"name"`
	Transfer float64 `json:"transfer"` // bytes on the wire, headers included
	Encoded  float64 `json:"encoded"`  // the body as sent (compressed)
	Decoded  float64 `json:"decoded"`  // the body decoded
	End      float64 `json:"end"`      // responseEnd, ms since the navigation started
}

// timing is the page's own figures: when its phase and the app's state
// changed (pageScript's marks, "phase:running", "app:ready"), the
// document's and every resource's.
type timing struct {
	Marks     map[string]float64 `json:"marks"`
	DocEnd    float64            `json:"docEnd"` // the document's responseEnd
	Loaded    float64            `json:"loaded"` // its load event's end
	Resources []resource         `json:"resources"`
}

const timingScript = `(() => {
	const nav = performance.getEntriesByType('navigation')[0];
	return {
		marks: window.__webtest ? window.__webtest.marks : {},
		docEnd: nav ? nav.responseEnd : 0, loaded: nav ? nav.loadEventEnd : 0,
		resources: performance.getEntriesByType('resource').map(r => ({
			name: r.name, transfer: r.transferSize, encoded: r.encodedBodySize, decoded: r.decodedBodySize, end: r.responseEnd})),
	};
})()`

// timing reads the page's figures.
func (b *browser) timing() timing {
	b.t.Helper()
	tm, err := eval[timing](b, timingScript)
	if err != nil {
		b.fatalf("reading the page's timing: %v", err)
	}
	return tm
}

// leftovers is what a page can keep after its tab closes.
type leftovers struct {
	Local   []string `json:"local"`   // localStorage's keys
	Session []string `json:"session"` // sessionStorage's keys
	Cookie  string   `json:"cookie"`  // document.cookie
	IDB     []string `json:"idb"`     // IndexedDB databases
	Caches  []string `json:"caches"`  // Cache Storage
	Workers int      `json:"workers"` // service workers registered
}

const leftoversScript = `(async () => ({
	local: Object.keys(localStorage), session: Object.keys(sessionStorage), cookie: document.cookie,
	idb: (await indexedDB.databases()).map(d => d.name),
	caches: self.caches ? await caches.keys() : [],
	workers: navigator.serviceWorker ? (await navigator.serviceWorker.getRegistrations()).length : 0,
}))()`

// storedData lists what the page keeps in the browser for origin: its
// storage as the page sees it, and the cookies as Chromium's DevTools see
// them. use is Chromium's count of the origin's storage by kind, for the
// log only: it counts files a deleted store leaves on disk.
func (b *browser) storedData(origin string) (found []string, use string) {
	b.t.Helper()
	l, err := eval[leftovers](b, leftoversScript)
	if err != nil {
		b.fatalf("reading the page's storage: %v", err)
	}
	add := func(what string, v any, some bool) {
		if some {
			found = append(found, fmt.Sprintf("%s: %v", what, v))
		}
	}
	add("localStorage", l.Local, len(l.Local) > 0)
	add("sessionStorage", l.Session, len(l.Session) > 0)
	add("document.cookie", l.Cookie, l.Cookie != "")
	add("IndexedDB", l.IDB, len(l.IDB) > 0)
	add("Cache Storage", l.Caches, len(l.Caches) > 0)
	add("service workers", l.Workers, l.Workers > 0)

	ctx, cancel := context.WithTimeout(b.ctx, callTimeout)
	defer cancel()
	nc, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{origin + "/"}})
	if err != nil {
		b.fatalf("Network.getCookies: %v", err)
	}
	sc, err := chromedp.Call(ctx, storage.GetCookies, storage.GetCookiesParams{})
	if err != nil {
		b.fatalf("Storage.getCookies: %v", err)
	}
	seen := map[string]bool{}
	for _, c := range append(nc.Cookies, sc.Cookies...) {
		if k := c.Name + "\x00" + c.Domain + "\x00" + c.Path; !seen[k] {
			seen[k] = true
			found = append(found, fmt.Sprintf("cookie %s=%s (domain %s, path %s)", c.Name, c.Value, c.Domain, c.Path))
		}
	}
	u, err := chromedp.Call(ctx, storage.GetUsageAndQuota, storage.GetUsageAndQuotaParams{Origin: origin})
	if err != nil {
		b.fatalf("Storage.getUsageAndQuota: %v", err)
	}
	var kinds []string
	for _, t := range u.UsageBreakdown {
		if t.Usage > 0 {
			kinds = append(kinds, fmt.Sprintf("%s %.0f bytes", t.StorageType, t.Usage))
		}
	}
	use = fmt.Sprintf("%.0f bytes", u.Usage)
	if len(kinds) > 0 {
		use += " (" + strings.Join(kinds, ", ") + ")"
	}
	return found, use
}

// noSecret fails if secret is anywhere in the page's DOM: an attribute, a
// text, or the value of a field (where a hidden input might keep what
// was typed).
func (b *browser) noSecret(secret string) {
	b.t.Helper()
	where, err := eval[[]string](b, fmt.Sprintf(`(() => {
		const s = %q, out = [];
		if (document.documentElement.outerHTML.includes(s)) out.push('the DOM');
		for (const e of document.querySelectorAll('input, textarea')) if (e.value.includes(s)) out.push(e.outerHTML);
		if (document.title.includes(s)) out.push('the title');
		return out;
	})()`, secret))
	if err != nil {
		b.fatalf("searching the page for the password: %v", err)
	}
	if len(where) > 0 {
		b.fatalf("the password is in the page: %q", where)
	}
}
