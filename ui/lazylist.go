package ui

import (
	"sort"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
)

// lazyList is a virtualised list in a vertical scroll: only the items in
// view and near it (a quarter of a view above, half a view below, and
// lazyOverscan more items on each side) have objects, which are
// reused for other items as the list scrolls, so a list of 10,000 items
// costs what its screenful costs. Unlike widget.List, its items may be of
// several kinds (each with its own objects) and heights, the objects
// that draw them take the keyboard focus themselves (Tab goes from one to
// the next: the items just out of view are there to take it), and an
// object stays with its item (key) for as long as both are shown.
//
// An item's height is its object's MinSize at the list's width, measured
// when it is drawn; an item not drawn yet at this width counts as its
// estimate. When a measured height differs, the list lays out again
// keeping the item at the top of the view where it was.
//
// Below the items it draws footer (nil: none), laid out only while its
// top is within two views of the view's top. Use on the UI goroutine.
type lazyList struct {
	scroll  *container.Scroll
	content *fyne.Container
	footer  fyne.CanvasObject

	// The items: their number (count), and for item i, its key (which
	// object draws it stays the same while it is shown), its kind (which
	// objects can draw it: create makes one), its estimated height, and
	// bind, which makes object o draw it and says whether that changed
	// how it looks (else its height is not measured again).
	count    func() int
	key      func(i int) string
	kind     func(i int) int
	estimate func(i int) float32
	create   func(kind int) fyne.CanvasObject
	bind     func(i int, o fyne.CanvasObject) bool
	// keep says an object must not draw another item (it has the focus:
	// keys typed go to its item wherever the list scrolls).
	keep func(o fyne.CanvasObject) bool
	// drawn is told, after each layout, the last item drawn and how far
	// below the view the content ends.
	drawn func(last int, toEnd float32)

	n        int
	heights  []float32          // item i's height, measured or estimated
	tops     []float32          // item i's top; tops[n] is below the last item
	measured map[string]float32 // heights of the items drawn at width, by key
	width    float32
	epoch    int                         // bumped when the items' contents may have changed
	shown    map[string]*lazyShown       // the objects drawing items, by key
	free     map[int][]fyne.CanvasObject // objects drawing nothing, by kind
	first    int                         // the items drawn: first to last
	last     int
	inLayout bool
}

// lazyOverscan is how many items beyond those near the view have
// objects: Tab from the last row drawn goes to the next, which scrolls
// into view.
const lazyOverscan = 2

// lazyShown is an object drawing an item.
type lazyShown struct {
	o     fyne.CanvasObject
	kind  int
	epoch int // the epoch it was bound in
}

func newLazyList() *lazyList {
	l := &lazyList{measured: map[string]float32{}, shown: map[string]*lazyShown{}, free: map[int][]fyne.CanvasObject{}, last: -1}
	l.content = container.New(&lazyLayout{l})
	l.scroll = container.NewVScroll(l.content)
	l.scroll.OnScrolled = func(fyne.Position) { l.layoutView() }
	return l
}

// gap is the space between items (a VBox's).
func (l *lazyList) gap() float32 { return theme.Padding() }

// reload takes the items as they are now: their number and contents may
// have changed (each shown object draws its item again).
func (l *lazyList) reload() {
	l.resetHeights()
	before := l.content.Size().Height
	l.layoutView()
	if l.content.Size().Height != before {
		l.scroll.Refresh() // its bars
	}
}

// resetHeights takes the number of items and their heights: measured at
// this width, else estimated. Each shown object draws its item again.
func (l *lazyList) resetHeights() {
	l.n = l.count()
	l.epoch++
	l.heights = l.heights[:0]
	for i := range l.n {
		h, ok := l.measured[l.key(i)]
		if !ok {
			h = l.estimate(i)
		}
		l.heights = append(l.heights, h)
	}
	l.retop()
}

// retop computes the items' tops from their heights.
func (l *lazyList) retop() {
	gap := l.gap()
	l.tops = append(l.tops[:0], 0)
	y := float32(0)
	for _, h := range l.heights {
		y += h + gap
		l.tops = append(l.tops, y)
	}
}

// itemsEnd is the bottom of the last item.
func (l *lazyList) itemsEnd() float32 {
	if l.n == 0 {
		return 0
	}
	return l.tops[l.n] - l.gap()
}

// footerTop is where the footer goes.
func (l *lazyList) footerTop() float32 {
	if l.n == 0 {
		return 0
	}
	return l.tops[l.n]
}

// footerNear says the footer is shown and its top within two views of
// the view's top (a little further than the items drawn: it is one
// object, and what ends the page).
func (l *lazyList) footerNear() bool {
	return l.footerShown() && l.footerTop() < l.scroll.Offset.Y+2*l.scroll.Size().Height
}

// footerShown says the footer is there and visible.
func (l *lazyList) footerShown() bool { return l.footer != nil && l.footer.Visible() }

// height is the content's height: the items and the footer.
func (l *lazyList) height() float32 {
	if l.footerShown() {
		return l.footerTop() + l.footer.MinSize().Height
	}
	return l.itemsEnd()
}

// at is the item at y: the last whose top is at or above it.
func (l *lazyList) at(y float32) int {
	i := sort.Search(l.n, func(i int) bool { return l.tops[i+1] > y })
	return min(i, l.n-1)
}

