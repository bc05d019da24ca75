package ui

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"sessionguard/api"
	"sessionguard/app"
)

// activityWhat is the first part of an event's sentence: what happened
// and on which device, naming no device twice and this device as "here"
// (self is this device's session): "Ana's Laptop logged out Pixel 8",
// "You logged out Pixel 8 from here", "vm logged out another device named
// vm".
func activityWhat(e api.AuditEvent, self string) string {
	here := self != "" && e.SessionID == self
	dev := e.DeviceName
	if dev == "" {
		dev = "an unknown device"
	}
	// A name starts the sentence as it is ("vm logged out …"): only the
	// words standing in for one are capitalised.
	subject := dev
	if e.DeviceName == "" {
		subject = "An unknown device"
	}
	on, from := " on "+dev, " from "+dev
	if here {
		on, from = " here", " here"
	}
	target := targetName(e, self)
	itself := e.TargetSessionID != "" && e.TargetSessionID == e.SessionID
	switch e.Type {
	case api.AuditLoginSucceeded:
		if here {
			return "You logged in here"
		}
		return "Logged in" + on
	case api.AuditLoginFailed:
		return "Wrong password" + on
	case api.AuditLoginMFAFailed:
		return "Wrong two-step code" + on
	case api.AuditLogout:
		if here {
			return "You logged out here"
		}
		return "Logged out" + on
	case api.AuditSessionRevoked:
		switch {
		case endedInactive(e):
			return unusedSubject(e, self) + " was logged out after " + unusedFor(e.Detail) + " unused"
		case reauthFailed(e):
			if t := targetName(e, self); e.TargetSessionID != "" && !itself {
				return "Too many wrong passwords on " + t + ", so it was logged out"
			}
			return "Too many wrong passwords" + on + ", so it was logged out"
		case itself && here:
			return "You logged out here"
		case itself:
			return "Logged out" + on
		case here:
			return "You logged out " + target + " from here"
		}
		return subject + " logged out " + target
	case api.AuditSessionsRevokedOthers:
		if here {
			return "You logged out all other devices from here"
		}
		return subject + " logged out all other devices"
	case api.AuditSessionRenamed:
		to := renamedTo(e.Detail)
		switch {
		case itself && here:
			return "You renamed this device " + to
		case itself:
			return subject + " was renamed " + to
		case here:
			return "You renamed " + target + " " + to + " from here"
		}
		return subject + " renamed " + target + " " + to
	case api.AuditSessionRulesChanged:
		return rulesChanged(e, here, itself, subject, target)
	case api.AuditSettingsChanged:
		who := subject
		if here {
			who = "You"
		}
		if what := settingsChangedTo(e.Detail); what != "" {
			return who + " changed when inactive devices are logged out: " + what
		}
		return who + " changed the account's settings"
	case api.AuditSessionClosureConfirmed:
		// The closed device's receipt (issue 15): subject is that device.
		if closureErased(e.Detail) {
			return subject + " confirmed it was logged out and erased its Sessionguard data"
		}
		return subject + " confirmed it was logged out"
	case api.AuditRefreshReuseDetected:
		return "Old sign-in token reused" + on + ", so it was logged out"
	case api.AuditDPoPRefused: // where it was tried is the event's place
		if here {
			return "A copy of this device's login was tried elsewhere and refused"
		}
		return "A copy of " + dev + "'s login was tried elsewhere and refused"
	case api.AuditReauthSucceeded:
		if here {
			return "You confirmed your password here"
		}
		return "Password confirmed" + on
	case api.AuditReauthFailed:
		return "Wrong password when confirming it's you" + on
	case api.AuditPasswordChanged:
		if here {
			return "You changed the password here"
		}
		return "Password changed" + on
	case api.AuditMFAEnabled:
		if here {
			return "You turned on two-step verification here"
		}
		return "Two-step verification turned on" + from
	case api.AuditMFADisabled:
		if here {
			return "You turned off two-step verification here"
		}
		return "Two-step verification turned off" + from
	case api.AuditRecoveryCodeUsed:
		return "Recovery code used" + on
	case api.AuditRecoveryCodesRegenerated:
		if here {
			return "You made new recovery codes here"
		}
		return "New recovery codes made" + on
	case api.AuditRememberedLoginCreated:
		return "Login info saved" + on
	case api.AuditRememberedLoginUsed:
		if here {
			return "You logged in here with saved login info"
		}
		return "Logged in with saved login info" + on
	case api.AuditRememberedLoginForgotten:
		return "Saved login info removed" + from
	case api.AuditApprovalRequested, api.AuditApprovalApproved, api.AuditApprovalDenied, api.AuditDeviceLinked:
		return approvalWhat(e, self)
	case api.AuditAdminResetMFA:
		return "The server administrator reset two-step verification"
	case api.AuditAdminLogoutAll:
		return "The server administrator logged out every device"
	case api.AuditAdminSetPassword:
		return "The server administrator set a new password"
	}
	return fmt.Sprintf("Security event %q%s", e.Type, on)
}

