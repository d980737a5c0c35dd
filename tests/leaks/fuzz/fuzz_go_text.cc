// libFuzzer target: parse_go_text (Go's debug=2 text) on arbitrary bytes.
// The result must be a list of goroutines or a ParseError naming a line of
// the input; every goroutine's header line must be one of the input's too.
// Also checks LineReader, the parsers' line splitter, against a plain split
// with a small block size taken from the input (lines across blocks, lines
// longer than a block, "\r\n" cut between blocks).
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_support.h"
#include "go_text_parser.h"
#include "text_util.h"

namespace {

// What LineReader must give: split at '\n', one '\r' dropped from each
// line's end, no line after a final '\n'.
std::vector<std::string_view> plain_split(std::string_view text) {
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back(line);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
  }
  return lines;
}

void check_line_reader(const std::string& text) {
  std::size_t block = text.empty() ? 1 : 1 + static_cast<unsigned char>(text[0]) % 64;
  std::istringstream in(text);
  goro_leaks::LineReader reader(in, block);
  std::vector<std::string_view> want = plain_split(text);
  std::size_t i = 0;
  for (std::string_view line; reader.next(&line); ++i) {
    if (i >= want.size()) leaks_fuzz::fail("LineReader gives more lines than the input has");
    if (line != want[i]) leaks_fuzz::fail("LineReader gives a line other than the input's");
  }
  if (i != want.size()) leaks_fuzz::fail("LineReader gives fewer lines than the input has");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  check_line_reader(text);
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