// layoutView gives the items in view objects, measures them, and places
// them and the footer. When a measured height differs from the one used,
// it lays out again with the item at the top of the view where it was.
func (l *lazyList) layoutView() {
	if l.inLayout || l.width <= 0 || l.count == nil {
		return
	}
	l.inLayout = true
	defer func() { l.inLayout = false }()
	view := l.scroll.Size().Height
	for pass := 0; ; pass++ {
		off := l.scroll.Offset.Y
		if l.n == 0 {
			l.first, l.last = 0, -1
			break
		}
		anchor := l.at(off)
		delta := off - l.tops[anchor]
		l.first = max(0, l.at(off-view/4)-lazyOverscan)
		l.last = min(l.n-1, l.at(off+view+view/2)+lazyOverscan)
		changed := false
		for i := l.first; i <= l.last; i++ {
			if h := l.draw(i); h != l.heights[i] {
				l.heights[i] = h
				changed = true
			}
		}
		if !changed || pass == 2 {
			break
		}
		l.retop()
		// Keep the top of the view on the same item, within the content.
		y := min(l.tops[anchor]+delta, max(0, l.height()-view))
		l.scroll.Offset.Y = max(0, y)
	}
	l.place()
	// The content is as tall as the items measured say (the scroll sized
	// it from the estimates).
	if h := max(l.height(), view); h != l.content.Size().Height && l.content.Size().Width > 0 {
		l.content.Resize(fyne.NewSize(l.content.Size().Width, h))
	}
	if l.drawn != nil {
		l.drawn(l.last, l.height()-l.scroll.Offset.Y-view)
	}
}

// draw makes an object draw item i (the one that draws it already, if
// any) and returns its height.
func (l *lazyList) draw(i int) float32 {
	k, kind := l.key(i), l.kind(i)
	s := l.shown[k]
	if s != nil && s.kind != kind {
		l.release(k, s)
		s = nil
	}
	if s == nil {
		var o fyne.CanvasObject
		if free := l.free[kind]; len(free) > 0 {
			o = free[len(free)-1]
			l.free[kind] = free[:len(free)-1]
		} else {
			o = l.create(kind)
		}
		s = &lazyShown{o: o, kind: kind, epoch: l.epoch - 1}
		l.shown[k] = s
	}
	h, ok := l.measured[k]
	if s.epoch != l.epoch {
		s.epoch = l.epoch
		if l.bind(i, s.o) {
			ok = false
		}
	}
	if !ok {
		h = s.o.MinSize().Height
		l.measured[k] = h
	}
	return h
}

// release frees the object drawing key k.
func (l *lazyList) release(k string, s *lazyShown) {
	delete(l.shown, k)
	l.free[s.kind] = append(l.free[s.kind], s.o)
}

// place moves the objects of the items drawn to where they go, frees the
// others' (but those keep holds on to), and makes them, with the footer
// when near the view, the content's objects, in order.
func (l *lazyList) place() {
	inView := make(map[string]bool, l.last-l.first+1)
	objs := make([]fyne.CanvasObject, 0, l.last-l.first+2)
	for i := l.first; i <= l.last; i++ {
		k := l.key(i)
		s := l.shown[k]
		inView[k] = true
		s.o.Move(fyne.NewPos(0, l.tops[i]))
		s.o.Resize(fyne.NewSize(l.width, l.heights[i]))
		objs = append(objs, s.o)
	}
	for k, s := range l.shown {
		if !inView[k] && (l.keep == nil || !l.keep(s.o)) {
			l.release(k, s)
		}
	}
	if l.footerNear() {
		l.footer.Move(fyne.NewPos(0, l.footerTop()))
		l.footer.Resize(fyne.NewSize(l.width, l.footer.MinSize().Height))
		objs = append(objs, l.footer)
	}
	l.content.Objects = objs
}

// scrollToItem scrolls so that item i shows whole (its bottom at the
// view's when it is below it, its top at the view's when above).
func (l *lazyList) scrollToItem(i int) {
	if i < 0 || i >= l.n {
		return
	}
	for range 3 { // heights measured on the way change where it is
		view := l.scroll.Size().Height
		off := l.scroll.Offset.Y
		top, h := l.tops[i], l.heights[i]
		switch {
		case top < off:
			off = top
		case top+h > off+view:
			off = top + h - view
		default:
			return
		}
		l.scroll.ScrollToOffset(fyne.NewPos(0, max(0, off)))
		l.layoutView()
	}
}

// object is the object drawing item i, if it is drawn.
func (l *lazyList) object(i int) fyne.CanvasObject {
	if i < l.first || i > l.last {
		return nil
	}
	if s := l.shown[l.key(i)]; s != nil {
		return s.o
	}
	return nil
}

// lazyLayout is the content's layout: as tall as the items and the
// footer, it lays them out at its width.
type lazyLayout struct{ l *lazyList }

func (x *lazyLayout) Layout(_ []fyne.CanvasObject, size fyne.Size) {
	l := x.l
	if size.Width != l.width && l.count != nil {
		// Items wrap differently at another width: measure them again.
		l.width = size.Width
		clear(l.measured)
		l.resetHeights()
	}
	l.layoutView()
}

func (x *lazyLayout) MinSize([]fyne.CanvasObject) fyne.Size {
	l := x.l
	w := float32(0)
	if l.footerShown() {
		w = l.footer.MinSize().Width
	}
	return fyne.NewSize(w, l.height())
}
