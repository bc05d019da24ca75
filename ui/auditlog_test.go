package ui

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"sessionguard/api"
	"sessionguard/app"
	"sessionguard/client"
)

// saveInto makes Export… save into dir, as a person picking dir in the
// save dialog would, and records the names it offered.
func (s *screen) saveInto(dir string) (offered func() []string) {
	var mu sync.Mutex
	var names []string
	s.do(func() {
		s.ui.activity.saveFile = func(name string, then func(fyne.URIWriteCloser, error)) {
			mu.Lock()
			names = append(names, name)
			mu.Unlock()
			then(storage.Writer(storage.NewFileURI(filepath.Join(dir, name))))
		}
	})
	return func() []string {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(names)
	}
}

// exportLines reads an export: its event lines, and the signed head last.
func exportLines(t *testing.T, path string) ([]api.AuditEvent, api.SignedAuditHead) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(lines) == 0 {
		t.Fatalf("%s is empty", path)
	}
	var head api.SignedAuditHead
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &head); err != nil || head.Signature == "" {
		t.Fatalf("the last line is not a signed head (%v): %s", err, lines[len(lines)-1])
	}
	events := make([]api.AuditEvent, 0, len(lines)-1)
	for i, l := range lines[:len(lines)-1] {
		var e api.AuditEvent
		if err := json.Unmarshal([]byte(l), &e); err != nil || e.Type == "" || e.Hash == "" {
			t.Fatalf("line %d is not an event (%v): %s", i+1, err, l)
		}
		events = append(events, e)
	}
	return events, head
}

// verifiedLine is the export's verified line: "Verified: 1,204 events,
// nothing changed since they were written, signed by this server."
var verifiedLine = regexp.MustCompile(`^Verified: ([0-9,]+) events?, nothing changed since (they were|it was) written, signed by this server\.$`)

// TestExportActivity is the test-driver test: Security activity →
// Export… saves the account's log where the person chose, and says it
// verified, with the number of events, and where it is; the file holds
// that many events, the signed head last.
func TestExportActivity(t *testing.T) {
	b, e := withAna(t)
	b.signInElsewhere(phone, "ana")
	s := e.open(b.device(laptop), e.defaultInfo())
	s.logIn("ana")
	s.tap("Settings")
	s.tap("Security activity")
	s.waitFor("the activity rows", func() bool { return len(s.activityRows()) >= 2 })
	// The first look keeps the log's head, and says the log verified.
	s.waitText("Log verified: 2 events, signed by this server. From now on Sessionguard notices if any of them is changed.")
	dir := t.TempDir()
	offered := s.saveInto(dir)

	s.tap("Export…")
	s.waitFor("the export's outcome", func() bool { return s.ui.activity.result.Visible() })
	var line, where string
	s.do(func() {
		a := s.ui.activity
		line, where = a.resultText.Text, a.resultWhere.Text
		if a.progress.Visible() || a.progressBar.Running() {
			t.Error("the progress still shows after the export")
		}
		if s.button("Export…").Disabled() {
			t.Error("Export… stays off after the export")
		}
	})
	m := verifiedLine.FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("the export says %q", line)
	}
	s.do(func() {
		if _, col, whole := s.lineOf(line, 440); col != string(theme.ColorNameSuccess) || !whole {
			t.Errorf("the verified line is drawn in %s, whole: %v", col, whole)
		}
	})
	n, _ := strconv.Atoi(strings.ReplaceAll(m[1], ",", ""))
	s.waitText("Log verified: " + m[1] + " events, nothing changed since you last looked.")
	s.wantListBelowLines()
	name := "sessionguard-security-log-ana-2030-03-14.ndjson"
	if got := offered(); !slices.Equal(got, []string{name}) {
		t.Errorf("Export… offered the names %q, want %q", got, name)
	}
	path := filepath.Join(dir, name)
	if where != "Saved as "+path {
		t.Errorf("where it was saved: %q, want %q", where, "Saved as "+path)
	}
	events, head := exportLines(t, path)
	if len(events) != n || n < 2 {
		t.Fatalf("the file holds %d events, the screen says %d", len(events), n)
	}
	for i, ev := range events {
		if ev.Seq != int64(i+1) {
			t.Fatalf("event %d has seq %d: oldest first, from 1", i+1, ev.Seq)
		}
	}
	if head.Head.Seq != int64(n) || head.Head.Hash != events[n-1].Hash {
		t.Errorf("the head (%d, %s) is not the last event (%d, %s)", head.Head.Seq, head.Head.Hash, n, events[n-1].Hash)
	}
	if !slices.ContainsFunc(events, func(e api.AuditEvent) bool { return e.Type == api.AuditLoginSucceeded && e.DeviceName == phone.Name }) {
		t.Error("the export lacks the phone's sign-in")
	}
}

