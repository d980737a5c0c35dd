package main

import (
	"fmt"
	"time"
)

// Cause nil-channel-send: goroutines send on a channel that was never made.
//
// auditLog is meant to be built by newAuditLog, which makes the events
// channel and starts the goroutine that drains it. The request handler below
// builds it as a struct literal instead (&auditLog{}), so events is nil. A
// send on a nil channel blocks forever: every deletion leaves one goroutine
// stuck in record, in state "chan send (nil chan)".

type auditEvent struct {
	user   string
	action string
	at     time.Time
}

type auditLog struct {
	events chan auditEvent // nil unless made by newAuditLog
	n      int
}

func newAuditLog() *auditLog {
	l := &auditLog{events: make(chan auditEvent, 64)}
	go l.drain()
	return l
}

func (l *auditLog) drain() {
	for range l.events {
		l.n++
	}
}

// record hands the event to the audit writer. It runs in its own goroutine
// so that a slow audit writer never delays a request.
func (l *auditLog) record(ev auditEvent) {
	l.events <- ev // blocks forever: l.events is nil
}

type itemStore struct {
	audit *auditLog
	items map[int]string
}

func (s *itemStore) handleDelete(user string, id int) {
	delete(s.items, id)
	go s.audit.record(auditEvent{user: user, action: fmt.Sprintf("delete item %d", id), at: time.Now()})
}

func nilChannelSend(h *harness) {
	// BUG: should be newAuditLog(); the zero auditLog has a nil events channel.
	store := &itemStore{audit: &auditLog{}, items: map[int]string{}}
	base := h.settle(-1)
	for round := 1; round <= 3; round++ {
		for i := 0; i < 10; i++ {
			id := round*100 + i
			store.items[id] = "x"
			store.handleDelete("alice", id)
		}
		h.snapshot(round, base+10*round)
	}
}
