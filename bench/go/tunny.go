// The Go twin of the pool case: a goroutine pool written the way
// github.com/Jeffail/tunny is (tunny.go and worker.go at its master branch,
// MIT licence, Copyright (c) 2014 Ashley Jeffs), reproduced here because the
// harness builds offline with the standard library only. Kept: the Worker
// interface, closureWorker, one workerWrapper goroutine per worker offering
// a workRequest{jobChan, retChan, interruptFunc} on the pool's unbuffered
// reqChan inside a select with closeChan, the nested selects with
// interruptChan, Process's `req := <-reqChan; req.jobChan <- payload;
// return <-req.retChan` with the queuedJobs counter, SetSize and Close.
// Left out: ProcessTimed, ProcessCtx, NewCallback, QueueLength (unused here).
// Payloads and results are interface{} as in tunny.
package main

import (
	"errors"
	"sync"
	"sync/atomic"
	"time"
)

var (
	errPoolNotRunning = errors.New("the pool is not running")
	errWorkerClosed   = errors.New("worker was closed")
)

// tunnyWorker is tunny's Worker interface.
type tunnyWorker interface {
	Process(interface{}) interface{}
	BlockUntilReady()
	Interrupt()
	Terminate()
}

// closureWorker is tunny's closureWorker: it wraps a func.
type closureWorker struct {
	processor func(interface{}) interface{}
}

func (w *closureWorker) Process(payload interface{}) interface{} { return w.processor(payload) }
func (w *closureWorker) BlockUntilReady()                        {}
func (w *closureWorker) Interrupt()                              {}
func (w *closureWorker) Terminate()                              {}

// workRequest is a worker's offer to take one payload.
type workRequest struct {
	jobChan       chan<- interface{}
	retChan       <-chan interface{}
	interruptFunc func()
}

// workerWrapper runs one worker in its own goroutine.
type workerWrapper struct {
	worker        tunnyWorker
	interruptChan chan struct{}
	reqChan       chan<- workRequest
	closeChan     chan struct{}
	closedChan    chan struct{}
}

func newWorkerWrapper(reqChan chan<- workRequest, worker tunnyWorker) *workerWrapper {
	w := workerWrapper{
		worker:        worker,
		interruptChan: make(chan struct{}),
		reqChan:       reqChan,
		closeChan:     make(chan struct{}),
		closedChan:    make(chan struct{}),
	}
	go w.run()
	return &w
}

func (w *workerWrapper) interrupt() {
	close(w.interruptChan)
	w.worker.Interrupt()
}

func (w *workerWrapper) run() {
	jobChan, retChan := make(chan interface{}), make(chan interface{})
	defer func() {
		w.worker.Terminate()
		close(retChan)
		close(w.closedChan)
	}()
	for {
		w.worker.BlockUntilReady()
		select {
		case w.reqChan <- workRequest{
			jobChan:       jobChan,
			retChan:       retChan,
			interruptFunc: w.interrupt,
		}:
			select {
			case payload := <-jobChan:
				result := w.worker.Process(payload)
				select {
				case retChan <- result:
				case <-w.interruptChan:
					w.interruptChan = make(chan struct{})
				}
			case <-w.interruptChan:
				w.interruptChan = make(chan struct{})
			}
		case <-w.closeChan:
			return
		}
	}
}

func (w *workerWrapper) stop() { close(w.closeChan) }
func (w *workerWrapper) join() { <-w.closedChan }

// tunnyPool is tunny's Pool.
type tunnyPool struct {
	queuedJobs int64
	ctor       func() tunnyWorker
	workers    []*workerWrapper
	reqChan    chan workRequest
	workerMut  sync.Mutex
}

func newTunnyPool(n int, ctor func() tunnyWorker) *tunnyPool {
	p := &tunnyPool{ctor: ctor, reqChan: make(chan workRequest)}
	p.SetSize(n)
	return p
}

// newTunnyFunc is tunny.NewFunc.
func newTunnyFunc(n int, f func(interface{}) interface{}) *tunnyPool {
	return newTunnyPool(n, func() tunnyWorker { return &closureWorker{processor: f} })
}

// Process is tunny's Pool.Process.
func (p *tunnyPool) Process(payload interface{}) interface{} {
	atomic.AddInt64(&p.queuedJobs, 1)
	request, open := <-p.reqChan
	if !open {
		panic(errPoolNotRunning)
	}
	request.jobChan <- payload
	payload, open = <-request.retChan
	if !open {
		panic(errWorkerClosed)
	}
	atomic.AddInt64(&p.queuedJobs, -1)
	return payload
}

// SetSize is tunny's Pool.SetSize.
func (p *tunnyPool) SetSize(n int) {
	p.workerMut.Lock()
	defer p.workerMut.Unlock()
	lWorkers := len(p.workers)
	if lWorkers == n {
		return
	}
	for i := lWorkers; i < n; i++ {
		p.workers = append(p.workers, newWorkerWrapper(p.reqChan, p.ctor()))
	}
	for i := n; i < lWorkers; i++ {
		p.workers[i].stop()
	}
	for i := n; i < lWorkers; i++ {
		p.workers[i].join()
		p.workers[i] = nil
	}
	p.workers = p.workers[:n]
}

// Close is tunny's Pool.Close.
func (p *tunnyPool) Close() {
	p.SetSize(0)
	close(p.reqChan)
}

// poolHashInts is how many integers one job hashes.
const poolHashInts = 64

// poolWork is one job's computation (the C++ twin's pool_work): an
// FNV-1a-style hash, word by word, of the 64 integers mix64(x*64 + i).
// Deterministic, so the caller can check every result.
func poolWork(x int) uint64 {
	h := uint64(14695981039346656037)
	base := uint64(x) * poolHashInts
	for i := uint64(0); i < poolHashInts; i++ {
		h ^= mix64(base + i)
		h *= 1099511628211
	}
	return h
}

// pool: a tunny pool of P workers (P = GOMAXPROCS), each running poolWork on
// its payload; M = 4 P submitter goroutines each call Process(x) J times
// (submitter s sends x = s*J + j) and add up the results; the main goroutine
// waits for them on a WaitGroup. The total must equal the sum of poolWork
// over all M J payloads computed directly (checked, untimed). The pool is
// created before and closed after the timed part. Value: elapsed / (M J), in
// ns per job.
func poolOnce(procs int, j int) float64 {
	m := 4 * procs
	pool := newTunnyFunc(procs, func(payload interface{}) interface{} {
		return poolWork(payload.(int))
	})
	sums := make([]uint64, m)
	var wg sync.WaitGroup
	wg.Add(m)
	t0 := time.Now()
	for s := 0; s < m; s++ {
		s := s
		go func() {
			var sum uint64
			for i := 0; i < j; i++ {
				sum += pool.Process(s*j + i).(uint64)
			}
			sums[s] = sum
			wg.Done()
		}()
	}
	wg.Wait()
	ns := float64(time.Since(t0).Nanoseconds()) / float64(m*j)
	pool.Close()
	var got, want uint64
	for _, v := range sums {
		got += v
	}
	for x := 0; x < m*j; x++ {
		want += poolWork(x)
	}
	if got != want {
		fail("pool: sum of results %d, want %d", got, want)
	}
	return ns
}