// approvalWhat is the sentence of an approval event (issue 17). The
// server records the device asking as the event's device, and the device
// that answered as its target (for device.linked, the linked device is
// the event's and the approver the target): "Pixel 8 asked to log in",
// "You approved Pixel 8's log in from here", "A log in from Pixel 8 was
// refused on Ana's Laptop", "Library PC was linked with a code from Ana's
// Laptop".
func approvalWhat(e api.AuditEvent, self string) string {
	asking := e.DeviceName
	if asking == "" {
		asking = "an unknown device"
	}
	approver := e.TargetDeviceName
	if approver == "" {
		approver = "another device"
	}
	switch e.Type {
	case api.AuditApprovalRequested:
		return capitalFirst(asking) + " asked to log in"
	case api.AuditApprovalApproved:
		link := strings.HasPrefix(strings.ToLower(e.Detail), "link code")
		switch {
		case link && self != "" && e.SessionID == self:
			return "You let " + asking + " in with its code from here"
		case link:
			return capitalFirst(approver) + " let " + asking + " in with its code"
		case self != "" && e.SessionID == self:
			return "You approved " + possessiveName(asking) + " log in from here"
		}
		return capitalFirst(approver) + " approved " + possessiveName(asking) + " log in"
	case api.AuditApprovalDenied:
		by := " on " + approver
		if self != "" && e.SessionID == self {
			by = " here"
		}
		if strings.HasPrefix(strings.ToLower(e.Detail), "wrong number") {
			return "A log in from " + asking + " was refused: the wrong number was picked" + by
		}
		return "A log in from " + asking + " was refused" + by
	default: // api.AuditDeviceLinked
		from := approver
		if self != "" && e.TargetSessionID == self {
			from = "here"
		}
		if self != "" && e.SessionID == self {
			return "This device was linked with a code from " + from
		}
		return capitalFirst(asking) + " was linked with a code from " + from
	}
}

// possessiveName is "Pixel 8's".
func possessiveName(name string) string { return name + "'s" }

// capitalFirst capitalises the words standing in for a name ("another
// device"), leaving names as they are.
func capitalFirst(s string) string {
	if s == "another device" || s == "an unknown device" {
		return strings.ToUpper(s[:1]) + s[1:]
	}
	return s
}

// targetName is how the sentence of e names the device it acted on:
// "this device", "another device named vm" when it has the name of the
// device that acted, or its name ("a device" when unknown).
func targetName(e api.AuditEvent, self string) string {
	switch t := e.TargetDeviceName; {
	case self != "" && e.TargetSessionID == self:
		return "this device"
	case t == "":
		return "a device"
	case strings.EqualFold(strings.TrimSpace(t), strings.TrimSpace(e.DeviceName)):
		return "another device named " + t
	default:
		return t
	}
}

// rulesChanged is the sentence of a session.rules_changed event: "You set
// Hotel lobby PC to log out after 1 week unused from here", "Pixel 8
// removed its own rule to log out when unused".
func rulesChanged(e api.AuditEvent, here, itself bool, subject, target string) string {
	rule, known := ruleInDetail(e.Detail)
	// who acts on obj (poss: whose rule).
	act := func(who, obj, poss, tail string) string {
		switch {
		case known && rule <= 0:
			return who + " removed " + poss + " rule to log out when unused" + tail
		case known:
			return who + " set " + obj + " to log out after " + ruleWords(rule) + " unused" + tail
		}
		return who + " changed " + poss + " rule to log out when unused" + tail
	}
	switch {
	case itself && here:
		return act("You", "this device", "this device's", "")
	case itself:
		return act(subject, "itself", "its own", "")
	case here:
		return act("You", target, possessive(target), " from here")
	}
	return act(subject, target, possessive(target), "")
}

