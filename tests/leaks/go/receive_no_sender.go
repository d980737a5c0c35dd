package main

import "fmt"

// Cause receive-no-sender: a goroutine waits for a result that is never sent.
//
// startUpload starts a goroutine that waits for the upload's outcome to
// record it in the metrics. The happy path sends the outcome; the validation
// error path returns early without sending (or closing the channel), so the
// metrics goroutine waits forever in `o := <-outcome` (state "chan receive").

type uploadOutcome struct {
	bytes int
	err   error
}

const maxUpload = 1 << 20

var uploadStats struct{ ok, failed, bytes int }

// recordOutcome waits for the upload to finish and updates the stats.
func recordOutcome(id int, outcome <-chan uploadOutcome) {
	o := <-outcome
	if o.err != nil {
		uploadStats.failed++
		return
	}
	uploadStats.ok++
	uploadStats.bytes += o.bytes
}

func startUpload(id, size int) error {
	outcome := make(chan uploadOutcome, 1)
	go recordOutcome(id, outcome)
	if size > maxUpload {
		// BUG: returns without `outcome <- uploadOutcome{err: err}`.
		return fmt.Errorf("upload %d: %d bytes is over the %d byte limit", id, size, maxUpload)
	}
	outcome <- uploadOutcome{bytes: size}
	return nil
}

func receiveNoSender(h *harness) {
	rejected := 0
	base := h.settle(-1)
	for round := 1; round <= 3; round++ {
		for i := 0; i < 15; i++ {
			size := 4096 * (i + 1)
			if i%3 != 0 {
				size = 2 * maxUpload // 10 of 15 uploads are too big
			}
			if err := startUpload(round*100+i, size); err != nil {
				rejected++
			}
		}
		h.snapshot(round, base+10*round)
	}
	if rejected != 30 {
		fatalf("receive-no-sender: %d uploads rejected, want 30", rejected)
	}
}
