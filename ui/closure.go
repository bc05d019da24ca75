package ui

import (
	"context"
	"fmt"
	"strings"
	"time"

	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"sessionguard/api"
	"sessionguard/app"
)

// Closure you can verify (issue 15): a remote log out can also ask the
// device to erase what Sessionguard keeps there for the account, and the
// device's receipt says when it heard of it. The words here are shared by
// the confirmations, the dialog after a log out (revoked.go) and Recently
// logged out (ended.go). A receipt still to come never reads as a failure:
// the device's tokens fail from the moment it is logged out either way.

// eraseLabel is the erase check box of a remote log out's confirmation,
// for one device or several (many).
func eraseLabel(many bool) string {
	if many {
		return "Also erase Sessionguard data on those devices"
	}
	return "Also erase Sessionguard data on that device"
}

// eraseExplain says what the erase check box does.
func eraseExplain(many bool) string {
	if many {
		return "Deletes what Sessionguard keeps on them for this account (saved login, cached lists; everything, " +
			"if it is the only account there) once each device hears of it. Their access fails at once either way."
	}
	return "Deletes what Sessionguard keeps there for this account (saved login, cached lists; everything, " +
		"if it is the only account there) once the device hears of it. Its access fails at once either way."
}

// confirmRevoke asks before a remote log out, as confirmAction does, with
// the choice to also erase Sessionguard's data on the device(s) (many:
// several): off unless erase says otherwise. Yes runs action with the
// choice.
func (u *UI) confirmRevoke(title, yes, msg string, many, erase bool, action func(ctx context.Context, erase bool) error) {
	check := u.check(eraseLabel(many), nil)
	check.SetChecked(erase)
	explain := wrapped(eraseExplain(many))
	explain.Importance = widget.LowImportance
	body := container.NewVBox(wrapped(msg), check, indented(explain))
	d := u.confirmDialog(title, yes, true, body, func(ok bool) {
		if !ok {
			return
		}
		on := check.Checked
		u.run(func(ctx context.Context) error { return action(ctx, on) }, nil)
	})
	u.showDialog(d)
	u.win.Canvas().Focus(check) // the dialog's first field, as Log out's
}

// Closure statuses, as a session's receipt stands.
const (
	closureWaiting = "Logged out — waiting for the device to confirm. Its access already fails."
)

// closureStatus is what became of ended session s on its device, and how
// to show it: waiting (neutral, never a failure) or "Confirmed closed at
// 17:41:03 (0.3 s), data erased". Empty for a session that ended itself
// (its log out is its own receipt) and for one the server says nothing of.
func closureStatus(s api.Session, now time.Time) (string, widget.Importance) {
	c := s.Closure
	switch {
	case c == nil, s.RevokeReason == api.ReasonLogout, s.RevokeReason == api.ReasonExpired:
		return "", widget.LowImportance
	case c.State != api.ClosureConfirmed || c.ConfirmedAt == nil:
		return closureWaiting, widget.LowImportance
	}
	msg := "Confirmed closed at " + clockSeconds(*c.ConfirmedAt, now)
	if s.RevokedAt != nil {
		msg += " (" + api.Delay(c.ConfirmedAt.Sub(*s.RevokedAt)) + ")"
	}
	switch {
	case c.Erased:
		msg += ", data erased"
	case c.EraseRequested:
		// Confirmed all the same: its tokens are gone; say plainly what
		// was not done.
		return msg + ", data not erased", widget.MediumImportance
	}
	return msg, widget.SuccessImportance
}

// clockSeconds is a time to the second for a sentence, after "at":
// "17:41:03", with the day when it is not today ("17:41:03 yesterday",
// "17:41:03 on 21 Nov").
func clockSeconds(t, now time.Time) string {
	hms := t.Local().Format("15:04:05")
	switch day := dayName(t, now); {
	case day == "Today":
		return hms
	case day != "":
		return hms + " " + strings.ToLower(day)
	case t.Local().Year() == now.Local().Year():
		return hms + " on " + t.Local().Format("2 Jan")
	}
	return hms + " on " + t.Local().Format("2 Jan 2006")
}

