// go_bench: the Go half of the goro-vs-Go benchmark harness.
//
// Its twin is bench/goro_bench.cc; both do the same work, take the same flags
// and print the same lines. bench/run.sh builds and runs both and joins the
// results; docs/performance.md says what each case measures.
//
//	go_bench [--case NAME] [--reps R] [--n N]
//
//	--case   a timing case: spawn | yield | skynet (runtime) | pingpong |
//	         buffered | select2 | after (channels and timers) | mutex |
//	         rwmutex | wgfan | ctxtree | ctxbuild | pool (sync, context and
//	         pools); a group of timing cases: runtime | chan | sync | all
//	         (all three, default);
//	         or rss100k | rss1m (parked-goroutine RSS, one per process: run
//	         each in a fresh process, as run.sh does, so earlier cases do
//	         not pollute the baseline);
//	         or dump1m1 | dump1m2 (the goroutine profile, debug=1 / debug=2,
//	         of a million parked goroutines, with a probe goroutine's
//	         latency; one per process, not in "all"; run.sh's group "dump")
//	--reps   measured repetitions of a timing case after one warm-up (default 5;
//	         run.sh passes 3 for the dump cases unless --reps is given)
//	--n      override the case's size (goroutines, yields per goroutine,
//	         skynet leaves (a power of 10), round trips, messages, timers,
//	         iterations per goroutine (mutex, rwmutex), goroutines per round
//	         (wgfan), trees per repetition (ctxtree, ctxbuild), jobs per
//	         submitter (pool) or parked goroutines (dump1m1, dump1m2)); for
//	         quick checks only
//
// Parallelism comes from GOMAXPROCS (run.sh sets it equal to GORO_MAXPROCS).
//
// Output, one line per case (two for the dump cases: <case> and <case>probe):
//
//	RESULT <case> <median> <unit> min=<min> reps=<R> samples=<s1,s2,...>
//
// plus INFO lines. A failed check prints "FAIL ..." to stderr and exits 1.
// Standard library only (built offline with Debian's go 1.19).
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

func fail(format string, args ...interface{}) {
	os.Stdout.Sync()
	fmt.Fprintf(os.Stderr, "FAIL "+format+"\n", args...)
	os.Exit(1)
}

// vmRSSKiB returns VmRSS of this process in KiB, from /proc/self/status (the
// C++ twin reads the same field the same way).
func vmRSSKiB() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		fail("cannot open /proc/self/status: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "VmRSS:") {
			fields := strings.Fields(line[len("VmRSS:"):])
			if len(fields) > 0 {
				if v, err := strconv.ParseInt(fields[0], 10, 64); err == nil {
					return v
				}
			}
		}
	}
	fail("no VmRSS in /proc/self/status")
	return -1
}

// num formats fixed-point with a precision by magnitude, never exponent
// notation (the C++ twin's num() formats identically).
func num(v float64) string {
	a := v
	if a < 0 {
		a = -a
	}
	prec := 3
	if a >= 100 {
		prec = 1
	} else if a >= 1 {
		prec = 2
	}
	return strconv.FormatFloat(v, 'f', prec, 64)
}

// reportTiming runs one warm-up and reps measured repetitions of once (which
// returns the per-repetition value in unit) and prints the RESULT line.
func reportTiming(name, unit string, reps int, once func() float64) {
	once() // warm-up: stack pools, heap arenas, worker threads
	samples := make([]float64, 0, reps)
	for i := 0; i < reps; i++ {
		samples = append(samples, once())
	}
	printResult(name, unit, samples)
}

// printResult prints `RESULT <name> <median> <unit> min=<min> reps=<R>
// samples=<...>`.
func printResult(name, unit string, samples []float64) {
	reps := len(samples)
	sorted := append([]float64(nil), samples...)
	sort.Float64s(sorted)
	n := len(sorted)
	median := sorted[n/2]
	if n%2 == 0 {
		median = (sorted[n/2-1] + sorted[n/2]) / 2
	}
	s := make([]string, n)
	for i, v := range samples {
		s[i] = num(v)
	}
	fmt.Printf("RESULT %s %s %s min=%s reps=%d samples=%s\n", name, num(median), unit, num(sorted[0]),
		reps, strings.Join(s, ","))
}

