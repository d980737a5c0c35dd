// A streaming parser for Go's debug=2 goroutine text: runtime.Stack(all),
// /debug/pprof/goroutine?debug=2, the tracebacks of panics, fatal errors and
// SIGQUIT, and goro's own dumps, which use the same grammar.
//
// Grammar (Go 1.19-1.26, runtime/traceback.go):
//   goroutine <id>[ gp=.. m=.. mp=..] [<state>[ (durable)|(leaked)][, <N> minutes][, locked to thread]]:
//   <function>(<args>)                        one pair per frame
//   \t<file>:<line>[ +0x<off>][ fp=.. sp=.. pc=..]
//   ...<N> frames elided...                   (or "...additional frames elided...")
//   \tgoroutine running on other thread; stack unavailable
//   created by <function>[ in goroutine <id>]
//   \t<file>:<line>[ +0x<off>]
// Blocks are separated by blank lines. Text outside blocks (the panic
// message, "SIGQUIT: quit", registers, "exit status 2") is skipped. Inside a
// block every line must fit the grammar: anything else, or input that ends
// between a frame and its location, is a ParseError naming the line.
//
// One pass over big blocks of the input, one line at a time: memory holds
// one goroutine, not the dump.
#pragma once

#include <cstddef>
#include <functional>
#include <istream>
#include <stdexcept>
#include <string>

#include "dump.h"

namespace goro_leaks {

class ParseError : public std::runtime_error {
 public:
  ParseError(std::size_t line, const std::string& what)
      : std::runtime_error("line " + std::to_string(line) + ": " + what), line_(line) {}
  std::size_t line() const noexcept { return line_; }

 private:
  std::size_t line_;
};

// Calls on_goroutine for each goroutine of `in`, in input order. Returns
// how many there were. Throws ParseError on malformed input.
//
// The Goroutine passed is valid only during the call: the parser reuses its
// buffers for the next one (copy what you keep). Memory stays that of one
// goroutine (and of the longest line), whatever the size of the dump.
std::size_t parse_go_text(std::istream& in, const std::function<void(const Goroutine&)>& on_goroutine);

}  // namespace goro_leaks
