// What every goro-leaks fuzz target checks: a parser may return a result or
// throw ParseError, and the error's line must be one the input has. Any other
// exception, a line past the end, a crash, a hang or a sanitizer report is a
// bug, and abort() makes libFuzzer keep the input that showed it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string_view>

#include "go_text_parser.h"

namespace leaks_fuzz {

// Lines in `data` as the parsers count them: a last line without '\n' counts.
inline std::size_t count_lines(std::string_view data) {
  std::size_t n = 0;
  for (char c : data) n += c == '\n';
  return n + (!data.empty() && data.back() != '\n');
}

// Runs parse(); returns true when it returned, false on a ParseError.
template <class Parse>
bool only_parse_errors(std::string_view data, bool check_line, Parse&& parse) {
  try {
    parse();
    return true;
  } catch (const goro_leaks::ParseError& e) {
    if (check_line && e.line() > count_lines(data)) {
      std::fprintf(stderr, "ParseError names line %zu of an input of %zu lines: %s\n", e.line(), count_lines(data),
                   e.what());
      std::abort();
    }
    return false;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "a parser threw something other than ParseError: %s\n", e.what());
    std::abort();
  } catch (...) {
    std::fprintf(stderr, "a parser threw something other than a std::exception\n");
    std::abort();
  }
}

[[noreturn]] inline void fail(const char* what) {
  std::fprintf(stderr, "%s\n", what);
  std::abort();
}

}  // namespace leaks_fuzz