// ---------------------------------------------------------------- a set state

// anaSnap is a signed-in state with two events, for drawing Security
// activity without a server behind it.
func anaSnap() app.Snapshot {
	lisbon := api.Location{City: "Lisbon", Region: "Lisbon", Country: "Portugal", CountryCode: "PT"}
	return app.Snapshot{
		State:   app.StateSignedIn,
		Account: &api.Account{ID: "acc_ana", Username: "ana"},
		Session: &api.Session{ID: "ses_laptop", Current: true, Device: laptop.Device, IP: laptop.IP, Location: lisbon},
		Activity: []api.AuditEvent{
			{Type: api.AuditLoginSucceeded, At: epoch, SessionID: "ses_laptop", DeviceName: laptop.Name, IP: laptop.IP, Location: lisbon, Seq: 2},
			{Type: api.AuditLoginSucceeded, At: epoch.Add(-time.Hour), SessionID: "ses_phone", DeviceName: phone.Name, IP: phone.IP,
				Location: api.Location{City: "Berlin", Country: "Germany", CountryCode: "DE"}, Seq: 1},
		},
		Live: true,
	}
}

// activityOf opens Security activity in a window of size drawing the
// state snap (core sets later ones).
func activityOf(t *testing.T, size fyne.Size, snap app.Snapshot) (*screen, *orderCore) {
	t.Helper()
	b := newBackend(t)
	e := newEnv(t, b)
	core := &orderCore{snap: snap}
	s := &screen{t: t, e: e, d: b.device(laptop)} // its core is not started: the state comes from core
	s.do(func() {
		s.win = e.app.NewWindow("activity")
		s.win.Resize(size)
		s.ui = newUI(s.win, s.d.core, core, e.defaultInfo())
		s.ui.Start()
		s.win.Show()
		s.ui.show(pageActivity)
	})
	t.Cleanup(func() { s.do(func() { s.win.Close() }) })
	s.waitText("2 events, newest first.")
	return s, core
}

// setSnap makes snap the state, and tells the UI.
func (c *orderCore) setSnap(snap app.Snapshot) {
	c.set(snap)
	c.mu.Lock()
	listen := c.listen
	c.mu.Unlock()
	listen(snap)
}

// fakeExport writes events lines and a head, then ends as end says.
func fakeExport(events int, end func(ctx context.Context) (app.ExportResult, error)) func(context.Context, io.Writer) (app.ExportResult, error) {
	return func(ctx context.Context, w io.Writer) (app.ExportResult, error) {
		for i := 1; i <= events; i++ {
			if _, err := fmt.Fprintf(w, `{"seq":%d,"type":"login.succeeded"}`+"\n", i); err != nil {
				return app.ExportResult{}, err
			}
		}
		res, err := end(ctx)
		if err == nil {
			_, err = fmt.Fprintf(w, `{"head":{"seq":%d},"signature":"c2ln"}`+"\n", events)
		}
		return res, err
	}
}

// brokenFile is a file the disk refuses to fill.
type brokenFile struct {
	f    *os.File
	room int
}

func (b *brokenFile) Write(p []byte) (int, error) {
	if len(p) > b.room {
		n, _ := b.f.Write(p[:b.room])
		b.room = 0
		return n, errors.New("no space left on device")
	}
	b.room -= len(p)
	return b.f.Write(p)
}

func (b *brokenFile) Close() error  { return b.f.Close() }
func (b *brokenFile) URI() fyne.URI { return storage.NewFileURI(b.f.Name()) }

// lineOf is the label whose text is txt, with its colour as drawn, and
// whether every line of it shows whole within width. Call on the loop.
func (s *screen) lineOf(txt string, width float32) (l *widget.Label, col string, whole bool) {
	l = s.label(txt)
	var rows []string
	whole = true
	for _, it := range s.items() {
		if !slices.Contains(it.parents, fyne.CanvasObject(l)) {
			continue
		}
		if ct, ok := it.o.(*canvas.Text); ok && ct.Text != "" {
			rows = append(rows, ct.Text)
			col = colourName(ct.Color)
			whole = whole && it.pos.X+ct.MinSize().Width <= width+0.5
		}
	}
	whole = whole && strings.Join(strings.Fields(strings.Join(rows, " ")), " ") == strings.Join(strings.Fields(txt), " ")
	return l, col, whole
}

