package main

import (
	"context"
	"time"
)

// Cause none: no leak at all.
//
// Besides the common background (queue workers, metrics ticker), a worker
// pool of 4 waits for jobs in a select that also watches a context with a
// timeout, a cache janitor runs on a ticker until the same context ends, and
// a request waiter waits for a reply with a time.After timeout. Their number
// is the same in every snapshot; an analyzer must flag nothing.

type thumbJob struct {
	id    int
	reply chan<- int
}

func poolWorker(ctx context.Context, jobs <-chan thumbJob) {
	for {
		select {
		case j := <-jobs:
			j.reply <- j.id * j.id
		case <-ctx.Done():
			return
		}
	}
}

func cacheJanitor(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	evicted := 0
	for {
		select {
		case <-t.C:
			evicted++
		case <-ctx.Done():
			return
		}
	}
}

// awaitReply waits for an answer for at most a minute.
func awaitReply(reply <-chan int, got chan<- bool) {
	select {
	case <-reply:
		got <- true
	case <-time.After(time.Minute):
		got <- false
	}
}

func healthy(h *harness) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	jobs := make(chan thumbJob)
	for i := 0; i < 4; i++ {
		go poolWorker(ctx, jobs)
	}
	go cacheJanitor(ctx, 300*time.Millisecond)
	go awaitReply(make(chan int), make(chan bool, 1))
	replies := make(chan int, 20)
	base := h.settle(-1)
	for round := 1; round <= 3; round++ {
		for i := 0; i < 20; i++ {
			jobs <- thumbJob{id: i, reply: replies}
		}
		for i := 0; i < 20; i++ {
			<-replies
		}
		h.snapshot(round, base)
	}
}
