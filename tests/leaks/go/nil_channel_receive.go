package main

import "sync"

// Cause nil-channel-receive: a delivery loop ranges over a channel that was
// never made.
//
// subscribe makes the updates channel only for buffered subscriptions; the
// unbuffered branch was meant to make an unbuffered channel but forgot, so
// updates stays nil. The delivery goroutine's `for u := range s.updates`
// blocks forever on the nil channel (state "chan receive (nil chan)"), and
// publish silently skips nil channels, so nobody notices.

type priceUpdate struct {
	symbol string
	cents  int64
}

type subscription struct {
	symbol  string
	updates chan priceUpdate
	handler func(priceUpdate)
}

type priceHub struct {
	mu   sync.Mutex
	subs map[string][]*subscription
}

func (p *priceHub) subscribe(symbol string, buffered bool, handler func(priceUpdate)) *subscription {
	s := &subscription{symbol: symbol, handler: handler}
	if buffered {
		s.updates = make(chan priceUpdate, 16)
	}
	// BUG: missing `else { s.updates = make(chan priceUpdate) }`.
	p.mu.Lock()
	p.subs[symbol] = append(p.subs[symbol], s)
	p.mu.Unlock()
	go s.deliver()
	return s
}

// deliver calls the handler for every update until the hub closes updates.
func (s *subscription) deliver() {
	for u := range s.updates {
		s.handler(u)
	}
}

func (p *priceHub) publish(u priceUpdate) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, s := range p.subs[u.symbol] {
		if s.updates == nil {
			continue
		}
		select {
		case s.updates <- u:
		default: // slow subscriber: drop
		}
	}
}

func nilChannelReceive(h *harness) {
	hub := &priceHub{subs: map[string][]*subscription{}}
	var seen int64
	handler := func(u priceUpdate) { seen += u.cents }
	base := h.settle(-1)
	for round := 1; round <= 3; round++ {
		for i := 0; i < 10; i++ {
			hub.subscribe("GOOG", false, handler)
		}
		hub.publish(priceUpdate{symbol: "GOOG", cents: 17000})
		h.snapshot(round, base+10*round)
	}
}