// colourName names a text colour of the theme.
func colourName(c any) string {
	for _, n := range []fyne.ThemeColorName{theme.ColorNameError, theme.ColorNameSuccess, theme.ColorNameWarning,
		theme.ColorNameForeground, theme.ColorNameDisabled} {
		if theme.Color(n) == c {
			return string(n)
		}
	}
	return fmt.Sprint(c)
}

// TestExportOutcomes: what the person reads after Export…, each way it
// can end, and what becomes of the file.
func TestExportOutcomes(t *testing.T) {
	const name = "sessionguard-security-log-ana-2030-03-14.ndjson"
	ok := func(n int64, problem string) func(context.Context) (app.ExportResult, error) {
		return func(context.Context) (app.ExportResult, error) {
			return app.ExportResult{Events: n, Head: api.AuditHead{Seq: n}, Problem: problem}, nil
		}
	}
	for _, tc := range []struct {
		name   string
		export func(context.Context, io.Writer) (app.ExportResult, error)
		save   func(path string) (fyne.URIWriteCloser, error) // nil: the file
		want   string
		colour fyne.ThemeColorName
		where  bool // "Saved as …" shows
		kept   int  // lines left in the file; -1: no file
	}{
		{name: "verified", export: fakeExport(1204, ok(1204, "")),
			want: "Verified: 1,204 events, nothing changed since they were written, signed by this server.", colour: theme.ColorNameSuccess, where: true, kept: 1205},
		{name: "one event", export: fakeExport(1, ok(1, "")),
			want: "Verified: 1 event, nothing changed since it was written, signed by this server.", colour: theme.ColorNameSuccess, where: true, kept: 2},
		{name: "saved, not verified", export: fakeExport(3, ok(3, "Event 2 does not follow event 1.")),
			want: "Saved, but this export does not verify: event 2 does not follow event 1.", colour: theme.ColorNameError, where: true, kept: 4},
		{name: "server gone", export: fakeExport(2, func(context.Context) (app.ExportResult, error) { return app.ExportResult{}, client.ErrOffline }),
			want:   "Couldn't export the security log. Can't reach the server. Check your connection and try again. The unfinished file was deleted.",
			colour: theme.ColorNameError, kept: -1},
		{name: "disk full", export: fakeExport(50, ok(50, "")),
			save: func(path string) (fyne.URIWriteCloser, error) {
				f, err := os.Create(path)
				return &brokenFile{f: f, room: 100}, err
			},
			want:   "Couldn't write the security log to " + name + ". No space left on device. The unfinished file was deleted.",
			colour: theme.ColorNameError, kept: -1},
		{name: "no file", export: fakeExport(1, ok(1, "")),
			save: func(string) (fyne.URIWriteCloser, error) { return nil, errors.New("permission denied") },
			want: "Couldn't open the file to save the security log in. Permission denied.", colour: theme.ColorNameError, kept: -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := activityOf(t, fyne.NewSize(440, 760), anaSnap())
			dir := t.TempDir()
			path := filepath.Join(dir, name)
			s.do(func() {
				a := s.ui.activity
				a.exportLog = tc.export
				a.saveFile = func(n string, then func(fyne.URIWriteCloser, error)) {
					if n != name {
						s.fail("Export… offered %q, want %q", n, name)
					}
					if tc.save != nil {
						then(tc.save(path))
						return
					}
					then(storage.Writer(storage.NewFileURI(path)))
				}
			})
			s.tap("Export…")
			s.waitText(tc.want)
			s.do(func() {
				l, col, whole := s.lineOf(tc.want, 440)
				if col != string(tc.colour) {
					t.Errorf("%q is drawn in %s, want %s", tc.want, col, tc.colour)
				}
				if !whole {
					t.Errorf("%q is cut off at 440 wide", l.Text)
				}
				a := s.ui.activity
				if got := a.resultWhere.Visible(); got != tc.where {
					t.Errorf("Saved as … shown: %v, want %v (%q)", got, tc.where, a.resultWhere.Text)
				}
				if tc.where && a.resultWhere.Text != "Saved as "+path {
					t.Errorf("where: %q", a.resultWhere.Text)
				}
				if a.progress.Visible() || a.progressBar.Running() {
					t.Error("the progress still shows")
				}
				if s.button("Export…").Disabled() {
					t.Error("Export… stays off")
				}
			})
			b, err := os.ReadFile(path)
			switch {
			case tc.kept < 0 && !errors.Is(err, os.ErrNotExist):
				t.Errorf("the unfinished file is still there (%v): %d bytes", err, len(b))
			case tc.kept >= 0 && err != nil:
				t.Fatal(err)
			case tc.kept >= 0 && strings.Count(string(b), "\n") != tc.kept:
				t.Errorf("the file holds %d lines, want %d", strings.Count(string(b), "\n"), tc.kept)
			}
		})
	}

	t.Run("save dialog cancelled", func(t *testing.T) {
		s, _ := activityOf(t, fyne.NewSize(440, 760), anaSnap())
		ran := false
		s.do(func() {
			a := s.ui.activity
			a.exportLog = func(context.Context, io.Writer) (app.ExportResult, error) { ran = true; return app.ExportResult{}, nil }
			a.saveFile = func(_ string, then func(fyne.URIWriteCloser, error)) { then(nil, nil) }
		})
		s.tap("Export…")
		s.settle()
		s.do(func() {
			a := s.ui.activity
			if ran || a.progress.Visible() || a.result.Visible() {
				t.Errorf("cancelling the save dialog exported (%v) or shows something: %q", ran, a.resultText.Text)
			}
			if s.button("Export…").Disabled() {
				t.Error("Export… is off after the dialog was cancelled")
			}
		})
	})
}