// spawn: the main goroutine runs `wg.Add(1); go fn()` N times, fn being
// `wg.Done()`, then wg.Wait(). Value: elapsed wall time / N, in ns per goroutine.
func spawnOnce(n int64) float64 {
	var wg sync.WaitGroup
	t0 := time.Now()
	for i := int64(0); i < n; i++ {
		wg.Add(1)
		go func() { wg.Done() }()
	}
	wg.Wait()
	return float64(time.Since(t0).Nanoseconds()) / float64(n)
}

// yield: two goroutines each call runtime.Gosched() K times; the main
// goroutine waits for both on a WaitGroup. Value: elapsed wall time / (2 K),
// in ns per yield.
func yieldOnce(k int64) float64 {
	var wg sync.WaitGroup
	wg.Add(2)
	t0 := time.Now()
	for g := 0; g < 2; g++ {
		go func() {
			for i := int64(0); i < k; i++ {
				runtime.Gosched()
			}
			wg.Done()
		}()
	}
	wg.Wait()
	return float64(time.Since(t0).Nanoseconds()) / float64(2*k)
}

// skynet: each inner node has a results array of 10 slots and a WaitGroup
// (Add(10)), starts 10 children, waits, sums its slots, writes its parent's
// slot and calls the parent's Done(). Leaves write their number. Value: wall
// time of the whole tree, in ms; the sum is checked.
func skynet(out *int64, parent *sync.WaitGroup, num, size int64) {
	if size == 1 {
		*out = num
		parent.Done()
		return
	}
	var results [10]int64
	var wg sync.WaitGroup
	wg.Add(10)
	sub := size / 10
	for i := int64(0); i < 10; i++ {
		i := i
		go func() { skynet(&results[i], &wg, num+i*sub, sub) }()
	}
	wg.Wait()
	var sum int64
	for _, r := range results {
		sum += r
	}
	*out = sum
	parent.Done()
}

func skynetOnce(leaves int64) float64 {
	result := int64(-1)
	var wg sync.WaitGroup
	wg.Add(1)
	t0 := time.Now()
	go func() { skynet(&result, &wg, 0, leaves) }()
	wg.Wait()
	ms := float64(time.Since(t0).Nanoseconds()) / 1e6
	if want := leaves * (leaves - 1) / 2; result != want {
		fail("skynet: sum %d, want %d", result, want)
	}
	return ms
}

// Channel elements are int, 64 bits wide here; the C++ twin uses
// std::int64_t so that both sides move 8-byte values.

func checkSum(name string, got, want int) {
	if got != want {
		fail("%s: sum %d, want %d", name, got, want)
	}
}

// chanCap is the capacity of the buffered channels in buffered and select2.
const chanCap = 128

// pingpong: goroutine A sends i on ping and receives on pong, K times;
// goroutine B receives on ping and sends the value back on pong, K times.
// Both channels are unbuffered, so every round trip is two rendezvous. A sums
// what comes back (checked), so neither side can skip work. Value: elapsed /
// K, in ns per round trip.
func pingpongOnce(k int) float64 {
	ping := make(chan int)
	pong := make(chan int)
	var wg sync.WaitGroup
	wg.Add(2)
	sum := 0
	t0 := time.Now()
	go func() { // A
		for i := 0; i < k; i++ {
			ping <- i
			sum += <-pong
		}
		wg.Done()
	}()
	go func() { // B
		for i := 0; i < k; i++ {
			pong <- <-ping
		}
		wg.Done()
	}()
	wg.Wait()
	ns := float64(time.Since(t0).Nanoseconds()) / float64(k)
	checkSum("pingpong", sum, k*(k-1)/2)
	return ns
}

// buffered: the producer sends 0..N-1 on a channel of capacity 128 and
// closes it; the consumer receives with for-range until the channel is closed
// and drained, summing (checked). Value: elapsed / N, in ns per message.
func bufferedOnce(n int) float64 {
	ch := make(chan int, chanCap)
	var wg sync.WaitGroup
	wg.Add(2)
	sum := 0
	t0 := time.Now()
	go func() {
		for i := 0; i < n; i++ {
			ch <- i
		}
		close(ch)
		wg.Done()
	}()
	go func() {
		for v := range ch {
			sum += v
		}
		wg.Done()
	}()
	wg.Wait()
	ns := float64(time.Since(t0).Nanoseconds()) / float64(n)
	checkSum("buffered", sum, n*(n-1)/2)
	return ns
}

