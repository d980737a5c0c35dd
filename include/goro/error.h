// goro::Error — the exception goro throws for misuse that Go reports with a
// panic, carrying Go's exact message:
//
//   try {
//     wg.add(-1);
//   } catch (const goro::Error& e) {
//     // e.what() == "sync: negative WaitGroup counter"
//   }
//
// Uncaught in a goroutine it ends the process like a Go panic:
//   panic: sync: negative WaitGroup counter
//
//   goroutine 7 [running]:
//   ...
// Other exceptions that escape a goroutine print as "panic: (TYPE) what()".
#pragma once

#include <stdexcept>
#include <string>

namespace goro {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& go_message) : std::runtime_error(go_message) {}
  explicit Error(const char* go_message) : std::runtime_error(go_message) {}
};

}  // namespace goro