// endedHow says who ended session s and why, with when: "Logged out by
// Ana's Laptop · Today 17:41", "Logged out after too many wrong passwords
// · …", "Logged itself out · …". self is this device's session: what it
// did is "from this device".
func endedHow(s api.Session, self string, now time.Time) string {
	by := s.RevokedByDeviceName
	if by != "" && s.RevokedBySessionID != "" && s.RevokedBySessionID == s.ID {
		by = "" // itself
	}
	fromHere := self != "" && s.RevokedBySessionID == self
	if by != "" && strings.EqualFold(strings.TrimSpace(by), strings.TrimSpace(s.Device.Name)) {
		by = "another device named " + by // not "Pixel 8 … Logged out by Pixel 8"
	}
	var how string
	switch s.RevokeReason {
	case api.ReasonLogout:
		how = "Logged itself out"
	case api.ReasonReauthFailed:
		how = "Logged out after too many wrong passwords"
	case api.ReasonPasswordChanged:
		how = "Logged out when the password was changed"
		switch {
		case fromHere:
			how += " on this device"
		case by != "":
			how += " on " + by
		}
	case api.ReasonAdmin:
		how = "Logged out by the server administrator"
	case api.ReasonRefreshTokenReuse:
		how = "Logged out because its sign-in token was used from somewhere else"
	case api.ReasonExpired:
		how = "Its session expired"
	case api.ReasonInactive:
		how = "Logged out after going unused"
	default: // remote_logout, logout_others
		switch {
		case fromHere:
			how = "Logged out from this device"
		case by != "":
			how = "Logged out by " + by
		default:
			how = "Logged out from another device"
		}
	}
	if s.RevokedAt != nil {
		how += " · " + stamp(*s.RevokedAt, now)
	}
	return how
}

// revokeLine is one line of the dialog after a remote log out: what
// became of a device it ended, as the newest Recently logged out says.
type revokeLine struct {
	text       string
	importance widget.Importance
}

// revokeStatus is the live status of log out r, from the ended sessions
// snap holds (Snapshot.Ended reloads as receipts arrive): one line per
// device logged out by ID, or for "all other devices" a count, "3 logged
// out — 2 confirmed, 1 waiting".
func revokeStatus(r app.RevokeResult, snap app.Snapshot, now time.Time) []revokeLine {
	switch {
	case len(r.IDs) > 0:
		var out []revokeLine
		for i, id := range r.IDs {
			name := ""
			if len(r.Names) == len(r.IDs) {
				name = r.Names[i]
			}
			text, imp := closureWaiting, widget.LowImportance
			if s, ok := findEnded(snap, id); ok {
				if t, im := closureStatus(s, now); t != "" {
					text, imp = t, im
				}
				if name == "" {
					name = s.Device.Name
				}
			}
			if len(r.IDs) > 1 {
				if name == "" {
					name = "A device"
				}
				text = name + ": " + text
			}
			out = append(out, revokeLine{text, imp})
		}
		return out
	case r.Count > 0 && r.DeviceName == "" && len(r.Names) == 0 && len(r.Failed) == 0:
		confirmed, erased := othersConfirmed(r, snap)
		if waiting := r.Count - confirmed; waiting > 0 {
			return []revokeLine{{fmt.Sprintf("%d logged out — %d confirmed, %d waiting. Their access already fails.",
				r.Count, confirmed, waiting), widget.LowImportance}}
		}
		text := fmt.Sprintf("%d logged out — all confirmed", r.Count)
		switch {
		case !r.Erase:
		case erased == r.Count:
			text += ", data erased"
		default:
			return []revokeLine{{fmt.Sprintf("%s, data erased on %d of %d", text, erased, r.Count), widget.MediumImportance}}
		}
		return []revokeLine{{text, widget.SuccessImportance}}
	}
	return nil
}

// othersConfirmed counts the devices "Log out of all other devices" (r)
// ended whose receipts are in: the newest sessions this device ended that
// way, which were all ended at the same moment. Until the list has them
// (it reloads right after the log out), none.
func othersConfirmed(r app.RevokeResult, snap app.Snapshot) (confirmed, erased int) {
	if snap.Session == nil {
		return 0, 0
	}
	var batch *time.Time
	var group []api.Session
	for _, s := range snap.Ended {
		if s.RevokeReason != api.ReasonLogoutOthers || s.RevokedBySessionID != snap.Session.ID || s.RevokedAt == nil {
			continue
		}
		if batch == nil {
			batch = s.RevokedAt // newest first: the last such log out
		}
		if !s.RevokedAt.Equal(*batch) {
			break
		}
		group = append(group, s)
	}
	if len(group) != r.Count {
		return 0, 0 // the list is not up to date yet
	}
	for _, s := range group {
		if c := s.Closure; c != nil && c.State == api.ClosureConfirmed {
			confirmed++
			if c.Erased {
				erased++
			}
		}
	}
	return confirmed, erased
}

// findEnded is the session with id in s.Ended.
func findEnded(s app.Snapshot, id string) (api.Session, bool) {
	for _, e := range s.Ended {
		if e.ID == id {
			return e, true
		}
	}
	return api.Session{}, false
}