// endedInactive reports whether e is a session ended for going unused (the
// reason is in its detail).
func endedInactive(e api.AuditEvent) bool {
	return e.Type == api.AuditSessionRevoked && strings.Contains(e.Detail, api.ReasonInactive)
}

// unusedSubject names the device an inactivity log out ended: its target,
// else the device the event is on.
func unusedSubject(e api.AuditEvent, self string) string {
	switch {
	case e.TargetSessionID != "" && e.TargetSessionID == self, e.TargetSessionID == "" && e.SessionID != "" && e.SessionID == self:
		return "This device"
	case e.TargetDeviceName != "":
		return e.TargetDeviceName
	case e.DeviceName != "":
		return e.DeviceName
	}
	return "A device"
}

// unusedFor is the rule in an inactivity log out's detail ("1 month"), or
// "a while" when it names none.
func unusedFor(detail string) string {
	if d, ok := ruleInDetail(detail); ok && d > 0 {
		return ruleWords(d)
	}
	return "a while"
}

// settingsChangedTo is, from an account.settings_changed detail ("Log out
// devices unused for 1 month (was never); Approval of new devices turned
// on"), the new rule for inactive devices as the sentence ends: "after 1
// month", "never" ("" when the change was not to it).
func settingsChangedTo(detail string) string {
	for _, part := range strings.Split(detail, ";") {
		low := strings.ToLower(part)
		if !strings.Contains(low, "inactiv") && !strings.Contains(low, "unused") && !strings.Contains(low, "auto_logout") {
			continue
		}
		d, ok := ruleInDetail(part)
		switch {
		case !ok:
			return ""
		case d <= 0:
			return "never"
		}
		return "after " + ruleWords(d)
	}
	return ""
}

// ruleUnits are the words a detail may give a rule's length in.
var ruleUnits = map[string]time.Duration{
	"s": time.Second, "sec": time.Second, "secs": time.Second, "second": time.Second, "seconds": time.Second,
	"m": time.Minute, "min": time.Minute, "mins": time.Minute, "minute": time.Minute, "minutes": time.Minute,
	"h": time.Hour, "hr": time.Hour, "hrs": time.Hour, "hour": time.Hour, "hours": time.Hour,
	"d": app.Day, "day": app.Day, "days": app.Day,
	"w": 7 * app.Day, "week": 7 * app.Day, "weeks": 7 * app.Day,
	"month": 30 * app.Day, "months": 30 * app.Day,
	"y": 365 * app.Day, "year": 365 * app.Day, "years": 365 * app.Day,
}

// withoutWas is detail without what the rule was before ("(was 1 day)").
func withoutWas(detail string) string {
	for {
		i := strings.Index(detail, "(was ")
		if i < 0 {
			return detail
		}
		j := strings.Index(detail[i:], ")")
		if j < 0 {
			return detail[:i]
		}
		detail = detail[:i] + detail[i+j+1:]
	}
}

// ruleInDetail reads the rule an audit detail gives, as the server words
// it ("Log out if unused for 1 week (was 1 day)", "Unused for 1 month:
// logged out by the account's rule (inactive)", "Rule removed (was 1
// day)", "Never log out inactive devices (was 1 month)") or tersely (a Go
// duration "720h0m0s", "idle_timeout_s=86400"): the first length it
// gives, else none ("removed", "never"), which is 0. ok is false when the
// detail says nothing readable.
func ruleInDetail(detail string) (d time.Duration, ok bool) {
	low := withoutWas(strings.ToLower(detail))
	words := strings.FieldsFunc(low, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '_' })
	for _, f := range strings.FieldsFunc(low, func(r rune) bool {
		return unicode.IsSpace(r) || strings.ContainsRune(",;()=:\"“”", r)
	}) {
		f = strings.TrimRight(f, ".")
		if len(f) > 1 && f[0] >= '0' && f[0] <= '9' && strings.ContainsAny(f[len(f)-1:], "hms") {
			if x, err := time.ParseDuration(f); err == nil {
				return x, true
			}
		}
	}
	for i, w := range words {
		n, err := strconv.Atoi(w)
		if err != nil {
			continue
		}
		if i+1 < len(words) {
			if unit, ok := ruleUnits[words[i+1]]; ok {
				return time.Duration(n) * unit, true
			}
		}
		if i > 0 && strings.HasSuffix(words[i-1], "_s") || i == len(words)-1 { // idle_timeout_s 86400: seconds, as on the wire
			return time.Duration(n) * time.Second, true
		}
	}
	// No length: a rule removed ("Rule removed", "Never log out …").
	for _, w := range words {
		switch w {
		case "removed", "never", "none", "cleared":
			return 0, true
		}
	}
	return 0, false
}

