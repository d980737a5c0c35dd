// leaksbench parks many goroutines in many distinct stacks, then writes
// their goroutine profile in the three formats Go serves (debug=0
// profile.proto gzipped, debug=1 text, debug=2 text) for bench/leaks/run.sh
// to feed to goro-leaks and to `go tool pprof`.
//
//	go run . -goroutines 200000 -stacks 2000 -out DIR [-formats 0,1,2]
//
// Goroutine i runs stack s = i % stacks. Stack s is a distinct call path:
// worker, pprof.Do and its closure (one stack in four carries labels), then
// a recursion 5..20 frames deep through four functions (serve,
// (*router).dispatch, decode, (*client).retry) chosen digit by digit, then
// one of ten blocking leaves (channel receive and send, select, select{},
// Mutex, RWMutex, WaitGroup, Cond, time.Sleep, nil channel). The leaf, the
// depth and the innermost five choices identify s, so the stacks are
// pairwise distinct (up to 10*16*1024 of them) and stay distinct in the
// goroutine profile, which keeps a stack's innermost 32 frames.
//
// The debug=2 file is runtime.Stack(buf, true), which is exactly what
// pprof.Lookup("goroutine").WriteTo(w, 2) writes, except that WriteTo stops
// at 64 MiB; here the buffer grows until the whole dump fits.
//
// One INFO line per file goes to stderr:
//
//	INFO dump debug=2 bytes=312345678 seconds=4.321 file=DIR/goroutine.debug2.txt
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

const (
	kinds     = 10
	minDepth  = 5
	depths    = 16 // depth is minDepth .. minDepth+depths-1
	idDigits  = 5  // innermost choices that encode the stack index
	maxStacks = kinds * depths * (1 << (2 * idDigits))
)

var kindNames = [kinds]string{
	"chan-recv", "chan-send", "select", "select-forever", "mutex",
	"rwmutex", "waitgroup", "cond", "sleep", "nil-chan",
}

type plan struct {
	digits  []uint8 // outermost first; 0..3 picks the next function
	kind    int
	labeled bool
	labels  pprof.LabelSet
}

// The things goroutines block on; none is ever released.
var (
	parked    atomic.Int64
	recvCh    = make(chan int)
	sendCh    = make(chan int)
	selA      = make(chan int)
	selB      = make(chan int)
	mu        sync.Mutex
	rw        sync.RWMutex
	wg        sync.WaitGroup
	condMu    sync.Mutex
	cond      = sync.NewCond(&condMu)
	nilCh     chan int
	sinkValue int
)

func mix(x uint64) uint64 { // splitmix64 finaliser
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

func makePlan(s int) *plan {
	kind := s % kinds
	r := s / kinds
	depth := minDepth + r%depths
	q := r / depths // < 4^idDigits
	digits := make([]uint8, depth)
	h := mix(uint64(s))
	for j := 0; j < depth; j++ {
		var d uint8
		if j < idDigits {
			d = uint8(q>>(2*j)) & 3
		} else {
			d = uint8(h>>(2*(j%32))) & 3
		}
		digits[depth-1-j] = d // j counts from the leaf
	}
	p := &plan{digits: digits, kind: kind, labeled: s%4 == 0}
	if p.labeled {
		p.labels = pprof.Labels("handler", "h"+strconv.Itoa(s%16), "kind", kindNames[kind])
	}
	return p
}

func worker(p *plan) {
	if p.labeled {
		pprof.Do(context.Background(), p.labels, func(context.Context) { enter(p) })
		return
	}
	enter(p)
}

//go:noinline
func enter(p *plan) {
	switch p.digits[0] {
	case 0:
		serve(p, 1)
	case 1:
		(&router{}).dispatch(p, 1)
	case 2:
		decode(p, 1)
	default:
		(&client{}).retry(p, 1)
	}
}

// Each of the four calls the function that digit i names from its own call
// sites, so the path shows in PCs, in lines and in names; frame i+1 of the
// recursion is the function digit i names.
type router struct{ n int }
type client struct{ n int }

//go:noinline
func serve(p *plan, i int) {
	if i == len(p.digits) {
		park(p)
		return
	}
	switch p.digits[i] {
	case 0:
		serve(p, i+1)
	case 1:
		(&router{}).dispatch(p, i+1)
	case 2:
		decode(p, i+1)
	default:
		(&client{}).retry(p, i+1)
	}
	sinkValue++
}

//go:noinline
func (r *router) dispatch(p *plan, i int) {
	if i == len(p.digits) {
		park(p)
		return
	}
	switch p.digits[i] {
	case 0:
		serve(p, i+1)
	case 1:
		r.dispatch(p, i+1)
	case 2:
		decode(p, i+1)
	default:
		(&client{}).retry(p, i+1)
	}
	r.n++
}

//go:noinline
func decode(p *plan, i int) {
	if i == len(p.digits) {
		park(p)
		return
	}
	switch p.digits[i] {
	case 0:
		serve(p, i+1)
	case 1:
		(&router{}).dispatch(p, i+1)
	case 2:
		decode(p, i+1)
	default:
		(&client{}).retry(p, i+1)
	}
	sinkValue--
}

//go:noinline
func (c *client) retry(p *plan, i int) {
	if i == len(p.digits) {
		park(p)
		return
	}
	switch p.digits[i] {
	case 0:
		serve(p, i+1)
	case 1:
		(&router{}).dispatch(p, i+1)
	case 2:
		decode(p, i+1)
	default:
		c.retry(p, i+1)
	}
	c.n--
}

func park(p *plan) {
	switch p.kind {
	case 0:
		waitRecv()
	case 1:
		waitSend()
	case 2:
		waitSelect()
	case 3:
		waitForever()
	case 4:
		waitMutex()
	case 5:
		waitRLock()
	case 6:
		waitGroup()
	case 7:
		waitCond()
	case 8:
		waitSleep()
	default:
		waitNilChan()
	}
}

//go:noinline
func waitRecv() { parked.Add(1); <-recvCh }

//go:noinline
func waitSend() { parked.Add(1); sendCh <- 1 }

//go:noinline
func waitSelect() {
	parked.Add(1)
	select {
	case <-selA:
	case selB <- 1:
	}
}

//go:noinline
func waitForever() { parked.Add(1); select {} }

//go:noinline
func waitMutex() { parked.Add(1); mu.Lock() }

//go:noinline
func waitRLock() { parked.Add(1); rw.RLock() }

//go:noinline
func waitGroup() { parked.Add(1); wg.Wait() }

//go:noinline
func waitCond() {
	condMu.Lock()
	parked.Add(1)
	cond.Wait()
}

//go:noinline
func waitSleep() { parked.Add(1); time.Sleep(240 * time.Hour) }

//go:noinline
func waitNilChan() { parked.Add(1); <-nilCh }

func info(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "INFO "+format+"\n", args...)
}

