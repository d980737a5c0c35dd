package main

// Cause endless-loop: a goroutine that spins forever.
//
// countPairs steps by two and stops only when i == n exactly: for an odd n it
// jumps over n and runs for 2^63 iterations, i.e. forever (the fix is i < n).
// The goroutine never blocks, so it is "running" or "runnable" in every dump,
// always with countPairs on top of its stack.
//
// One spinner starts in round 1 and a second in round 2; round 3 starts none
// (at most 2, so that a 2-core machine stays usable). Even-sized batches in
// every round finish normally.

// countPairs returns the number of pairs in a batch of n items.
//
//go:noinline
func countPairs(n int) int {
	i := 0
	for ; i != n; i += 2 { // BUG: never equal for odd n
	}
	return i / 2
}

func pairUp(batch []string, results chan<- int) {
	results <- countPairs(len(batch))
}

func endlessLoop(h *harness) {
	results := make(chan int, 100)
	base := h.settle(-1)
	for round := 1; round <= 3; round++ {
		for i := 0; i < 4; i++ {
			go pairUp(make([]string, 2*(i+1)), results)
		}
		if round <= 2 {
			go pairUp(make([]string, 7), results) // odd: spins forever
			h.spinning++
		}
		h.snapshot(round, base+h.spinning)
	}
	if len(results) != 12 {
		fatalf("endless-loop: %d batches finished, want 12", len(results))
	}
}
