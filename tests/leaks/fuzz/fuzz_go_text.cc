// libFuzzer target: parse_go_text (Go's debug=2 text) on arbitrary bytes.
// The result must be a list of goroutines or a ParseError naming a line of
// the input; every goroutine's header line must be one of the input's too.
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>
#include <string_view>

#include "fuzz_support.h"
#include "go_text_parser.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  std::size_t lines = leaks_fuzz::count_lines(text);
  std::size_t seen = 0;
  std::size_t returned = 0;
  std::istringstream in(text);
  bool ok = leaks_fuzz::only_parse_errors(text, true, [&] {
    returned = goro_leaks::parse_go_text(in, [&](const goro_leaks::Goroutine& g) {
      ++seen;
      if (g.header_line == 0 || g.header_line > lines) leaks_fuzz::fail("a goroutine's header_line is not a line of the input");
      if (g.state.empty()) leaks_fuzz::fail("a goroutine with an empty state");
    });
  });
  if (ok && returned != seen) leaks_fuzz::fail("parse_go_text's count differs from the goroutines it passed on");
  return 0;
}
