// Reading the line a goroutine is blocked on, when its source is at hand.
// Dumps name files by absolute path (a local build) or, built with
// -trimpath, by module path ("example.com/app/server.go"); the lookup tries
// the path as it is, then under each root with leading path elements
// dropped one at a time, so `--source .` in a checkout finds both.
#pragma once

#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
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
  // A file read once: its lines and its block structure. Each '{' is a
  // node whose parent is the block it opens inside; open_at[i] is the
  // innermost block open where line i (0-based) starts, -1 for none. A
  // line's enclosing blocks are then a walk up the parents, so a lookup
  // costs the depth of the line, not the length of the file.
  struct File {
    std::vector<std::string> lines;
    std::vector<std::string> braces;  // the braces of each line, outside literals and comments
    std::vector<int> open_at;
    std::vector<std::pair<int, int>> blocks;  // {opener line, parent block}
  };
  const File* file_of(const std::string& path);

  std::vector<std::string> roots_;
  std::unordered_map<std::string, std::optional<File>> cache_;
};

}  // namespace goro_leaks
