package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
)

// Cause http-body-not-closed: responses whose Body is neither read to EOF nor
// closed.
//
// checkStatus looks only at the status code and forgets `defer
// resp.Body.Close()`. The Transport cannot reuse a connection whose body is
// still open, so every check dials a new connection, and each of them keeps
// two goroutines in the client forever (net/http.(*persistConn).readLoop,
// waiting for the body to be read or closed, and .writeLoop, waiting for the
// next request) plus one in the server (net/http.(*conn).serve, waiting in
// IO wait for the next request on the keep-alive connection).

// checkStatus reports whether the service's status endpoint says OK.
func checkStatus(client *http.Client, url string) (bool, error) {
	resp, err := client.Get(url)
	if err != nil {
		return false, err
	}
	// BUG: missing defer resp.Body.Close() (and io.Copy(io.Discard, resp.Body)).
	return resp.StatusCode == http.StatusOK, nil
}

func httpBodyNotClosed(h *harness) {
	status := `{"status":"ok","checks":[` + strings.Repeat(`{"name":"db","ok":true},`, 40) + `{"name":"cache","ok":true}]}`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, status)
	}))
	client := &http.Client{Transport: &http.Transport{}}
	healthy := 0
	base := h.settle(-1)
	for round := 1; round <= 3; round++ {
		for i := 0; i < 10; i++ {
			ok, err := checkStatus(client, srv.URL+"/status")
			if err != nil {
				fatalf("http-body-not-closed: %v", err)
			}
			if ok {
				healthy++
			}
		}
		// Per leaked response: client readLoop + writeLoop, server conn.serve.
		h.snapshot(round, base+30*round)
	}
	if healthy != 30 {
		fatalf("http-body-not-closed: %d checks ok, want 30", healthy)
	}
}