// held is an export that writes lines events, then waits until released
// or cancelled.
type held struct {
	lines   int
	release chan struct{}
	started chan struct{}
}

func newHeld(lines int) *held {
	return &held{lines: lines, release: make(chan struct{}), started: make(chan struct{}, 1)}
}

func (h *held) export(ctx context.Context, w io.Writer) (app.ExportResult, error) {
	for i := 1; i <= h.lines; i++ {
		fmt.Fprintf(w, `{"seq":%d}`+"\n", i)
	}
	h.started <- struct{}{}
	select {
	case <-h.release:
		fmt.Fprintf(w, `{"head":{"seq":%d},"signature":"c2ln"}`+"\n", h.lines)
		return app.ExportResult{Events: int64(h.lines)}, nil
	case <-ctx.Done():
		return app.ExportResult{}, ctx.Err()
	}
}

// TestExportProgressCancelAndLeave: while an export runs the page says
// so, with its progress and Cancel, and Export… is off; Cancel stops it
// and deletes the unfinished file; leaving the page stops the progress
// bar's animation, coming back starts it again, and the outcome shows
// there once the export ends.
func TestExportProgressCancelAndLeave(t *testing.T) {
	s, _ := activityOf(t, fyne.NewSize(440, 760), anaSnap())
	dir := t.TempDir()
	s.saveInto(dir)
	path := filepath.Join(dir, "sessionguard-security-log-ana-2030-03-14.ndjson")
	h := newHeld(1500)
	s.do(func() { s.ui.activity.exportLog = h.export })
	running := func() bool { return s.ui.activity.progressBar.Visible() && s.ui.activity.progressBar.Running() }

	s.tap("Export…")
	<-h.started
	s.waitText("Exporting… 1,500 events so far")
	s.do(func() {
		if !running() {
			t.Error("no progress bar while exporting")
		}
		if !s.button("Export…").Disabled() {
			t.Error("Export… is on while an export runs")
		}
	})
	s.tap("Cancel")
	s.waitText("Export cancelled. The unfinished file was deleted.")
	s.do(func() {
		if running() || s.ui.activity.progress.Visible() {
			t.Error("the progress still shows after Cancel")
		}
		if _, col, _ := s.lineOf("Export cancelled. The unfinished file was deleted.", 440); col != string(theme.ColorNameForeground) {
			t.Errorf("a cancelled export is drawn in %s, not as plain text", col)
		}
	})
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the cancelled export's file is still there: %v", err)
	}

	// Again, and away from the page while it runs.
	h = newHeld(3)
	s.do(func() { s.ui.activity.exportLog = h.export })
	s.tap("Export…")
	<-h.started
	s.waitText("Exporting…")
	s.waitGone("Export cancelled.") // the last outcome goes
	s.press(fyne.KeyEscape)         // back home
	s.waitText("Where you're logged in")
	s.waitFor("the progress bar stopped off the page", func() bool { return !s.ui.activity.progressBar.Running() })
	s.do(func() { s.ui.show(pageActivity) })
	s.waitFor("the progress bar running again", running)
	s.press(fyne.KeyEscape)
	s.waitText("Where you're logged in")
	close(h.release) // it ends while the page is not shown
	s.waitFor("the export done", func() bool { return !s.ui.activity.exporting })
	s.do(func() {
		if s.ui.activity.progressBar.Running() {
			t.Error("the progress bar runs after the export ended")
		}
		s.ui.show(pageActivity)
	})
	s.waitText("Verified: 3 events, nothing changed since they were written, signed by this server.")
	s.waitText("Saved as " + path)

	// Another account on this window sees nothing of it.
	other := anaSnap()
	other.Account = &api.Account{ID: "acc_bob", Username: "bob"}
	s.do(func() { s.ui.render(other) })
	s.waitGone("Verified: ")
	s.do(func() { s.ui.render(anaSnap()) })
	s.waitText("Verified: 3 events")
}