// renamedTo is "to “Work phone”" from a rename's detail ("Renamed to
// “Work phone”").
func renamedTo(detail string) string {
	d := strings.TrimSpace(detail)
	if rest, ok := strings.CutPrefix(d, "Renamed "); ok {
		return rest
	}
	if d == "" {
		return "to a new name"
	}
	return "(" + d + ")"
}

// activityWhere is the rest of the sentence: place and time, with the
// day ("Lisbon, Portugal · Today 14:02").
func activityWhere(e api.AuditEvent, now time.Time) string {
	place, when := activityPlaceAndTime(e, now)
	return place + " · " + when
}

// activityPlaceAndTime is where e happened ("Lisbon, Portugal", "This
// computer", "On the server") and when ("Today 14:02").
func activityPlaceAndTime(e api.AuditEvent, now time.Time) (place, when string) {
	if (isAdmin(e.Type) || endedInactive(e) && e.IP == "") && e.Location == (api.Location{}) {
		// Done by the server itself: an operator's command, or its sweep
		// of devices gone unused.
		return "On the server", stamp(e.At, now)
	}
	return placeOf(e.Location, e.IP), stamp(e.At, now)
}

// isAdmin reports whether typ is an operator command's event, done on the
// server itself rather than from a device.
func isAdmin(typ string) bool {
	switch typ {
	case api.AuditAdminResetMFA, api.AuditAdminLogoutAll, api.AuditAdminSetPassword:
		return true
	}
	return false
}

// activitySentence is one audit event as a person reads it (self is
// this device's session): "Ana's Laptop logged out Pixel 8 · Lisbon,
// Portugal · Today 14:02".
func activitySentence(e api.AuditEvent, self string, now time.Time) string {
	return activityWhat(e, self) + " · " + activityWhere(e, now)
}

// reauthFailed reports whether e is a session ended after too many wrong
// answers when confirming it was the owner (the reason is in its detail).
func reauthFailed(e api.AuditEvent) bool {
	return e.Type == api.AuditSessionRevoked && strings.Contains(e.Detail, api.ReasonReauthFailed)
}

// activityWarns reports whether an event deserves attention: failures and
// a stolen token.
func activityWarns(typ string) bool {
	switch typ {
	case api.AuditLoginFailed, api.AuditLoginMFAFailed, api.AuditReauthFailed, api.AuditRefreshReuseDetected,
		api.AuditApprovalDenied, api.AuditDPoPRefused:
		return true
	}
	return false
}

// eventIcon is the icon of e's row: activityIcon of its type, and the
// warning for a device logged out after wrong passwords.
func eventIcon(e api.AuditEvent) fyne.Resource {
	if reauthFailed(e) {
		return theme.NewWarningThemedResource(theme.WarningIcon())
	}
	return activityIcon(e.Type)
}

// activityIcon is the icon of an event's row.
func activityIcon(typ string) fyne.Resource {
	if activityWarns(typ) {
		return theme.NewWarningThemedResource(theme.WarningIcon())
	}
	switch typ {
	case api.AuditLoginSucceeded, api.AuditRememberedLoginUsed:
		return theme.LoginIcon()
	case api.AuditLogout, api.AuditSessionRevoked, api.AuditSessionsRevokedOthers:
		return theme.LogoutIcon()
	case api.AuditPasswordChanged, api.AuditReauthSucceeded:
		return theme.VisibilityIcon()
	case api.AuditSessionRenamed:
		return theme.DocumentCreateIcon()
	case api.AuditSessionRulesChanged, api.AuditSettingsChanged:
		return theme.CalendarIcon()
	case api.AuditRecoveryCodesRegenerated, api.AuditSessionClosureConfirmed:
		return theme.ConfirmIcon()
	case api.AuditMFAEnabled, api.AuditMFADisabled, api.AuditRecoveryCodeUsed:
		return theme.ConfirmIcon()
	case api.AuditRememberedLoginCreated, api.AuditRememberedLoginForgotten:
		return theme.AccountIcon()
	case api.AuditApprovalRequested:
		return theme.QuestionIcon()
	case api.AuditApprovalApproved, api.AuditDeviceLinked:
		return theme.LoginIcon()
	}
	if isAdmin(typ) {
		return theme.SettingsIcon() // done by whoever runs the server
	}
	return theme.InfoIcon()
}

