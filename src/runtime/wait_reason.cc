#include "runtime/wait_reason.h"

namespace goro::detail {

std::string_view wait_reason_string(WaitReason r) noexcept {
  switch (r) {
    case WaitReason::kZero: return "";
    case WaitReason::kIOWait: return "IO wait";
    case WaitReason::kChanReceiveNilChan: return "chan receive (nil chan)";
    case WaitReason::kChanSendNilChan: return "chan send (nil chan)";
    case WaitReason::kSelect: return "select";
    case WaitReason::kSelectNoCases: return "select (no cases)";
    case WaitReason::kChanReceive: return "chan receive";
    case WaitReason::kChanSend: return "chan send";
    case WaitReason::kSemacquire: return "semacquire";
    case WaitReason::kSleep: return "sleep";
    case WaitReason::kSyncCondWait: return "sync.Cond.Wait";
    case WaitReason::kSyncMutexLock: return "sync.Mutex.Lock";
    case WaitReason::kSyncRWMutexRLock: return "sync.RWMutex.RLock";
    case WaitReason::kSyncRWMutexLock: return "sync.RWMutex.Lock";
    case WaitReason::kSyncWaitGroupWait: return "sync.WaitGroup.Wait";
    case WaitReason::kPreempted: return "preempted";
    case WaitReason::kCount: break;
  }
  return "unknown wait reason";
}

}  // namespace goro::detail
