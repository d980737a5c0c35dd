package main

import (
	"fmt"
	"hash/fnv"
)

// Cause send-no-receiver: first-result-wins fan-out on an unbuffered channel
// (the classic "First" example from Go Concurrency Patterns).
//
// queryAll sends the query to every replica and returns the first answer.
// results is unbuffered and only one value is ever received, so every replica
// that answers later blocks forever on its send (state "chan send"). The fix
// is make(chan searchResult, len(replicas)).

type replica struct {
	name string
	cost int // simulated work per query
}

type searchResult struct {
	replica string
	hits    int
}

func (r replica) search(q string) searchResult {
	h := fnv.New32a()
	for i := 0; i < r.cost; i++ {
		fmt.Fprintf(h, "%s/%s/%d", r.name, q, i)
	}
	return searchResult{replica: r.name, hits: int(h.Sum32() % 100)}
}

// queryAll returns the fastest replica's answer.
func queryAll(q string, replicas []replica) searchResult {
	results := make(chan searchResult) // BUG: unbuffered, read once
	for _, r := range replicas {
		r := r
		go func() { results <- r.search(q) }()
	}
	return <-results
}

func sendNoReceiver(h *harness) {
	replicas := make([]replica, 6)
	for i := range replicas {
		replicas[i] = replica{name: fmt.Sprintf("replica-%d", i), cost: 100 * (i + 1)}
	}
	base := h.settle(-1)
	for round := 1; round <= 3; round++ {
		// Two searches per round, 6 replicas each: 5 senders left behind per search.
		queryAll(fmt.Sprintf("gopher %d", round), replicas)
		queryAll(fmt.Sprintf("channels %d", round), replicas)
		h.snapshot(round, base+10*round)
	}
}