// activityTableAt is the narrowest list that shows each event on one line,
// in columns (what, place, time, address); narrower, on two lines.
const activityTableAt = 820

// activityScreen is Security activity: the account's audit log, newest
// first, in a virtualised list that loads more before its end, using the
// window's whole width: a table on a desktop.
//
// Above the list, under the header's Export… (auditlog.go): what the last
// check of the log found, and how an export went.
type activityScreen struct {
	ui     *UI
	root   fyne.CanvasObject
	list   *keyList
	status *widget.Label
	wide   bool // layout, not state: one line per event, in columns
	// prefetch loads the next page of the log as its end nears.
	prefetch prefetcher
	// top is the header and the lines under it, body it and the list:
	// laid out again when a line comes or goes (relayout).
	top, body *fyne.Container

	// The log check's line (auditlog.go).
	check     *fyne.Container
	checkIcon *widget.Icon
	checkText *widget.Label

	// Export… (auditlog.go). saveFile asks where to save (the platform's
	// save dialog; tests supply a file), and exportLog writes the log
	// (nil: the core's ExportActivity).
	exportButton *keyButton
	saveFile     func(name string, then func(fyne.URIWriteCloser, error))
	exportLog    func(ctx context.Context, w io.Writer) (app.ExportResult, error)
	// While an export runs: its progress, and Cancel.
	progress     *fyne.Container
	progressText *widget.Label
	progressBar  *widget.ProgressBarInfinite
	cancelButton *keyButton
	// How the last export went, and where it was saved.
	result      *fyne.Container
	resultIcon  *widget.Icon
	resultText  *widget.Label
	resultWhere *widget.Label
	// exporting is true while an export runs, cancelExport stops it; both
	// it and the result belong to one account (exportAccount,
	// resultAccount: account IDs), shown only while it is on screen.
	exporting     bool
	cancelExport  context.CancelFunc
	exportAccount string
	resultAccount string
}

func newActivityScreen(u *UI) *activityScreen {
	a := &activityScreen{ui: u}
	a.list = newKeyList(func() int { return len(u.snap.Activity) }, a.newRow, a.updateRow, u.escape)
	a.list.OnSelected = a.onSelected
	a.newProof()
	// listHeader's, with Export… beside the refresh button.
	refresh := newKeyButton("", theme.ViewRefreshIcon(), a.onRefresh, u.back)
	refresh.Importance = widget.LowImportance
	a.status = wrapped("")
	a.status.Importance = widget.LowImportance
	a.top = container.NewVBox(header("Security activity", u.back, container.NewHBox(a.exportButton, refresh)),
		a.status, a.check, a.progress, a.result)
	a.body = inReadingOrder(a.top, a.list, nil)
	a.root = container.New(&widthLayout{onWidth: a.setWidth}, container.NewPadded(a.body))
	return a
}

// onRefresh loads the log again (and checks it).
func (a *activityScreen) onRefresh() {
	a.prefetch.retry()
	a.ui.run(a.ui.core.LoadActivity, nil)
}

// setWidth switches between table and two-line rows as the page's width
// crosses activityTableAt.
func (a *activityScreen) setWidth(w float32) {
	if wide := w >= activityTableAt; wide != a.wide {
		a.wide = wide
		a.list.Refresh() // new row heights
	}
}

// newRow is one reusable row: icon, what happened, and where, when and
// from which address, on a second line or in columns (activityColumns).
func (a *activityScreen) newRow() fyne.CanvasObject {
	labels := make([]fyne.CanvasObject, 5)
	for i := range labels {
		imp := widget.LowImportance
		if i == 0 {
			imp = widget.MediumImportance
		}
		labels[i] = rowLabel(fyne.TextStyle{}, imp, false)
	}
	return container.NewBorder(nil, nil, widget.NewIcon(theme.InfoIcon()), nil,
		compact(container.New(&activityColumns{a}, labels...)))
}

