// Shared by the goro-leaks parser tests: the checked-in fixtures, and the
// check that a malformed input is a ParseError naming the right line.
#pragma once

#include <gtest/gtest.h>

#include <cstddef>
#include <fstream>
#include <sstream>
#include <string>

#include "go_text_parser.h"

namespace leaks_test {

// tests/leaks/fixtures/<name> (GORO_LEAKS_FIXTURES is set by CMake).
inline std::string fixture(const std::string& name) {
  std::ifstream in(std::string(GORO_LEAKS_FIXTURES) + "/" + name);
  std::stringstream s;
  s << in.rdbuf();
  EXPECT_FALSE(s.str().empty()) << "missing fixture " << name;
  return s.str();
}

// A malformed input, the line its error must name, and words it must say.
struct BadInput {
  const char* text;
  std::size_t line;
  const char* says;
};

// Runs parse(bad.text), which must throw a ParseError for bad.line whose
// message starts "line <N>: " and contains bad.says.
template <class Parse>
void expect_parse_error(const BadInput& bad, Parse&& parse) {
  try {
    parse(std::string(bad.text));
    ADD_FAILURE() << "no error for:\n" << bad.text;
  } catch (const goro_leaks::ParseError& e) {
    EXPECT_EQ(e.line(), bad.line) << e.what();
    EXPECT_NE(std::string(e.what()).find(bad.says), std::string::npos) << e.what();
    EXPECT_EQ(std::string(e.what()).rfind("line " + std::to_string(bad.line) + ": ", 0), 0u) << e.what();
  }
}

}  // namespace leaks_test
