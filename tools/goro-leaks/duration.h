// Go-style durations for command-line flags: "500ms", "10s", "5m", "1h30m".
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

namespace goro_leaks {

// The duration `text` names, as Go's time.ParseDuration reads it (units
// ns us ms s m h, integers or decimals, several in a row); nullopt when it
// is not one or is negative.
std::optional<std::chrono::nanoseconds> parse_duration(std::string_view text);

}  // namespace goro_leaks
