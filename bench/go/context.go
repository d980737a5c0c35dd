// The Go twins of ctxtree and ctxbuild (goro_bench.cc has the C++ side;
// docs/performance.md says what each case measures).
package main

import (
	"context"
	"time"
)

// ctxFanout and ctxDepth give the tree's shape: a root below Background and
// ctxDepth levels of ctxFanout children each, 1 + 10 + 100 + 1000 + 10000 =
// 11111 contexts, all from WithCancel.
const (
	ctxFanout = 10
	ctxDepth  = 4
)

// ctxTreeNodes is the number of contexts in one tree.
func ctxTreeNodes() int {
	n, level := 0, 1
	for d := 0; d <= ctxDepth; d++ {
		n += level
		level *= ctxFanout
	}
	return n
}

// ctxTreeOnce builds and cancels `trees` trees one after the other and
// returns (build ns per context, cancel µs per tree). One tree: the root is
// WithCancel(Background()), then level by level (breadth first) every node
// of the previous level gets ctxFanout children from WithCancel(node). The
// contexts and their cancel functions are kept in two slices (index order =
// creation order). Untimed: Done() on every node, so that every done channel
// exists, and the channels are kept in a third slice, as waiters would hold
// them. Timed as "cancel": cancel() of the root, then a receive from every
// kept done channel in creation order (each must be closed by then or closes
// later; either way the time counts; Done() is not called again). Untimed:
// every node's Err() must be context.Canceled, then every cancel function is
// called (the C++ twin's ScopedCancel destructors do the same).
func ctxTreeOnce(trees int) (buildNsPerNode, cancelUsPerTree float64) {
	nodes := ctxTreeNodes()
	var buildNs, cancelNs int64
	for t := 0; t < trees; t++ {
		ctxs := make([]context.Context, 0, nodes)
		cancels := make([]context.CancelFunc, 0, nodes)
		t0 := time.Now()
		root, rootCancel := context.WithCancel(context.Background())
		ctxs = append(ctxs, root)
		cancels = append(cancels, rootCancel)
		begin, end := 0, 1 // the previous level is ctxs[begin:end]
		for d := 0; d < ctxDepth; d++ {
			for p := begin; p < end; p++ {
				for c := 0; c < ctxFanout; c++ {
					ctx, cancel := context.WithCancel(ctxs[p])
					ctxs = append(ctxs, ctx)
					cancels = append(cancels, cancel)
				}
			}
			begin, end = end, len(ctxs)
		}
		buildNs += time.Since(t0).Nanoseconds()
		if len(ctxs) != nodes {
			fail("ctxtree: built %d contexts, want %d", len(ctxs), nodes)
		}
		dones := make([]<-chan struct{}, 0, nodes) // what waiters would hold
		for _, ctx := range ctxs {
			done := ctx.Done()
			if done == nil {
				fail("ctxtree: Done() is nil")
			}
			dones = append(dones, done)
		}
		t0 = time.Now()
		rootCancel()
		for _, done := range dones {
			<-done
		}
		cancelNs += time.Since(t0).Nanoseconds()
		bad := 0
		for _, ctx := range ctxs {
			if ctx.Err() != context.Canceled {
				bad++
			}
		}
		if bad != 0 {
			fail("ctxtree: %d of %d contexts not canceled", bad, nodes)
		}
		for _, cancel := range cancels {
			cancel()
		}
	}
	return float64(buildNs) / float64(trees*nodes), float64(cancelNs) / 1e3 / float64(trees)
}
