// libFuzzer target: parse_go_debug1 (Go's debug=1 text) on arbitrary bytes.
// The result must be the groups and the header's total (which they add up
// to), or a ParseError naming a line of the input.
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>

#include "fuzz_support.h"
#include "go_debug1_parser.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  std::size_t lines = leaks_fuzz::count_lines(text);
  std::int64_t sum = 0;
  std::int64_t total = 0;
  std::istringstream in(text);
  bool ok = leaks_fuzz::only_parse_errors(text, true, [&] {
    total = goro_leaks::parse_go_debug1(in, [&](const goro_leaks::StackGroup& g) {
      if (g.count <= 0) leaks_fuzz::fail("a group with a count below 1");
      if (g.line == 0 || g.line > lines) leaks_fuzz::fail("a group's line is not a line of the input");
      if (__builtin_add_overflow(sum, g.count, &sum)) leaks_fuzz::fail("parse_go_debug1 passed on groups whose counts overflow");
    });
  });
  if (ok && sum != total) leaks_fuzz::fail("parse_go_debug1 returned a total its groups do not add up to");
  return 0;
}
