// Package barrier starts racers together, for the tests that check what
// concurrent calls do: the server's HTTP races and the store contract's.
package barrier

import "sync"

// Run runs f(0) … f(n-1) on n goroutines released at the same moment, and
// waits for them all.
func Run(n int, f func(i int)) {
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			f(i)
		})
	}
	close(start)
	wg.Wait()
}
