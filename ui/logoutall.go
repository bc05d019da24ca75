package ui

import (
	"context"
	"fmt"
	"image/color"
	"slices"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"sessionguard/app"
)

// logOutAllDialog confirms "Log out of all accounts" (Settings, with two
// or more accounts): it lists the accounts, and asks whether to remember
// their login info for "Continue as", for all of them at once or for each
// one.
type logOutAllDialog struct {
	ui      *UI
	entries []app.AccountEntry
	all     *keyCheck   // remember all: ticks and unticks each
	each    []*keyCheck // remember this one, as entries
	syncing bool        // all and each are being made to agree
}

// confirmLogOutAll opens the confirmation.
func (u *UI) confirmLogOutAll() {
	if u.accounts == nil || len(u.acc.Accounts) < 2 {
		return
	}
	l := &logOutAllDialog{ui: u, entries: slices.Clone(u.acc.Accounts)}
	n := len(l.entries)
	items := []fyne.CanvasObject{wrapped(fmt.Sprintf("This device is logged out of these %d accounts, and each one's session ends on its server.", n))}
	if u.snap.CanRemember() {
		l.all = u.check("Remember login info", nil)
		l.all.OnChanged = l.onRememberAll
		list := container.NewVBox()
		for _, e := range l.entries {
			c := u.check(accountName(e), nil)
			c.OnChanged = l.onRememberOne
			l.each = append(l.each, c)
			// The server under the name: a phone is narrower than both.
			where := widget.NewLabel(serverLabel(e.Server))
			where.Wrapping = fyne.TextWrapBreak
			where.Importance = widget.LowImportance
			where.SizeName = theme.SizeNameCaptionText
			list.Add(c)
			list.Add(indented(compact(where)))
		}
		l.all.SetChecked(true) // on by default, as with one account
		explain := wrapped("Remembered accounts are on the log-in screen: one tap logs them in again, without the password. Anyone using this device could do the same.")
		explain.Importance = widget.LowImportance
		items = append(items, l.all, indented(list), explain)
	} else {
		for _, e := range l.entries {
			line := wrapped("• " + accountLine(e))
			line.Wrapping = fyne.TextWrapBreak // a long name and address on a phone
			items = append(items, line)
		}
		items = append(items, wrapped("Login info can't be remembered: "+u.snap.KeyringProblem))
	}
	d := u.confirmDialog(fmt.Sprintf("Log out of all %d accounts?", n), fmt.Sprintf("Log out of %d accounts", n), true,
		container.NewVBox(items...), func(ok bool) {
			if ok {
				l.onLogOutAll()
			}
		})
	u.showDialog(d)
	if l.all != nil {
		u.win.Canvas().Focus(l.all) // the dialog's first field
	}
}

// accountLine is an account and its server: "ana — This device".
func accountLine(e app.AccountEntry) string {
	return accountName(e) + " — " + serverLabel(e.Server)
}

// accountName is the account's username, or says it has none yet.
func accountName(e app.AccountEntry) string {
	if e.Account.Username == "" {
		return "An account still signing in"
	}
	return e.Account.Username
}

// indented puts o under the check it belongs to, a check box's width in.
func indented(o fyne.CanvasObject) fyne.CanvasObject {
	in := canvas.NewRectangle(color.Transparent)
	in.SetMinSize(fyne.NewSize(24, 0))
	return container.NewBorder(nil, nil, in, nil, o)
}

// onRememberAll ticks or unticks every account.
func (l *logOutAllDialog) onRememberAll(on bool) {
	if l.syncing {
		return
	}
	l.syncing = true
	for _, c := range l.each {
		c.SetChecked(on)
	}
	l.syncing = false
}

// onRememberOne shows on the check for all whether all, none or some of
// the accounts are ticked.
func (l *logOutAllDialog) onRememberOne(bool) {
	if l.syncing {
		return
	}
	on := 0
	for _, c := range l.each {
		if c.Checked {
			on++
		}
	}
	l.all.Checked = on == len(l.each)
	l.all.Partial = on > 0 && on < len(l.each)
	l.all.Refresh()
}

// onLogOutAll ends every account's session, off the UI goroutine; the
// outcome shows when it is over (followLogOutAll), over the sign-in
// screen.
func (l *logOutAllDialog) onLogOutAll() {
	u := l.ui
	remember := map[string]bool{}
	for i, e := range l.entries {
		if i < len(l.each) && l.each[i].Checked {
			remember[e.Account.ID] = true
		}
	}
	m := u.accounts
	u.loggingOutAll = true
	u.redraw()
	u.run(func(ctx context.Context) error {
		m.LogOutAll(ctx, remember)
		return nil
	}, func(error) {
		u.loggingOutAll = false
		u.redraw()
	})
}

// followLogOutAll says how "Log out of all accounts" went, account by
// account, until the person closes it.
func (u *UI) followLogOutAll(acc app.AccountsSnapshot) {
	if len(acc.LastLogoutAll) == 0 || u.isShowing(u.allDone) {
		return
	}
	title := "Logged out of all accounts"
	lines := make([]string, 0, len(acc.LastLogoutAll))
	for _, o := range acc.LastLogoutAll {
		if o.Problem != "" {
			title = "Logged out, with problems"
		}
		lines = append(lines, outcomeLine(o))
	}
	d := dialog.NewCustomWithoutButtons(title, wrapped(strings.Join(lines, "\n\n")), u.win)
	ok := u.button("OK", nil, d.Hide)
	ok.Importance = widget.HighImportance
	d.SetButtons([]fyne.CanvasObject{ok})
	d.Resize(fyne.NewSize(420, 0))
	u.allDone = d
	u.showDialog(d)
	m := u.accounts
	d.SetOnClosed(func() { u.forgetDialog(d); m.DismissLogoutAll() })
	u.win.Canvas().Focus(ok)
}

// outcomeLine is how one account's log out went: "ana (this device) —
// logged out; login info saved for next time.", or with the problem.
func outcomeLine(o app.LogoutOutcome) string {
	who := "An account"
	if o.Username != "" {
		who = o.Username
	}
	line := who + " (" + serverPhrase(o.Server) + ") — logged out"
	if o.Remembered {
		line += "; login info saved for next time"
	}
	if o.Problem != "" {
		return line + ". " + o.Problem
	}
	return line + "."
}
