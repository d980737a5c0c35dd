// The "sync" group's Go twins of mutex, rwmutex and wgfan (goro_bench.cc has
// the C++ side; docs/performance.md says what each case measures).
package main

import (
	"sync"
	"time"
)

// syncGoroutines is the number of goroutines in mutex and rwmutex.
const syncGoroutines = 4

// mutex: four goroutines each run K iterations of Lock; counter++; Unlock on
// one sync.Mutex; the main goroutine waits for them on a WaitGroup. The
// counter is a plain integer, so a mutex that lets two holders in loses
// increments: counter must be 4 K (checked). Value: elapsed / (4 K), in ns
// per lock/unlock pair.
func mutexOnce(k int64) float64 {
	var mu sync.Mutex
	var counter int64
	var wg sync.WaitGroup
	wg.Add(syncGoroutines)
	t0 := time.Now()
	for g := 0; g < syncGoroutines; g++ {
		go func() {
			for i := int64(0); i < k; i++ {
				mu.Lock()
				counter++
				mu.Unlock()
			}
			wg.Done()
		}()
	}
	wg.Wait()
	ns := float64(time.Since(t0).Nanoseconds()) / float64(syncGoroutines*k)
	if counter != syncGoroutines*k {
		fail("mutex: counter %d, want %d", counter, syncGoroutines*k)
	}
	return ns
}

// rwShared is the data the rwmutex case protects, on its own cache line as
// in the C++ twin.
type rwShared struct {
	a, b int64
	_    [48]byte
}

// rwmutex: four goroutines each run K iterations (K a multiple of 10);
// iteration i takes the write lock when i % 10 == 0 and increments two plain
// integers a and b, else it takes the read lock, reads a and b, counts
// a != b (a writer let in beside a reader) and adds a to a private sum.
// Checked: a == b == 4 K / 10 and no reader saw a != b. Value: elapsed /
// (4 K), in ns per lock (read or write) and unlock.
func rwmutexOnce(k int64) float64 {
	var mu sync.RWMutex
	shared := new(rwShared)
	var torn int64 // written under the write lock only
	var readsSum [syncGoroutines]int64
	var wg sync.WaitGroup
	wg.Add(syncGoroutines)
	t0 := time.Now()
	for g := 0; g < syncGoroutines; g++ {
		g := g
		go func() {
			var sum, bad int64
			for i := int64(0); i < k; i++ {
				if i%10 == 0 {
					mu.Lock()
					shared.a++
					shared.b++
					mu.Unlock()
				} else {
					mu.RLock()
					a := shared.a
					b := shared.b
					mu.RUnlock()
					if a != b {
						bad++
					}
					sum += a
				}
			}
			mu.Lock()
			torn += bad
			mu.Unlock()
			readsSum[g] = sum
			wg.Done()
		}()
	}
	wg.Wait()
	ns := float64(time.Since(t0).Nanoseconds()) / float64(syncGoroutines*k)
	writes := int64(syncGoroutines) * (k / 10)
	if shared.a != writes || shared.b != writes || torn != 0 {
		fail("rwmutex: a=%d b=%d torn reads=%d, want a=b=%d and no torn reads",
			shared.a, shared.b, torn, writes)
	}
	var total int64
	for _, s := range readsSum {
		total += s
	}
	if total < 0 {
		fail("rwmutex: negative read sum")
	}
	return ns
}

// mix64 is splitmix64's finaliser (the C++ twin's mix64).
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// fanRounds is the number of fan-out/fan-in rounds per wgfan repetition.
const fanRounds = 500

// wgfan: per round the main goroutine runs `wg.Add(1); go fn()` N = 1000
// times (Go 1.19 has no WaitGroup.Go, so both twins use the classic form), fn
// writing a small hash of its index into its own slot and calling wg.Done();
// then wg.Wait() and the main goroutine sums the slots (checked against the
// sum computed directly). R rounds per repetition. Value: elapsed / (R N), in
// ns per goroutine.
func wgfanOnce(n int64) float64 {
	slots := make([]uint64, n)
	var want uint64
	for i := int64(0); i < n; i++ {
		want += mix64(uint64(i))
	}
	badRounds := 0
	t0 := time.Now()
	for r := 0; r < fanRounds; r++ {
		var wg sync.WaitGroup
		for i := int64(0); i < n; i++ {
			wg.Add(1)
			i := i
			go func() {
				slots[i] = mix64(uint64(i))
				wg.Done()
			}()
		}
		wg.Wait()
		var sum uint64
		for i := range slots {
			sum += slots[i]
			slots[i] = 0
		}
		if sum != want {
			badRounds++
		}
	}
	ns := float64(time.Since(t0).Nanoseconds()) / float64(fanRounds*n)
	if badRounds != 0 {
		fail("wgfan: %d rounds with a wrong sum", badRounds)
	}
	return ns
}
