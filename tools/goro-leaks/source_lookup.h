// Reading the line a goroutine is blocked on, when its source is at hand.
// Dumps name files by absolute path (a local build) or, built with
// -trimpath, by module path ("example.com/app/server.go"); the lookup tries
// the path as it is, then under each root with leading path elements
// dropped one at a time, so `--source .` in a checkout finds both.
#pragma once

#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace goro_leaks {

struct SourceContext {
  std::string line;                   // the line itself, trimmed
  std::vector<std::string> enclosing; // the openers of its enclosing blocks, innermost first ("for ...", "select {", "func ...")
  std::vector<std::string> block;     // when the line opens a block (a select), the block's lines
};

class SourceLookup {
 public:
  explicit SourceLookup(std::vector<std::string> roots) : roots_(std::move(roots)) {}

  // The context of `line` (1-based) in `file`; nullopt when the file is not
  // found or is shorter. Files are read once and cached.
  std::optional<SourceContext> context(const std::string& file, int line);

 private:
  const std::vector<std::string>* lines_of(const std::string& file);

  std::vector<std::string> roots_;
  std::unordered_map<std::string, std::optional<std::vector<std::string>>> cache_;
};

}  // namespace goro_leaks
