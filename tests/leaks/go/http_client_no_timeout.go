package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
)

// Cause http-client-no-timeout: an http.Client without Timeout calling a
// server that never answers.
//
// quoteClient uses &http.Client{} (no Timeout) and requests without a
// deadline context. The upstream here accepts TCP connections and reads
// nothing, answers nothing: a hung process, as seen from the client. Every
// quote call blocks forever in the round trip (state "select" in
// net/http.(*persistConn).roundTrip under main.(*quoteClient).quote), and each
// of its connections keeps a readLoop (IO wait) and a writeLoop (select).
//
// The upstream is a bare TCP listener rather than an httptest server with a
// handler that blocks, so that the dump holds only the client's side of the
// leak (in real life the hung server is another process).

type quoteClient struct {
	http *http.Client
	base string
}

func (c *quoteClient) quote(symbol string) (string, error) {
	resp, err := c.http.Get(c.base + "/quote?symbol=" + symbol)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

func httpClientNoTimeout(h *harness) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fatalf("http-client-no-timeout: %v", err)
	}
	go (&silentBackend{}).acceptLoop(ln)
	// BUG: no Timeout (e.g. Timeout: 5 * time.Second), no context deadline.
	c := &quoteClient{http: &http.Client{Transport: &http.Transport{}}, base: "http://" + ln.Addr().String()}
	base := h.settle(-1)
	for round := 1; round <= 3; round++ {
		for i := 0; i < 10; i++ {
			symbol := fmt.Sprintf("SYM%d", round*10+i)
			go func() { // one goroutine per incoming page view
				if _, err := c.quote(symbol); err != nil {
					fatalf("http-client-no-timeout: %v", err)
				}
			}()
		}
		// Per hung call: the caller, and its connection's readLoop and writeLoop.
		h.snapshot(round, base+30*round)
	}
}
