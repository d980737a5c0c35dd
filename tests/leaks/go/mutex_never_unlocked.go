package main

import (
	"errors"
	"fmt"
	"sync"
	"time"
)

// Cause mutex-never-unlocked: an error path returns with a mutex held.
//
// rateCache.refresh locks the cache, fetches new rates and returns early when
// the fetch fails, without Unlock (the fix is `defer c.mu.Unlock()`). From
// then on every request that converts a price blocks forever in
// c.mu.Lock() (Go 1.19 shows state "semacquire"; newer Go "sync.Mutex.Lock").

type rateCache struct {
	mu     sync.Mutex
	rates  map[string]float64
	loaded time.Time
}

func (c *rateCache) refresh(fetch func() (map[string]float64, error)) error {
	c.mu.Lock()
	rates, err := fetch()
	if err != nil {
		return fmt.Errorf("refresh rates: %w", err) // BUG: c.mu is still locked
	}
	c.rates = rates
	c.loaded = time.Now()
	c.mu.Unlock()
	return nil
}

// rate returns the exchange rate of cur to USD.
func (c *rateCache) rate(cur string) float64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.rates[cur]
}

func handleConvert(c *rateCache, cents int64, cur string, reply chan<- int64) {
	reply <- int64(float64(cents) * c.rate(cur))
}

func mutexNeverUnlocked(h *harness) {
	c := &rateCache{}
	replies := make(chan int64, 100)
	ok := func() (map[string]float64, error) { return map[string]float64{"EUR": 1.08, "GBP": 1.27}, nil }
	down := func() (map[string]float64, error) { return nil, errors.New("rates service: 503") }

	if err := c.refresh(ok); err != nil {
		fatalf("%v", err)
	}
	handleConvert(c, 1000, "EUR", replies) // works while the cache is healthy
	base := h.settle(-1)
	for round := 1; round <= 3; round++ {
		if round == 1 {
			_ = c.refresh(down) // the failure that leaves c.mu locked
		}
		for i := 0; i < 10; i++ {
			go handleConvert(c, int64(100*i), "GBP", replies)
		}
		h.snapshot(round, base+10*round)
	}
}