// TestExportKeyboard: Tab reaches Export… in reading order, between the
// back button and refresh, and Enter or Space on it opens the save step.
func TestExportKeyboard(t *testing.T) {
	s, _ := activityOf(t, fyne.NewSize(440, 760), anaSnap())
	var names []string
	s.do(func() {
		s.ui.activity.saveFile = func(name string, then func(fyne.URIWriteCloser, error)) {
			names = append(names, name)
			then(nil, nil) // cancelled
		}
		s.win.Canvas().Unfocus()
	})
	var got []string
	for range 4 {
		s.tabKey()
		got = append(got, s.focusName())
	}
	want := []string{"icon " + theme.NavigateBackIcon().Name(), "Export…", "icon " + theme.ViewRefreshIcon().Name(), "list"}
	if !slices.Equal(got, want) {
		t.Errorf("Tab order %q, want %q", got, want)
	}
	s.do(func() { s.win.Canvas().Focus(s.ui.activity.exportButton) })
	s.press(fyne.KeyReturn)
	s.press(fyne.KeySpace)
	s.settle()
	s.do(func() {
		if len(names) != 2 {
			t.Errorf("Enter and Space on Export… opened the save step %d times, want 2", len(names))
		}
	})
	// Escape on it goes back, as everywhere.
	s.press(fyne.KeyEscape)
	s.waitText("Where you're logged in")
}

