// The "dump" group's Go twins of dump1m1 and dump1m2 (goro_bench.cc has the
// C++ side; docs/performance.md says what each case measures).
package main

import (
	"bytes"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// dump1m1, dump1m2: the goroutine profile of a million parked goroutines.
// Setup (untimed): the main goroutine locks a Mutex it never unlocks and
// starts N goroutines (default 1,000,000), goroutine i taking shape i % 10:
//
//	0-3  recv:   dumpRecvWorker -> dumpRecvServe -> dumpRecvWait, receiving
//	             from an unbuffered channel nobody sends on;
//	4-5  send:   dumpSendWorker -> dumpSendEmit, sending on an unbuffered
//	             channel nobody receives from;
//	6-7  mutex:  dumpLockWorker -> dumpLockUpdate, locking the Mutex;
//	8-9  select: dumpSelectWorker -> dumpSelectPoll -> dumpSelectWait, a
//	             two-case select receiving from two channels nobody sends on.
//
// Every function is noinline, so each frame shows; the innermost calls
// started.Done() just before blocking and the main goroutine waits on
// started. So the dump sees four distinct stacks (debug=1: four groups plus
// main and the probe).
// Timed: pprof.Lookup("goroutine").WriteTo(w, debug) into an io.Writer that
// discards everything and counts bytes. Value: wall time of one dump, in ms.
// (Go 1.19's debug=2 is runtime.Stack(buf, true) with the buffer doubled
// from 1 MiB while full, up to 64 MiB: exactly 64 MiB of output means Go
// truncated the dump.)
// Meanwhile a probe goroutine loops time.Sleep(1 ms); each wake-up's gap
// beyond the 1 ms it asked for is its scheduling latency. Second value
// (RESULT <case>probe, ms): the largest latency of a wake-up during the dump,
// including the first wake-up after it ends (a gap that spans the end of the
// dump began during it): a probe that could not run during the dump shows
// the whole dump as its latency. After the debug=2 reps, one INFO line
// times a complete dump (stackAllOnce). The warm-up dump also counts the
// "goroutine " lines that start blocks (debug=2) and keeps the first line
// (debug=1's total); INFO lines report output bytes, that count and the
// probe's wake-ups during the dump. The goroutines are abandoned at exit, as
// in the C++ twin.
type dumpShape struct {
	recvCh  chan int // never sent on
	sendCh  chan int // never received from
	selA    chan int // never sent on
	selB    chan int // never sent on
	mu      sync.Mutex
	started sync.WaitGroup
}

//go:noinline
func dumpRecvWait(s *dumpShape) int {
	s.started.Done()
	return <-s.recvCh
}

//go:noinline
func dumpRecvServe(s *dumpShape) int {
	return dumpRecvWait(s) + 1
}

//go:noinline
func dumpRecvWorker(s *dumpShape) {
	dumpRecvServe(s)
}

//go:noinline
func dumpSendEmit(s *dumpShape, v int) {
	s.started.Done()
	s.sendCh <- v
}

//go:noinline
func dumpSendWorker(s *dumpShape, v int) {
	dumpSendEmit(s, v)
}

//go:noinline
func dumpLockUpdate(s *dumpShape, counter *int) {
	s.started.Done()
	s.mu.Lock()
	*counter++
	s.mu.Unlock()
}

//go:noinline
func dumpLockWorker(s *dumpShape, counter *int) {
	dumpLockUpdate(s, counter)
}

//go:noinline
func dumpSelectWait(s *dumpShape) int {
	s.started.Done()
	got := 0
	select {
	case v := <-s.selA:
		got = v
	case v := <-s.selB:
		got = -v
	}
	return got
}

//go:noinline
func dumpSelectPoll(s *dumpShape) int {
	return dumpSelectWait(s) * 2
}

//go:noinline
func dumpSelectWorker(s *dumpShape) {
	dumpSelectPoll(s)
}

//go:noinline
func dumpSpawn(s *dumpShape, counter *int, n int64) {
	s.started.Add(int(n))
	for i := int64(0); i < n; i++ {
		switch i % 10 {
		case 0, 1, 2, 3:
			go dumpRecvWorker(s)
		case 4, 5:
			go dumpSendWorker(s, int(i))
		case 6, 7:
			go dumpLockWorker(s, counter)
		default:
			go dumpSelectWorker(s)
		}
	}
	s.started.Wait()
}

// countingWriter discards its input and counts it. With scan set it also
// counts lines starting with "goroutine " and keeps the first line (slow:
// byte by byte; the warm-up only).
type countingWriter struct {
	scan      bool
	bytes     int64
	lines     int64
	matched   int // of "\ngoroutine "; 1 at the start: a line start
	first     strings.Builder
	firstDone bool
}

const goroutineWord = "\ngoroutine "

func (w *countingWriter) Write(p []byte) (int, error) {
	w.bytes += int64(len(p))
	if !w.scan {
		return len(p), nil
	}
	for _, c := range p {
		if !w.firstDone {
			if c == '\n' {
				w.firstDone = true
			} else {
				w.first.WriteByte(c)
			}
		}
		if c == goroutineWord[w.matched] {
			w.matched++
			if w.matched == len(goroutineWord) {
				w.lines++
				w.matched = 0
			}
		} else if c == '\n' {
			w.matched = 1
		} else {
			w.matched = 0
		}
	}
	return len(p), nil
}

// probe is the probe goroutine's state; see dumpCase. The probe writes
// maxGapNs and wakeups before it publishes lastWakeNs, so a reader that has
// seen lastWakeNs >= t sees every wake-up up to t counted (sync/atomic is
// sequentially consistent).
type probe struct {
	active     atomic.Bool
	stop       atomic.Bool
	lastWakeNs atomic.Int64
	maxGapNs   atomic.Int64
	wakeups    atomic.Int64
	finished   sync.WaitGroup
}

const probeSleep = time.Millisecond

// monoNs is nanoseconds on the monotonic clock since the process started
// (time.Since reads the monotonic clock).
var monoStart = time.Now()

func monoNs() int64 { return int64(time.Since(monoStart)) }

func probeLoop(p *probe) {
	prev := monoNs()
	for !p.stop.Load() {
		time.Sleep(probeSleep)
		t := monoNs()
		if p.active.Load() {
			gap := t - prev - int64(probeSleep)
			if gap > p.maxGapNs.Load() {
				p.maxGapNs.Store(gap)
			}
			p.wakeups.Add(1)
		}
		p.lastWakeNs.Store(t)
		prev = t
	}
	p.finished.Done()
}

type dumpSample struct {
	ms, probeMs float64
	wakeups     int64
	bytes       int64
}

func dumpOnce(p *probe, debug int, w *countingWriter) dumpSample {
	prof := pprof.Lookup("goroutine")
	p.maxGapNs.Store(0)
	p.wakeups.Store(0)
	p.active.Store(true)
	t0 := monoNs()
	if err := prof.WriteTo(w, debug); err != nil {
		fail("dump: WriteTo: %v", err)
	}
	t1 := monoNs()
	during := p.wakeups.Load()
	// The first wake-up after the dump: its gap began during the dump.
	for p.lastWakeNs.Load() < t1 {
		time.Sleep(100 * time.Microsecond)
	}
	p.active.Store(false)
	return dumpSample{float64(t1-t0) / 1e6, float64(p.maxGapNs.Load()) / 1e6, during, w.bytes}
}

// stackAllOnce reports (INFO only) what a complete debug=2 dump costs Go:
// one runtime.Stack(buf, true) into a 1 GiB buffer, so nothing is cut off
// and nothing is retried (WriteTo's debug=2 retries with a doubled buffer,
// each try a full stop-the-world walk, and stops at 64 MiB).
func stackAllOnce(name string, p *probe) {
	buf := make([]byte, 1<<30)
	p.maxGapNs.Store(0)
	p.wakeups.Store(0)
	p.active.Store(true)
	t0 := monoNs()
	n := runtime.Stack(buf, true)
	t1 := monoNs()
	during := p.wakeups.Load()
	for p.lastWakeNs.Load() < t1 {
		time.Sleep(100 * time.Microsecond)
	}
	p.active.Store(false)
	lines := int64(bytes.Count(buf[:n], []byte(goroutineWord)))
	if bytes.HasPrefix(buf, []byte(goroutineWord[1:])) {
		lines++
	}
	fmt.Printf("INFO %s stack_all_1gib_ms=%s bytes=%d goroutine_lines=%d complete=%t probe_max_ms=%s "+
		"probe_wakeups=%d rss_kib=%d\n", name, num(float64(t1-t0)/1e6), n, lines, n < len(buf),
		num(float64(p.maxGapNs.Load())/1e6), during, vmRSSKiB())
}

func dumpCase(name string, debug, reps int, n int64) {
	shape := &dumpShape{
		recvCh: make(chan int), sendCh: make(chan int), selA: make(chan int), selB: make(chan int),
	}
	counter := 0
	shape.mu.Lock()
	t0 := time.Now()
	dumpSpawn(shape, &counter, n)
	setupS := time.Since(t0).Seconds()
	p := &probe{}
	p.finished.Add(1)
	go probeLoop(p)
	time.Sleep(10 * time.Millisecond) // let the probe start its loop
	fmt.Printf("INFO %s n=%d goroutines=%d setup_s=%.3f rss_kib=%d\n", name, n, runtime.NumGoroutine(), setupS,
		vmRSSKiB())

	// Warm-up, which also checks what was written.
	scan := &countingWriter{scan: true, matched: 1}
	w := dumpOnce(p, debug, scan)
	fmt.Printf("INFO %s warmup_ms=%s bytes=%d goroutine_lines=%d first_line=%q probe_max_ms=%s "+
		"probe_wakeups=%d rss_kib=%d\n", name, num(w.ms), w.bytes, scan.lines, scan.first.String(),
		num(w.probeMs), w.wakeups, vmRSSKiB())
	ms := make([]float64, 0, reps)
	probeMs := make([]float64, 0, reps)
	wk := make([]string, 0, reps)
	by := make([]string, 0, reps)
	for i := 0; i < reps; i++ {
		s := dumpOnce(p, debug, &countingWriter{})
		ms = append(ms, s.ms)
		probeMs = append(probeMs, s.probeMs)
		wk = append(wk, strconv.FormatInt(s.wakeups, 10))
		by = append(by, strconv.FormatInt(s.bytes, 10))
	}
	ps := make([]string, len(probeMs))
	for i, v := range probeMs {
		ps[i] = num(v)
	}
	fmt.Printf("INFO %s bytes=%s probe_wakeups=%s probe_ms=%s rss_kib=%d\n", name,
		strings.Join(by, ","), strings.Join(wk, ","), strings.Join(ps, ","), vmRSSKiB())
	printResult(name, "ms", ms)
	printResult(name+"probe", "ms", probeMs)
	if debug == 2 {
		stackAllOnce(name, p)
	}
	p.stop.Store(true)
	p.finished.Wait()
	os.Stdout.Sync()
}
