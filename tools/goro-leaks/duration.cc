#include "duration.h"

#include <cctype>
#include <cmath>
#include <utility>

namespace goro_leaks {

std::optional<std::chrono::nanoseconds> parse_duration(std::string_view text) {
  static constexpr std::pair<std::string_view, double> kUnits[] = {
      {"ns", 1}, {"us", 1e3}, {"µs", 1e3}, {"ms", 1e6}, {"s", 1e9}, {"m", 60e9}, {"h", 3600e9}};
  if (text == "0") return std::chrono::nanoseconds(0);
  if (text.empty()) return std::nullopt;
  double total = 0;
  while (!text.empty()) {
    std::size_t i = 0;
    while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) ++i;
    if (i == 0) return std::nullopt;
    double value = 0;
    try {
      value = std::stod(std::string(text.substr(0, i)));
    } catch (...) {
      return std::nullopt;
    }
    text.remove_prefix(i);
    std::size_t u = 0;
    while (u < text.size() && !std::isdigit(static_cast<unsigned char>(text[u])) && text[u] != '.') ++u;
    std::string_view unit = text.substr(0, u);
    text.remove_prefix(u);
    double scale = 0;
    for (const auto& [name, ns] : kUnits) {
      if (name == unit) scale = ns;
    }
    if (scale == 0) return std::nullopt;
    total += value * scale;
  }
  if (!std::isfinite(total) || total > 9.2e18) return std::nullopt;
  return std::chrono::nanoseconds(static_cast<std::int64_t>(total));
}

}  // namespace goro_leaks
