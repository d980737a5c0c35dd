// Synchronisation primitives, Go's sync package (and x/sync/semaphore), one
// header each:
//   goro/sync/mutex.h       Mutex        sync.Mutex (starvation mode, RAII via std::lock_guard)
//   goro/sync/rwmutex.h     RWMutex      sync.RWMutex (writer preference; std::shared_lock)
//   goro/sync/wait_group.h  WaitGroup    sync.WaitGroup (add/done/wait/go)
//   goro/sync/cond.h        Cond         sync.Cond
//   goro/sync/once.h        Once         sync.Once
//   goro/sync/semaphore.h   Semaphore    x/sync/semaphore.Weighted (with Context)
// Every primitive parks a waiting goroutine with Go's wait reason (its worker
// runs other goroutines) and blocks a plain thread, so both can share them.
#pragma once

#include "goro/sync/cond.h"
#include "goro/sync/mutex.h"
#include "goro/sync/once.h"
#include "goro/sync/rwmutex.h"
#include "goro/sync/semaphore.h"
#include "goro/sync/wait_group.h"
