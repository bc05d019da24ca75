package ui

import "context"

// pageRows is how many rows one load of a paged list brings (the core's
// page: app's devicesPage, for the device list and the security log).
const pageRows = 200

// prefetchAhead is how near its end (in rows) a paged list loads its next
// page: a page and a half, so that the next page is there before the
// person scrolls to it, however fast.
const prefetchAhead = pageRows * 3 / 2

// prefetcher loads a paged list's next page ahead of the person: when a
// row within prefetchAhead of the loaded end is drawn, not only the last.
// It asks once for each page: rows drawn while that page loads do not ask
// again (nor start a goroutine each). A page that failed to load is not
// asked for again by drawing (a list redrawn with the error would ask
// for ever, offline) until retry: the list's refresh or "more" button.
// Use it on the UI goroutine only.
type prefetcher struct {
	asked  string // the cursor whose page is loading ("": none)
	failed string // the cursor whose page failed to load last
}

// drawn notes row i of n drawn, in a list whose next page starts at
// cursor ("": none), loaded by load.
func (p *prefetcher) drawn(u *UI, i, n int, cursor string, load func(context.Context) error) {
	if cursor == "" || i < n-prefetchAhead || cursor == p.asked || cursor == p.failed {
		return
	}
	p.asked = cursor
	u.run(load, func(err error) {
		if p.asked == cursor {
			p.asked = ""
		}
		if err != nil {
			p.failed = cursor
		} else if p.failed == cursor {
			p.failed = ""
		}
	})
}

// retry lets drawing ask again for a page that failed to load.
func (p *prefetcher) retry() { p.failed = "" }