// select2: producer 1 sends 0..N/2-1 on c1, producer 2 sends N/2..N-1 on c2
// (both capacity 128, never closed); the consumer runs a two-case select
// until it has N values, summing them (checked: a lost or duplicated value on
// either channel changes the sum). N is even. Value: elapsed / N, in ns per
// message.
func select2Once(n int) float64 {
	half := n / 2
	c1 := make(chan int, chanCap)
	c2 := make(chan int, chanCap)
	var wg sync.WaitGroup
	wg.Add(3)
	sum := 0
	t0 := time.Now()
	go func() {
		for i := 0; i < half; i++ {
			c1 <- i
		}
		wg.Done()
	}()
	go func() {
		for i := half; i < 2*half; i++ {
			c2 <- i
		}
		wg.Done()
	}()
	go func() {
		for got := 0; got < n; got++ {
			select {
			case v := <-c1:
				sum += v
			case v := <-c2:
				sum += v
			}
		}
		wg.Done()
	}()
	wg.Wait()
	ns := float64(time.Since(t0).Nanoseconds()) / float64(n)
	checkSum("select2", sum, n*(n-1)/2)
	return ns
}

// afterDelay is the delay of every timer in the after case.
const afterDelay = time.Millisecond

// after: the main goroutine creates N timer channels with time.After(1 ms),
// keeping them in a slice, then receives from each in creation order. Every
// timer must deliver a time at least 1 ms after the start (checked). All N
// are pending at once, so this measures create + fire + receive with a large
// timer heap; the 1 ms wait itself adds at most 1 ms / N to the value (10 ns
// at 100k). Value: elapsed / N, in ns per timer.
func afterOnce(n int) float64 {
	t0 := time.Now()
	chans := make([]<-chan time.Time, 0, n)
	for i := 0; i < n; i++ {
		chans = append(chans, time.After(afterDelay))
	}
	early := 0
	for _, c := range chans {
		v, ok := <-c
		if !ok || v.Sub(t0) < afterDelay {
			early++
		}
	}
	ns := float64(time.Since(t0).Nanoseconds()) / float64(n)
	if early != 0 {
		fail("after: %d timers fired early or not at all", early)
	}
	return ns
}

// rss: reads VmRSS, starts N goroutines that each call started.Done() and
// then block in release.Wait(), waits on started until all N have run, reads
// VmRSS again, prints (after - before) / N in KiB per goroutine, then
// releases them and waits for all to finish.
func rssCase(name string, n int64) {
	var started, release, finished sync.WaitGroup
	release.Add(1)
	started.Add(int(n))
	finished.Add(int(n))
	before := vmRSSKiB()
	t0 := time.Now()
	for i := int64(0); i < n; i++ {
		go func() {
			started.Done()
			release.Wait()
			finished.Done()
		}()
	}
	started.Wait()
	startS := time.Since(t0).Seconds()
	after := vmRSSKiB()
	live := int64(runtime.NumGoroutine())
	t0 = time.Now()
	release.Done()
	finished.Wait()
	releaseS := time.Since(t0).Seconds()
	fmt.Printf("INFO %s n=%d rss_before_kib=%d rss_after_kib=%d goroutines=%d start_s=%.3f release_s=%.3f\n",
		name, n, before, after, live, startS, releaseS)
	if live < n {
		fail("%s: only %d goroutines alive", name, live)
	}
	per := float64(after-before) / float64(n)
	fmt.Printf("RESULT %s %s KiB/goroutine min=%s reps=1 samples=%s\n", name, num(per), num(per), num(per))
}

func isPowerOf10(v int64) bool {
	if v < 1 {
		return false
	}
	for v%10 == 0 {
		v /= 10
	}
	return v == 1
}