// TestLogCheckLine: the line about the last check of the security log,
// for each of its outcomes, as drawn at phone width: quiet when the log
// verified, a warning in the error colour, whole, when it was rewritten,
// a plain warning when it could not be checked, nothing before a check.
func TestLogCheckLine(t *testing.T) {
	seen := epoch.Add(-26 * time.Hour) // yesterday 07:41
	evidence := &api.SignedAuditHead{Head: api.AuditHead{AccountID: "acc_ana", Seq: 1204, Hash: strings.Repeat("ab", 32), At: seen},
		Signature: "c2lnbmVk"}
	for _, tc := range []struct {
		name   string
		check  app.LogCheck
		want   string // "": no line
		colour fyne.ThemeColorName
		icon   string
		golden string
	}{
		{name: "unchecked", check: app.LogCheck{}},
		{name: "verified", check: app.LogCheck{State: app.LogVerified, Events: 1204, At: epoch},
			want: "Log verified: 1,204 events, nothing changed since you last looked.", colour: theme.ColorNameDisabled, icon: theme.ConfirmIcon().Name()},
		{name: "verified the first time", check: app.LogCheck{State: app.LogVerified, Events: 1, At: epoch, First: true},
			want: "Log verified: 1 event, signed by this server. From now on Sessionguard notices if it is changed.", colour: theme.ColorNameDisabled, icon: theme.ConfirmIcon().Name()},
		{name: "rewritten", check: app.LogCheck{State: app.LogRewritten, At: epoch,
			Problem: "event 1,204 is no longer the one the server signed", Evidence: evidence, SeenAt: seen},
			want: "This server's security log was changed after it was written: event 1,204 is no longer the one the server signed. " +
				"Sessionguard kept its copy of what you saw at 07:41 yesterday: event 1,204, signed by the server.",
			colour: theme.ColorNameError, icon: theme.NewErrorThemedResource(theme.WarningIcon()).Name(), golden: "activity_log_rewritten.xml"},
		{name: "unverifiable", check: app.LogCheck{State: app.LogUnverifiable, At: epoch, Problem: "the server's answer was cut short"},
			want: "Couldn't check the security log against what you saw before: the server's answer was cut short.", colour: theme.ColorNameForeground,
			icon: theme.WarningIcon().Name()},
		{name: "unverifiable, in the core's words", check: app.LogCheck{State: app.LogUnverifiable, At: epoch,
			Problem: "This server now signs its log with a different key than when you last looked, so Sessionguard can't check that the log still holds what you saw."},
			want:   "This server now signs its log with a different key than when you last looked, so Sessionguard can't check that the log still holds what you saw.",
			colour: theme.ColorNameForeground, icon: theme.WarningIcon().Name()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			snap := anaSnap()
			snap.LogCheck = tc.check
			s, _ := activityOf(t, fyne.NewSize(440, 760), snap)
			s.do(func() {
				a := s.ui.activity
				if tc.want == "" {
					if a.check.Visible() {
						t.Errorf("a log not checked shows %q", a.checkText.Text)
					}
					return
				}
				l, col, whole := s.lineOf(tc.want, 440)
				if col != string(tc.colour) {
					t.Errorf("drawn in %s, want %s", col, tc.colour)
				}
				if !whole {
					t.Errorf("cut off at 440 wide: %q", l.Text)
				}
				if got := a.checkIcon.Resource.Name(); got != tc.icon {
					t.Errorf("icon %s, want %s", got, tc.icon)
				}
			})
			if tc.golden != "" {
				s.golden(tc.golden)
			}
		})
	}
	// The line follows the state: a later check replaces it.
	s, core := activityOf(t, fyne.NewSize(440, 760), anaSnap())
	snap := anaSnap()
	snap.LogCheck = app.LogCheck{State: app.LogVerified, Events: 2}
	core.setSnap(snap)
	s.waitText("Log verified: 2 events, nothing changed since you last looked.")
	snap.LogCheck = app.LogCheck{}
	core.setSnap(snap)
	s.waitGone("Log verified")
}

// TestExportHeaderFitsAPhone: Export… beside refresh leaves the header
// inside a 360-wide phone.
func TestExportHeaderFitsAPhone(t *testing.T) {
	s, _ := activityOf(t, fyne.NewSize(360, 740), anaSnap())
	s.do(func() {
		for _, it := range s.items() {
			if right := it.pos.X + it.o.Size().Width; right > 360.5 {
				t.Errorf("%T %q reaches x=%v, past the edge", it.o, text(it.o), right)
			}
		}
		if min := s.win.Content().MinSize().Width; min > 360 {
			t.Errorf("the page needs %v wide", min)
		}
	})
}

func TestExportFileName(t *testing.T) {
	day := time.Date(2026, time.December, 7, 23, 30, 0, 0, time.UTC)
	for user, want := range map[string]string{
		"ana":          "sessionguard-security-log-ana-2026-12-07.ndjson",
		"ana.silva":    "sessionguard-security-log-ana.silva-2026-12-07.ndjson",
		"../etc/x y":   "sessionguard-security-log-etc-x-y-2026-12-07.ndjson",
		"josé":         "sessionguard-security-log-josé-2026-12-07.ndjson",
		"   ":          "sessionguard-security-log-account-2026-12-07.ndjson",
		"a:b\\c*d?e|f": "sessionguard-security-log-a-b-c-d-e-f-2026-12-07.ndjson",
	} {
		if got := exportFileName(user, day); got != want {
			t.Errorf("exportFileName(%q) = %q, want %q", user, got, want)
		}
	}
}

// wantListBelowLines fails when the lines under Security activity's
// header (the log check, an export's progress or result) reach into its
// list: the list must move down as they come.
func (s *screen) wantListBelowLines() {
	s.t.Helper()
	s.do(func() {
		var top, list *item
		for _, it := range s.items() {
			switch it.o {
			case s.ui.activity.top:
				top = &it
			case s.ui.activity.list:
				list = &it
			}
		}
		if top == nil || list == nil {
			s.fail("Security activity's header or list is not shown")
		}
		if bottom := top.pos.Y + top.o.MinSize().Height; bottom > list.pos.Y+0.5 {
			s.fail("the lines under the header end at y=%v, inside the list, which starts at y=%v", bottom, list.pos.Y)
		}
	})
}
