// Command leakcauses runs one goroutine-leak scenario ("cause") in a real Go
// program and writes goroutine dumps of it, as test fixtures for goro-leaks.
//
//	leakcauses <cause> <outdir>
//
// Every cause starts the same healthy background activity (see
// startBackground), then creates its leak in three rounds. After round k it
// writes <outdir>/snap<k>.txt (goroutine profile, debug=2); after round 3 also
// snap3.debug1.txt (debug=1), snap3.pb.gz (debug=0, gzipped profile.proto) and
// stack3.txt (runtime.Stack(buf, true)). Before every snapshot it waits until
// the number of goroutines is exactly what the round should leave and no
// goroutine is still running, runnable or sleeping (except endless-loop's
// spinners), so the counts in the dumps are exact.
//
// The leaked goroutines are simply abandoned: the program exits 0 after the
// last snapshot.
package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"sort"
	"strings"
	"sync"
	"time"
)

var causes = map[string]func(h *harness){
	"nil-channel-send":                nilChannelSend,
	"nil-channel-receive":             nilChannelReceive,
	"send-no-receiver":                sendNoReceiver,
	"receive-no-sender":               receiveNoSender,
	"producer-consumer-consumer-quit": producerConsumerConsumerQuit,
	"producer-consumer-producer-quit": producerConsumerProducerQuit,
	"mutex-never-unlocked":            mutexNeverUnlocked,
	"waitgroup-mismatch":              waitgroupMismatch,
	"http-body-not-closed":            httpBodyNotClosed,
	"http-client-no-timeout":          httpClientNoTimeout,
	"context-never-cancelled":         contextNeverCancelled,
	"blocked-without-timeout":         blockedWithoutTimeout,
	"endless-loop":                    endlessLoop,
	"healthy":                         healthy,
	"growth":                          growth,
}

func main() {
	if len(os.Args) == 2 && os.Args[1] == "list" {
		names := make([]string, 0, len(causes))
		for name := range causes {
			names = append(names, name)
		}
		sort.Strings(names)
		fmt.Println(strings.Join(names, "\n"))
		return
	}
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: leakcauses <cause> <outdir>\n       leakcauses list")
		os.Exit(2)
	}
	run, ok := causes[os.Args[1]]
	if !ok {
		fmt.Fprintf(os.Stderr, "leakcauses: unknown cause %q (try: leakcauses list)\n", os.Args[1])
		os.Exit(2)
	}
	h := &harness{outdir: os.Args[2]}
	if err := os.MkdirAll(h.outdir, 0o755); err != nil {
		fatalf("%v", err)
	}

	done := make(chan struct{})
	startBackground(done)
	run(h)
	if h.written != 3 {
		fatalf("cause %s wrote %d snapshots, want 3", os.Args[1], h.written)
	}
	// Healthy background goroutines exit on done; the leaked ones are abandoned.
	close(done)
}

// ---------------------------------------------------------------------------
// Healthy background activity, present in every dump. None of it is a leak:
// each goroutine waits in a select that also has a way out (a done channel,
// a timeout), and the number of these goroutines never changes.

type job struct {
	id    int
	reply chan<- int
}

// startBackground starts two queue workers and a metrics ticker loop, all
// labelled component=background (the labels show in debug=1 and debug=0).
func startBackground(done <-chan struct{}) chan<- job {
	jobs := make(chan job)
	pprof.Do(context.Background(), pprof.Labels("component", "background"), func(context.Context) {
		for i := 0; i < 2; i++ {
			go queueWorker(i, jobs, done)
		}
		go metricsLoop(done)
	})
	return jobs
}

// queueWorker serves jobs until done; when the queue is idle for a while it
// wakes up to report that (a timeout, not a leak).
func queueWorker(id int, jobs <-chan job, done <-chan struct{}) {
	for {
		select {
		case j := <-jobs:
			j.reply <- j.id * 2
		case <-time.After(30 * time.Second):
			fmt.Fprintf(os.Stderr, "worker %d: idle\n", id)
		case <-done:
			return
		}
	}
}

// metricsLoop samples the goroutine count every 250ms until done.
func metricsLoop(done <-chan struct{}) {
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	var last int
	for {
		select {
		case <-t.C:
			last = runtime.NumGoroutine()
		case <-done:
			_ = last
			return
		}
	}
}

// ---------------------------------------------------------------------------
// Snapshot harness.

type harness struct {
	outdir   string
	spinning int // goroutines allowed to be running/runnable (endless-loop)
	written  int
}

// settle waits until the program has exactly want goroutines (any number if
// want < 0) and none of them, apart from the caller and h.spinning others, is
// running, runnable or sleeping, twice in a row 20ms apart. It returns the
// goroutine count.
func (h *harness) settle(want int) int {
	deadline := time.Now().Add(2 * time.Second)
	stable := 0
	for {
		n := runtime.NumGoroutine()
		busy := busyGoroutines()
		if (want < 0 || n == want) && busy <= h.spinning {
			stable++
			if stable == 2 {
				return n
			}
		} else {
			stable = 0
		}
		if time.Now().After(deadline) {
			fatalf("did not settle: %d goroutines (want %d), %d busy (allowed %d)\n%s",
				n, want, busy, h.spinning, allStacks())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// busyGoroutines counts the goroutines other than the caller that are not
// blocked: running, runnable, sleeping (time.Sleep) or in a syscall.
func busyGoroutines() int {
	busy := 0
	for i, line := range strings.Split(allStacks(), "\n") {
		if i == 0 || !strings.HasPrefix(line, "goroutine ") {
			continue // the first header is the caller itself
		}
		open := strings.IndexByte(line, '[')
		if open < 0 {
			continue
		}
		state := line[open+1:]
		for _, s := range []string{"running", "runnable", "sleep", "syscall"} {
			if strings.HasPrefix(state, s) {
				busy++
				break
			}
		}
	}
	return busy
}

func allStacks() string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			return string(buf[:n])
		}
		buf = make([]byte, 2*len(buf))
	}
}

// snapshot waits for round's goroutines to block (want goroutines in all)
// and writes the round's dumps.
func (h *harness) snapshot(round, want int) {
	h.settle(want)
	h.writeProfile(fmt.Sprintf("snap%d.txt", round), 2)
	if round == 3 {
		h.writeProfile("snap3.debug1.txt", 1)
		h.writeProfile("snap3.pb.gz", 0)
		if err := os.WriteFile(filepath.Join(h.outdir, "stack3.txt"), []byte(allStacks()), 0o644); err != nil {
			fatalf("%v", err)
		}
	}
	h.written++
}

func (h *harness) writeProfile(name string, debug int) {
	f, err := os.Create(filepath.Join(h.outdir, name))
	if err != nil {
		fatalf("%v", err)
	}
	if err := pprof.Lookup("goroutine").WriteTo(f, debug); err != nil {
		fatalf("%s: %v", name, err)
	}
	if err := f.Close(); err != nil {
		fatalf("%v", err)
	}
}

func fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "leakcauses: "+format+"\n", args...)
	os.Exit(1)
}

// silentBackend accepts connections and keeps them open without ever
// answering (blocked-without-timeout, http-client-no-timeout). Its accept
// loop is a single long-lived goroutine (not a leak).
type silentBackend struct {
	mu    sync.Mutex
	conns []net.Conn
}

func (b *silentBackend) acceptLoop(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		b.mu.Lock()
		b.conns = append(b.conns, c)
		b.mu.Unlock()
	}
}
