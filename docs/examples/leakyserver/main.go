// leakyserver: the walk-through program of docs/goro-leaks.md. A quote
// service whose handler gives its backend call a deadline, returns a
// timeout error when the backend is slow, and leaks the backend goroutine:
// it sends its late answer on an unbuffered channel nobody reads any more.
// net/http/pprof serves the goroutine dumps goro-leaks reads.
package main

import (
	"flag"
	"fmt"
	"log"
	"math/rand"
	"net/http"
	_ "net/http/pprof"
	"time"
)

type quote struct {
	symbol string
	cents  int64
}

// backend answers in 0-20ms; a request gives it 10ms.
func backend(symbol string) quote {
	time.Sleep(time.Duration(rand.Intn(20)) * time.Millisecond)
	return quote{symbol: symbol, cents: 4200}
}

func quoteHandler(w http.ResponseWriter, r *http.Request) {
	symbol := r.URL.Query().Get("symbol")
	answer := make(chan quote) // BUG: unbuffered; make(chan quote, 1) fixes it
	go func() { answer <- backend(symbol) }()
	select {
	case q := <-answer:
		fmt.Fprintf(w, "%s %d\n", q.symbol, q.cents)
	case <-time.After(10 * time.Millisecond):
		http.Error(w, "backend timeout", http.StatusGatewayTimeout)
	}
}

func main() {
	addr := flag.String("addr", "localhost:6060", "listen address")
	flag.Parse()
	http.HandleFunc("/quote", quoteHandler)
	log.Printf("listening on %s", *addr)
	log.Fatal(http.ListenAndServe(*addr, nil))
}
