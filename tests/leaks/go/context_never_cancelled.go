package main

import (
	"context"
	"errors"
)

// Cause context-never-cancelled: a context.WithCancel whose cancel is never
// called.
//
// openSession derives a cancellable context and starts a watcher that
// releases the session's resources when the context ends; the cancel func is
// stored in the session, to be called by Close. handleLogin closes the
// session on success but returns on the error path without Close (the fix is
// `defer s.Close()` right after openSession), so cancel is lost. The context
// derives from Background and has no deadline, so the watcher waits forever
// in its select (state "select").

type session struct {
	id     int
	cancel context.CancelFunc
	flush  chan struct{}
	bytes  int
}

func openSession(id int) *session {
	ctx, cancel := context.WithCancel(context.Background())
	s := &session{id: id, cancel: cancel, flush: make(chan struct{})}
	go s.watch(ctx)
	return s
}

func (s *session) Close() { s.cancel() }

// watch flushes the session on request and releases it when ctx ends.
func (s *session) watch(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			s.bytes = 0
			return
		case <-s.flush:
			s.bytes = 0
		}
	}
}

var errBadPassword = errors.New("bad password")

func handleLogin(id int, password string) error {
	s := openSession(id)
	if password != "hunter2" {
		return errBadPassword // BUG: s.Close() is never called on this path
	}
	s.bytes = len(password)
	s.Close()
	return nil
}

func contextNeverCancelled(h *harness) {
	failed := 0
	base := h.settle(-1)
	for round := 1; round <= 3; round++ {
		for i := 0; i < 15; i++ {
			password := "hunter2"
			if i%3 != 0 {
				password = "letmein" // 10 of 15 logins fail
			}
			if err := handleLogin(round*100+i, password); err != nil {
				failed++
			}
		}
		h.snapshot(round, base+10*round)
	}
	if failed != 30 {
		fatalf("context-never-cancelled: %d logins failed, want 30", failed)
	}
}
