//go:build js && wasm

package browser

import (
	"strings"
	"sync"
	"syscall/js"
	"time"

	"fyne.io/fyne/v2"
)

// Origin is the address the page was served from ("https://host:port"):
// the web app's server, and the only one its Content-Security-Policy lets
// it reach.
func Origin() string { return js.Global().Get("location").Get("origin").String() }

// mirrorDelay gathers the redraws of one change (a screen, then its
// dialog) into one update of the copy.
const mirrorDelay = 100 * time.Millisecond

// Mirror keeps the page's #screen-text (a role=status, aria-live region,
// visually hidden) equal to what the canvas shows, and its data-focus to
// the focused widget's name. The canvas is pixels: without this copy a
// screen reader, or find in page, sees nothing. It also sets
// <html data-app="ready"> once the first screen is there.
type Mirror struct {
	read func() (lines []string, focus string)

	mu      sync.Mutex
	pending bool
	last    string
	lastF   string
	ready   bool
	funcs   []js.Func
}

// NewMirror returns a Mirror that reads the screen with read (ui's
// ScreenText), on Fyne's goroutine. It also updates after keys and
// pointer presses, which move the focus without a redraw.
func NewMirror(read func() ([]string, string)) *Mirror {
	m := &Mirror{read: read}
	doc := js.Global().Get("document")
	for _, ev := range []string{"keyup", "pointerup"} {
		f := js.FuncOf(func(js.Value, []js.Value) any { m.Changed(); return nil })
		m.funcs = append(m.funcs, f)
		doc.Call("addEventListener", ev, f, map[string]any{"passive": true})
	}
	return m
}

// Changed says the screen may read differently; the copy follows
// shortly. Safe from any goroutine.
func (m *Mirror) Changed() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.pending {
		return
	}
	m.pending = true
	time.AfterFunc(mirrorDelay, func() { fyne.Do(m.update) })
}

// update copies the screen into the page; it runs on Fyne's goroutine.
func (m *Mirror) update() {
	m.mu.Lock()
	m.pending = false
	m.mu.Unlock()
	lines, focus := m.read()
	text := strings.Join(lines, "\n")
	doc := js.Global().Get("document")
	el := doc.Call("getElementById", "screen-text")
	if !el.Truthy() {
		return
	}
	if text != m.last {
		el.Set("textContent", text)
		m.last = text
	}
	if focus != m.lastF {
		el.Call("setAttribute", "data-focus", focus)
		m.lastF = focus
	}
	if !m.ready && text != "" {
		m.ready = true
		doc.Get("documentElement").Get("dataset").Set("app", "ready")
	}
}

// OnLeave calls fn when the page goes away (pagehide: the tab closes, the
// page reloads or navigates elsewhere). fn must not block: what it sends
// must leave at once (fetch with keepalive).
func OnLeave(fn func()) {
	f := js.FuncOf(func(js.Value, []js.Value) any { fn(); return nil })
	js.Global().Call("addEventListener", "pagehide", f)
}

// ForgetTyping keeps the page's #dummyEntry empty. Fyne's web driver
// focuses that off-screen field so that phones show their keyboard, and
// the browser then types every key into it as well: without this its
// value would hold the last password typed, readable in the page. It
// also asks the browser not to remember, correct or fill it.
func ForgetTyping() {
	el := js.Global().Get("document").Call("getElementById", "dummyEntry")
	if !el.Truthy() {
		return
	}
	for k, v := range map[string]string{"autocomplete": "off", "autocorrect": "off", "autocapitalize": "off", "spellcheck": "false"} {
		el.Call("setAttribute", k, v)
	}
	el.Set("value", "")
	clear := js.FuncOf(func(js.Value, []js.Value) any { el.Set("value", ""); return nil })
	el.Call("addEventListener", "input", clear)
}

// fyneFileStore is the IndexedDB database Fyne's web driver opens at
// start for its file storage (fyne.io/fyne/v2/internal/repository).
const fyneFileStore = "files"

// KeepNoFiles stops Fyne's web driver from keeping its file store, an
// IndexedDB database it creates at start whether or not the app stores a
// file (Sessionguard stores none): a database that outlives the tab would
// belie "keeps nothing in this browser". The open succeeds, then the
// connection closes and the database is deleted before Fyne writes to it;
// Fyne logs that it has no file storage and goes on. Call it before
// fyne's app.NewWithID.
func KeepNoFiles() {
	factory := js.Global().Get("indexedDB")
	if factory.Type() != js.TypeObject {
		return
	}
	open := factory.Get("open").Call("bind", factory)
	del := factory.Get("deleteDatabase").Call("bind", factory)
	wrapped := js.FuncOf(func(_ js.Value, args []js.Value) any {
		in := make([]any, len(args))
		for i, a := range args {
			in[i] = a
		}
		req := open.Invoke(in...)
		if len(args) == 0 || args[0].Type() != js.TypeString || args[0].String() != fyneFileStore {
			return req
		}
		var onSuccess js.Func
		onSuccess = js.FuncOf(func(js.Value, []js.Value) any {
			req.Get("result").Call("close")
			del.Invoke(fyneFileStore)
			onSuccess.Release()
			return nil
		})
		req.Call("addEventListener", "success", onSuccess)
		return req
	})
	factory.Set("open", wrapped)
}