// activityColumns lays out a row's labels: what, then either "place ·
// time · address" below it, or place, time and address in columns.
type activityColumns struct{ a *activityScreen }

// Column widths of the table.
const (
	colPlace = 250
	colTime  = 150
	colIP    = 160
)

func (l *activityColumns) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	what, line2, place, when, ip := objs[0], objs[1], objs[2], objs[3], objs[4]
	h := what.MinSize().Height
	if l.a.wide {
		line2.Hide()
		x := size.Width - colPlace - colTime - colIP
		for _, c := range []struct {
			o    fyne.CanvasObject
			x, w float32
		}{{what, 0, x - theme.Padding()}, {place, x, colPlace}, {when, x + colPlace, colTime}, {ip, x + colPlace + colTime, colIP}} {
			c.o.Show()
			c.o.Move(fyne.NewPos(c.x, (size.Height-h)/2))
			c.o.Resize(fyne.NewSize(c.w, h))
		}
		return
	}
	place.Hide()
	when.Hide()
	ip.Hide()
	line2.Show()
	what.Move(fyne.NewPos(0, 0))
	what.Resize(fyne.NewSize(size.Width, h))
	line2.Move(fyne.NewPos(0, h+theme.Padding()))
	line2.Resize(fyne.NewSize(size.Width, h))
}

func (l *activityColumns) MinSize(objs []fyne.CanvasObject) fyne.Size {
	h := objs[0].MinSize().Height
	if l.a.wide {
		return fyne.NewSize(colPlace+colTime+colIP, h+2*theme.Padding())
	}
	return fyne.NewSize(objs[0].MinSize().Width, 2*h+theme.Padding())
}

func (a *activityScreen) updateRow(i widget.ListItemID, o fyne.CanvasObject) {
	items := a.ui.snap.Activity
	if i >= len(items) {
		return
	}
	e := items[i]
	now := nowFunc()
	self := ""
	if a.ui.snap.Session != nil {
		self = a.ui.snap.Session.ID
	}
	row := o.(*fyne.Container)
	row.Objects[1].(*widget.Icon).SetResource(eventIcon(e))
	l := activityLabels(row)
	place, when := activityPlaceAndTime(e, now)
	l.what.SetText(activityWhat(e, self))
	l.line2.SetText(joinGiven(" · ", place, when, e.IP))
	l.place.SetText(place)
	l.when.SetText(when)
	l.ip.SetText(e.IP)
	a.prefetch.drawn(a.ui, i, len(items), a.ui.snap.ActivityCursor, a.ui.core.LoadMoreActivity)
}

// rowLabels are the labels of a row made by activityScreen.newRow.
type rowLabels struct{ what, line2, place, when, ip *widget.Label }

func activityLabels(row *fyne.Container) rowLabels {
	o := row.Objects[0].(*container.ThemeOverride).Content.(*fyne.Container).Objects
	l := func(i int) *widget.Label { return o[i].(*widget.Label) }
	return rowLabels{l(0), l(1), l(2), l(3), l(4)}
}

// onSelected keeps no selection: rows only show.
func (a *activityScreen) onSelected(i widget.ListItemID) {
	a.list.tapped(i)
	a.list.UnselectAll()
}

func (a *activityScreen) update(s app.Snapshot) fyne.CanvasObject {
	a.list.Refresh()
	n := len(s.Activity)
	switch {
	case n == 0 && s.Offline:
		a.status.SetText("Offline: security activity needs the server.")
	case n == 0:
		a.status.SetText("No activity yet.")
	case s.ActivityCursor != "":
		a.status.SetText(fmt.Sprintf("The %d most recent events, newest first; scroll for more.", n))
	default:
		a.status.SetText(fmt.Sprintf("%d %s, newest first.", n, plural(n, "event", "events")))
	}
	a.showLogCheck(s.LogCheck)
	a.showExport()
	return a.root
}

// relayout runs change, which may show or hide lines under the header,
// and lays the page out again if it did: the list moves to make room, or
// takes it back.
func (a *activityScreen) relayout(change func()) {
	before := a.top.MinSize().Height
	change()
	if a.top.MinSize().Height != before {
		a.body.Refresh()
	}
}

// closureErased reads a session.closure_confirmed detail: whether the
// closed device erased its data ("…; its Sessionguard data for this
// account erased"), not "was not erased".
func closureErased(detail string) bool {
	return strings.Contains(detail, "data for this account erased")
}