func main() {
	which := flag.String("case", "all",
		"spawn|yield|skynet|pingpong|buffered|select2|after|mutex|rwmutex|wgfan|ctxtree|ctxbuild|pool|"+
			"runtime|chan|sync|all|rss100k|rss1m|dump1m1|dump1m2")
	reps := flag.Int("reps", 5, "measured repetitions after one warm-up")
	nFlag := flag.Int64("n", 0, "override the case's size (quick checks only)")
	flag.Parse()
	if *reps < 1 || *nFlag < 0 || flag.NArg() != 0 {
		flag.Usage()
		os.Exit(2)
	}
	fmt.Printf("INFO impl=go maxprocs=%d version=%s\n", runtime.GOMAXPROCS(0), runtime.Version())
	size := func(def int64) int64 {
		if *nFlag > 0 {
			return *nFlag
		}
		return def
	}
	any := false
	// group: "runtime", "chan" or "sync" for timing cases (all in "all"), "" for
	// the RSS and dump cases, which need a fresh process each.
	want := func(c, group string) bool {
		w := *which == c || (group != "" && (*which == group || *which == "all"))
		any = any || w
		return w
	}
	if want("spawn", "runtime") {
		n := size(100000)
		reportTiming("spawn", "ns/goroutine", *reps, func() float64 { return spawnOnce(n) })
	}
	if want("yield", "runtime") {
		k := size(1000000)
		reportTiming("yield", "ns/yield", *reps, func() float64 { return yieldOnce(k) })
	}
	if want("skynet", "runtime") {
		leaves := size(1000000)
		if !isPowerOf10(leaves) {
			fail("skynet: --n must be a power of 10")
		}
		reportTiming("skynet", "ms", *reps, func() float64 { return skynetOnce(leaves) })
	}
	if want("pingpong", "chan") {
		k := int(size(1000000))
		reportTiming("pingpong", "ns/roundtrip", *reps, func() float64 { return pingpongOnce(k) })
	}
	if want("buffered", "chan") {
		n := int(size(2000000))
		reportTiming("buffered", "ns/msg", *reps, func() float64 { return bufferedOnce(n) })
	}
	if want("select2", "chan") {
		n := int(size(2000000)) / 2 * 2 // two producers send n/2 each
		if n < 2 {
			fail("select2: --n must be at least 2")
		}
		reportTiming("select2", "ns/msg", *reps, func() float64 { return select2Once(n) })
	}
	if want("after", "chan") {
		n := int(size(100000))
		reportTiming("after", "ns/timer", *reps, func() float64 { return afterOnce(n) })
	}
	if want("mutex", "sync") {
		k := size(1000000)
		reportTiming("mutex", "ns/lock", *reps, func() float64 { return mutexOnce(k) })
	}
	if want("rwmutex", "sync") {
		k := size(1000000) / 10 * 10 // every 10th iteration writes
		if k < 10 {
			fail("rwmutex: --n must be at least 10")
		}
		reportTiming("rwmutex", "ns/lock", *reps, func() float64 { return rwmutexOnce(k) })
	}
	if want("wgfan", "sync") {
		n := size(1000)
		reportTiming("wgfan", "ns/goroutine", *reps, func() float64 { return wgfanOnce(n) })
	}
	// ctxtree and ctxbuild time two parts of the same work (build a tree of
	// contexts, cancel it); each case reports its part.
	if want("ctxtree", "sync") {
		trees := int(size(50))
		reportTiming("ctxtree", "us/tree", *reps, func() float64 { _, c := ctxTreeOnce(trees); return c })
	}
	if want("ctxbuild", "sync") {
		trees := int(size(50))
		reportTiming("ctxbuild", "ns/context", *reps, func() float64 { b, _ := ctxTreeOnce(trees); return b })
	}
	if want("pool", "sync") {
		j := int(size(25000))
		procs := runtime.GOMAXPROCS(0)
		fmt.Printf("INFO pool workers=%d submitters=%d jobs_per_submitter=%d\n", procs, 4*procs, j)
		reportTiming("pool", "ns/job", *reps, func() float64 { return poolOnce(procs, j) })
	}
	// The dump cases report two RESULT lines each: <case> (dump time) and
	// <case>probe (the probe's worst latency during the dumps). One per
	// process: each parks its own million goroutines for good.
	if *which == "dump" {
		fail("dump: run dump1m1 and dump1m2 one per process")
	}
	if want("dump1m1", "") {
		dumpCase("dump1m1", 1, *reps, size(1000000))
	}
	if want("dump1m2", "") {
		dumpCase("dump1m2", 2, *reps, size(1000000))
	}
	if want("rss100k", "") {
		rssCase("rss100k", size(100000))
	}
	if want("rss1m", "") {
		rssCase("rss1m", size(1000000))
	}
	if !any {
		fail("unknown case %q", *which)
	}
}
