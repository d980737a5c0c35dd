package main

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// Cause send-no-receiver, shaped for `goro-leaks diff` across snapshots:
//
//   - growing (the leak): handleQuote gives its backend call 2ms and returns
//     a timeout error when it is slower, but the backend goroutine then sends
//     its late answer on an unbuffered channel nobody reads any more (state
//     "chan send" in main.handleQuote.func1): 10 more per round;
//   - constant: the common background goroutines;
//   - shrinking: 8 export shards wait for a go-ahead; 4 get it after round 1
//     and the other 4 after round 2, so 8, 4, then 0 are left;
//   - new in snapshot 3: 3 cache warmers start in round 3 and wait with a
//     timeout.

type quote struct {
	symbol string
	cents  int64
}

// slowBackend answers after the request has been given up on.
func slowBackend(symbol string, gate <-chan struct{}) quote {
	<-gate // the backend "takes" until the gate opens
	return quote{symbol: symbol, cents: 4200}
}

func handleQuote(symbol string, gate <-chan struct{}) (quote, error) {
	answer := make(chan quote) // BUG: unbuffered; make(chan quote, 1) fixes it
	go func() { answer <- slowBackend(symbol, gate) }()
	select {
	case q := <-answer:
		return q, nil
	case <-time.After(2 * time.Millisecond):
		return quote{}, fmt.Errorf("quote %s: backend timeout", symbol)
	}
}

func exportShard(shard int, goAhead <-chan struct{}, wg *sync.WaitGroup) {
	defer wg.Done()
	<-goAhead
}

func cacheWarmer(key string, stop <-chan struct{}) {
	select {
	case <-stop:
	case <-time.After(time.Minute):
	}
}

func growth(h *harness) {
	goAhead := make(chan struct{})
	var shards sync.WaitGroup
	shards.Add(8)
	for i := 0; i < 8; i++ {
		go exportShard(i, goAhead, &shards)
	}
	stop := make(chan struct{})
	base := h.settle(-1) // background + 8 shards
	var timeouts int32
	for round := 1; round <= 3; round++ {
		switch round {
		case 2:
			for i := 0; i < 4; i++ {
				goAhead <- struct{}{}
			}
		case 3:
			close(goAhead)
			shards.Wait()
			for i := 0; i < 3; i++ {
				go cacheWarmer(fmt.Sprintf("warm-%d", i), stop)
			}
		}
		// The gate of each round opens only after the handler gave up.
		gate := make(chan struct{})
		var handled sync.WaitGroup
		for i := 0; i < 10; i++ {
			handled.Add(1)
			go func(i int) {
				defer handled.Done()
				if _, err := handleQuote(fmt.Sprintf("Q%d", round*10+i), gate); err != nil {
					atomic.AddInt32(&timeouts, 1)
				}
			}(i)
		}
		handled.Wait()
		close(gate)
		want := map[int]int{1: base + 10, 2: base - 4 + 20, 3: base - 8 + 30 + 3}[round]
		h.snapshot(round, want)
	}
	if timeouts != 30 {
		fatalf("growth: %d timeouts, want 30", timeouts)
	}
}
