package main

import (
	"fmt"
	"sync"
)

// Cause waitgroup-mismatch: wg.Add(n) but one path of the workers never calls
// wg.Done.
//
// resizeAll adds one to the WaitGroup per image, but the worker returns early
// for images that are already small enough and only calls wg.Done at the end
// of the normal path (the fix is `defer wg.Done()` as the worker's first
// statement). The counter never reaches zero and resizeAll blocks forever in
// wg.Wait() (Go 1.19 state "semacquire"; newer Go "sync.WaitGroup.Wait").

type image struct {
	name string
	w, h int
}

const maxWidth = 1024

func resizeAll(imgs []image, done chan<- string) {
	var wg sync.WaitGroup
	wg.Add(len(imgs))
	for _, img := range imgs {
		img := img
		go func() {
			if img.w <= maxWidth {
				return // BUG: skips wg.Done
			}
			img.h = img.h * maxWidth / img.w
			img.w = maxWidth
			wg.Done()
		}()
	}
	wg.Wait()
	done <- fmt.Sprintf("resized %d images", len(imgs))
}

func waitgroupMismatch(h *harness) {
	done := make(chan string, 100)
	base := h.settle(-1)
	for round := 1; round <= 3; round++ {
		for i := 0; i < 12; i++ {
			album := []image{{"a.jpg", 4000, 3000}, {"b.jpg", 800, 600}, {"c.jpg", 2048, 1536}}
			if i%6 == 5 {
				album[1].w = 1600 // 2 of 12 albums have only large images and finish
			}
			go resizeAll(album, done)
		}
		h.snapshot(round, base+10*round)
	}
	if len(done) != 6 {
		fatalf("waitgroup-mismatch: %d albums finished, want 6", len(done))
	}
}