func writeProfile(path string, debug int) (int64, error) {
	f, err := os.Create(path)
	if err != nil {
		return 0, err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	if err := pprof.Lookup("goroutine").WriteTo(w, debug); err != nil {
		f.Close()
		return 0, err
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return 0, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return 0, err
	}
	return st.Size(), f.Close()
}

// writeStackAll writes runtime.Stack(all): the debug=2 format, untruncated.
func writeStackAll(path string, goroutines int) (int64, error) {
	size := goroutines*3000 + (1 << 20)
	var buf []byte
	for {
		buf = make([]byte, size)
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = nil
		size *= 2
	}
	if err := os.WriteFile(path, buf, 0o644); err != nil {
		return 0, err
	}
	return int64(len(buf)), nil
}

func main() {
	goroutines := flag.Int("goroutines", 200000, "goroutines to park")
	stacks := flag.Int("stacks", 2000, fmt.Sprintf("distinct stacks (1..%d)", maxStacks))
	out := flag.String("out", "dumps", "output directory")
	formats := flag.String("formats", "0,1,2", "which dumps to write: debug levels 0, 1, 2, comma-separated")
	flag.Parse()
	if *stacks < 1 || *stacks > maxStacks || *goroutines < 1 {
		fmt.Fprintf(os.Stderr, "leaksbench: need 1 <= -stacks <= %d and -goroutines >= 1\n", maxStacks)
		os.Exit(2)
	}
	if *goroutines < *stacks {
		fmt.Fprintln(os.Stderr, "leaksbench: -goroutines < -stacks: only", *goroutines, "stacks are used")
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, "leaksbench:", err)
		os.Exit(1)
	}

	mu.Lock()
	rw.Lock()
	wg.Add(1)
	plans := make([]*plan, *stacks)
	for s := range plans {
		plans[s] = makePlan(s)
	}

	start := time.Now()
	for i := 0; i < *goroutines; i++ {
		go worker(plans[i%*stacks])
	}
	for parked.Load() < int64(*goroutines) {
		time.Sleep(5 * time.Millisecond)
	}
	// Every goroutine has counted itself and is a few instructions from
	// parking; let the stragglers get there.
	time.Sleep(300 * time.Millisecond)
	runtime.GC()
	info("parked goroutines=%d stacks=%d seconds=%.3f", *goroutines, *stacks, time.Since(start).Seconds())

	for _, f := range strings.Split(*formats, ",") {
		var path string
		var n int64
		var err error
		t := time.Now()
		switch strings.TrimSpace(f) {
		case "0":
			path = filepath.Join(*out, "goroutine.debug0.pb.gz")
			n, err = writeProfile(path, 0)
		case "1":
			path = filepath.Join(*out, "goroutine.debug1.txt")
			n, err = writeProfile(path, 1)
		case "2":
			path = filepath.Join(*out, "goroutine.debug2.txt")
			n, err = writeStackAll(path, *goroutines)
		default:
			fmt.Fprintf(os.Stderr, "leaksbench: unknown format %q (want 0, 1 or 2)\n", f)
			os.Exit(2)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "leaksbench:", err)
			os.Exit(1)
		}
		info("dump debug=%s bytes=%d seconds=%.3f file=%s", strings.TrimSpace(f), n, time.Since(t).Seconds(), path)
	}
	os.Exit(0)
}
