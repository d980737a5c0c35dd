// Small text helpers the goro-leaks parsers share.
#pragma once

#include <charconv>
#include <cstdint>
#include <string_view>

namespace goro_leaks {

inline bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }
inline bool ends_with(std::string_view s, std::string_view p) {
  return s.size() >= p.size() && s.substr(s.size() - p.size()) == p;
}

// The whole of s as an integer in `base`; false on anything else.
template <class Int>
bool parse_int(std::string_view s, Int* out, int base = 10) {
  if (s.empty()) return false;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *out, base);
  return ec == std::errc() && end == s.data() + s.size();
}

// "0x1f" -> 31.
inline bool parse_hex(std::string_view s, std::uint64_t* out) {
  return starts_with(s, "0x") && parse_int(s.substr(2), out, 16);
}

}  // namespace goro_leaks
