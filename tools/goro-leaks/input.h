// Where dumps come from (a file, stdin, an HTTP(S) URL) and which format
// they are in, told from their first bytes.
#pragma once

#include <chrono>
#include <memory>
#include <istream>
#include <stdexcept>
#include <string>
#include <string_view>

#include "snapshot.h"

namespace goro_leaks {

// The source could not be read (missing file, refused connection, HTTP
// status other than 200). The message names the source.
class InputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The format of a dump that starts with `head` (its first bytes; 4 KiB is
// plenty): gzip or a protobuf message -> kProfileProto; "goroutine profile:
// total" or "goroutineleak profile: total" -> kGoDebug1; a "goroutine N [" line
// anywhere in head (after a panic message, say) -> kGoText. Throws
// ParseError (line 1) when it is none of these: the message says what
// the input looked like ("an HTML page", "empty input").
Format detect_format(std::string_view head);

struct FetchOptions {
  std::chrono::milliseconds timeout{30000};  // connect and read, each
};

// Reads the dump named by `spec`: "-" is stdin, "http://..." or
// "https://..." is fetched with GET (for a pprof endpoint without a query,
// nothing is added: pass ?debug=2 yourself), anything else is a file path.
// The format is detected, then the dump is parsed and grouped as it
// streams (a file or stdin is never held in memory whole; an HTTP body is,
// since it arrives through the client's buffer). Throws InputError or
// ParseError.
Snapshot load_snapshot(const std::string& spec, Similarity similarity, const FetchOptions& fetch = {});

// The same for a dump already in a stream (tests, fuzzers); `name` is
// what messages and reports call it.
Snapshot load_snapshot(std::istream& in, const std::string& name, Similarity similarity);

}  // namespace goro_leaks
