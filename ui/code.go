package ui

import (
	"context"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"sessionguard/app"
)

// codeScreen asks for the two-step code.
type codeScreen struct {
	ui     *UI
	root   fyne.CanvasObject
	entry  *dialogEntry
	err    *widget.Label
	submit *keyButton
}

func newCodeScreen(u *UI) *codeScreen {
	c := &codeScreen{ui: u, err: errorText()}
	// Escape gives up, as Cancel does.
	c.entry = textEntry("6-digit code or recovery code", func() { u.core.CancelSecondFactor() })
	c.entry.OnSubmitted = func(string) { c.onSubmit() }
	c.entry.OnChanged = func(t string) { dismissWhenTyped(u, "code", t) }
	c.submit = u.button("Verify", nil, c.onSubmit)
	c.submit.Importance = widget.HighImportance
	cancel := newKeyButton("Cancel", nil, func() { u.core.CancelSecondFactor() }, func() { u.core.CancelSecondFactor() })
	title := heading("Two-step verification")
	c.root = column(container.NewPadded(container.NewVBox(title,
		wrapped("Enter the code from your authenticator app, or one of your recovery codes."),
		c.entry, c.err, c.submit, cancel)))
	return c
}

func (c *codeScreen) update(s app.Snapshot) fyne.CanvasObject {
	msg := s.FieldErrors["code"]
	if msg == "" {
		msg = s.Err
	}
	setErrorText(c.err, msg)
	setEnabled(!s.Busy, c.submit)
	return c.root
}

func (c *codeScreen) onSubmit() {
	code := c.entry.Text
	c.ui.run(func(ctx context.Context) error { return c.ui.core.SubmitSecondFactor(ctx, code) }, func(error) { c.entry.SetText("") })
}
