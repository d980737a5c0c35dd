package main

import (
	"fmt"
	"strings"
)

// Cause producer-consumer (the consumer quits): a producer goroutine streams
// records into a channel; the consumer stops reading at the first bad record.
//
// readRecords' goroutine has no way to learn that nobody will read again (no
// done channel, no context), so after importFile returns early it blocks
// forever on its next `out <- rec` (state "chan send"), keeping the whole
// file's lines alive with it.

type record struct {
	line   int
	fields []string
}

// readRecords streams the records of a CSV file to the returned channel.
func readRecords(lines []string) <-chan record {
	out := make(chan record)
	go func() {
		for i, l := range lines {
			out <- record{line: i + 1, fields: strings.Split(l, ",")}
		}
		close(out)
	}()
	return out
}

// importFile imports the records of one file and stops at the first
// malformed one.
func importFile(name string, lines []string) (int, error) {
	n := 0
	for rec := range readRecords(lines) {
		if len(rec.fields) != 3 {
			// BUG: returning abandons readRecords' goroutine mid-stream.
			return n, fmt.Errorf("%s:%d: want 3 fields, got %d", name, rec.line, len(rec.fields))
		}
		n++
	}
	return n, nil
}

func producerConsumerConsumerQuit(h *harness) {
	good := []string{"1,apple,0.5", "2,pear,0.7", "3,plum,0.2", "4,fig,1.1"}
	bad := []string{"1,apple,0.5", "2,pear", "3,plum,0.2", "4,fig,1.1"}
	failed := 0
	base := h.settle(-1)
	for round := 1; round <= 3; round++ {
		for i := 0; i < 12; i++ {
			lines := bad
			if i%6 == 5 {
				lines = good // 2 of 12 files are fine and do not leak
			}
			if _, err := importFile(fmt.Sprintf("prices-%d-%d.csv", round, i), lines); err != nil {
				failed++
			}
		}
		h.snapshot(round, base+10*round)
	}
	if failed != 30 {
		fatalf("producer-consumer-consumer-quit: %d imports failed, want 30", failed)
	}
}
