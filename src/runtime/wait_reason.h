// Why a goroutine is waiting, with Go's exact strings (runtime/runtime2.go,
// waitReasonStrings) so dumps read like Go's: "goroutine 7 [chan receive]:".
#pragma once

#include <cstdint>
#include <string_view>

namespace goro::detail {

enum class WaitReason : std::uint8_t {
  kZero = 0,             // not waiting
  kIOWait,               // "IO wait"
  kChanReceiveNilChan,   // "chan receive (nil chan)"
  kChanSendNilChan,      // "chan send (nil chan)"
  kSelect,               // "select"
  kSelectNoCases,        // "select (no cases)"
  kChanReceive,          // "chan receive"
  kChanSend,             // "chan send"
  kSemacquire,           // "semacquire"
  kSleep,                // "sleep"
  kSyncCondWait,         // "sync.Cond.Wait"
  kSyncMutexLock,        // "sync.Mutex.Lock"
  kSyncRWMutexRLock,     // "sync.RWMutex.RLock"
  kSyncRWMutexLock,      // "sync.RWMutex.Lock"
  kSyncWaitGroupWait,    // "sync.WaitGroup.Wait"
  kPreempted,            // "preempted"
  kCount
};

// Go's string for r ("" for kZero).
std::string_view wait_reason_string(WaitReason r) noexcept;

}  // namespace goro::detail
