package main

import (
	"fmt"
	"strings"
	"sync"
)

// Cause producer-consumer (the producer quits): a consumer goroutine ranges
// over a channel that its producer never closes.
//
// reindex starts an indexing goroutine and feeds it documents. On an empty
// document it returns an error without close(in) (the fix is `defer
// close(in)` right after making the channel), so indexDocs' `for d := range
// in` waits forever (state "chan receive").

type document struct {
	id   int
	body string
}

type searchIndex struct {
	mu    sync.Mutex
	terms map[string][]int
}

func (x *searchIndex) add(d document) {
	x.mu.Lock()
	defer x.mu.Unlock()
	for _, t := range strings.Fields(d.body) {
		x.terms[t] = append(x.terms[t], d.id)
	}
}

// indexDocs indexes documents until in is closed.
func indexDocs(x *searchIndex, in <-chan document) {
	for d := range in {
		x.add(d)
	}
}

func reindex(x *searchIndex, docs []document) error {
	in := make(chan document)
	go indexDocs(x, in)
	for _, d := range docs {
		if d.body == "" {
			return fmt.Errorf("document %d: empty body", d.id) // BUG: in is never closed
		}
		in <- d
	}
	close(in)
	return nil
}

func producerConsumerProducerQuit(h *harness) {
	x := &searchIndex{terms: map[string][]int{}}
	failed := 0
	base := h.settle(-1)
	for round := 1; round <= 3; round++ {
		for i := 0; i < 12; i++ {
			docs := []document{{1, "goroutines are cheap"}, {2, "channels are typed"}, {3, ""}}
			if i%6 == 5 {
				docs[2].body = "leaks are not" // 2 of 12 batches are fine and do not leak
			}
			if err := reindex(x, docs); err != nil {
				failed++
			}
		}
		h.snapshot(round, base+10*round)
	}
	if failed != 30 {
		fatalf("producer-consumer-producer-quit: %d reindexes failed, want 30", failed)
	}
}
