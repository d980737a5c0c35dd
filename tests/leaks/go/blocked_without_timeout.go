package main

import (
	"bufio"
	"fmt"
	"net"
)

// Cause blocked-without-timeout: a network read with no deadline.
//
// probe dials a backend and waits for its status line, with no read deadline
// (conn.SetReadDeadline) and no context. The backend here accepts connections
// but never writes (stuck, or a protocol mismatch where both sides wait for
// the other to speak first), so every probe goroutine stays in IO wait
// forever, holding its connection.

func probe(addr string) (string, error) {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	// BUG: missing conn.SetDeadline(time.Now().Add(2 * time.Second)).
	if _, err := fmt.Fprintf(conn, "STATUS\r\n"); err != nil {
		return "", err
	}
	return bufio.NewReader(conn).ReadString('\n')
}

func blockedWithoutTimeout(h *harness) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fatalf("blocked-without-timeout: %v", err)
	}
	go (&silentBackend{}).acceptLoop(ln)
	addr := ln.Addr().String()
	base := h.settle(-1)
	for round := 1; round <= 3; round++ {
		for i := 0; i < 10; i++ {
			go func() {
				if _, err := probe(addr); err != nil {
					fatalf("blocked-without-timeout: %v", err)
				}
			}()
		}
		h.snapshot(round, base+10*round)
	}
}
