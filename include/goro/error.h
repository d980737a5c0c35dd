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

#include <exception>
#include <stdexcept>
#include <string>

namespace goro {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& go_message) : std::runtime_error(go_message) {}
  explicit Error(const char* go_message) : std::runtime_error(go_message) {}
};

// The message of an error value (Go's err.Error()): what() of the
// std::exception e holds, "unknown error" for anything else thrown, and ""
// for null (no error). Never blocks; throws only std::bad_alloc.
//   goro::error_string(goro::canceled()) == "context canceled"
std::string error_string(const std::exception_ptr& e);

}  // namespace goro
