// Finding source files and the blocks around a line.
//
// Block structure is found by counting braces from the top of the file,
// skipping string literals, rune literals and comments: enough for Go and
// C++ source as written, without a parser. A line's enclosing blocks are
// the unclosed openers when it is reached.
#include "source_lookup.h"

#include <filesystem>
#include <fstream>

namespace goro_leaks {
namespace {

std::string trim(const std::string& s) {
  std::size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return {};
  std::size_t e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

// Braces of one line outside literals and comments; `in_block_comment`
// carries /* ... */ across lines, `in_raw` carries Go's `raw strings`.
std::string braces_of(const std::string& line, bool* in_block_comment, bool* in_raw) {
  std::string out;
  for (std::size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    char next = i + 1 < line.size() ? line[i + 1] : '\0';
    if (*in_block_comment) {
      if (c == '*' && next == '/') *in_block_comment = false, ++i;
    } else if (*in_raw) {
      if (c == '`') *in_raw = false;
    } else if (c == '/' && next == '/') {
      break;
    } else if (c == '/' && next == '*') {
      *in_block_comment = true, ++i;
    } else if (c == '`') {
      *in_raw = true;
    } else if (c == '"' || c == '\'') {
      for (++i; i < line.size() && line[i] != c; ++i) {
        if (line[i] == '\\') ++i;
      }
    } else if (c == '{' || c == '}') {
      out += c;
    }
  }
  return out;
}

}  // namespace

const SourceLookup::File* SourceLookup::file_of(const std::string& path) {
  auto [it, added] = cache_.try_emplace(path);
  if (!added) return it->second ? &*it->second : nullptr;
  namespace fs = std::filesystem;
  std::vector<fs::path> candidates{fs::path(path)};
  fs::path rel = fs::path(path).relative_path();
  for (const std::string& root : roots_) {
    // "a/b/c.go" under root: root/a/b/c.go, root/b/c.go, root/c.go.
    for (fs::path tail = rel; !tail.empty();) {
      candidates.push_back(fs::path(root) / tail);
      fs::path rest;
      for (auto p = std::next(tail.begin()); p != tail.end(); ++p) rest /= *p;
      tail = rest;
    }
  }
  for (const fs::path& p : candidates) {
    std::error_code ec;
    if (!fs::is_regular_file(p, ec)) continue;
    File f;
    std::ifstream in(p);
    for (std::string l; std::getline(in, l);) f.lines.push_back(std::move(l));
    bool comment = false, raw = false;
    int open = -1;
    for (std::size_t i = 0; i < f.lines.size(); ++i) {
      f.open_at.push_back(open);
      f.braces.push_back(braces_of(f.lines[i], &comment, &raw));
      for (char b : f.braces.back()) {
        if (b == '{') {
          f.blocks.emplace_back(static_cast<int>(i), open);
          open = static_cast<int>(f.blocks.size()) - 1;
        } else if (open >= 0) {
          open = f.blocks[open].second;
        }
      }
    }
    it->second = std::move(f);
    return &*it->second;
  }
  return nullptr;
}

std::optional<SourceContext> SourceLookup::context(const std::string& path, int line) {
  const File* f = file_of(path);
  if (f == nullptr || line < 1 || static_cast<std::size_t>(line) > f->lines.size()) return std::nullopt;
  SourceContext ctx;
  const std::size_t at = static_cast<std::size_t>(line) - 1;
  ctx.line = trim(f->lines[at]);
  for (int b = f->open_at[at]; b >= 0; b = f->blocks[b].second) ctx.enclosing.push_back(trim(f->lines[f->blocks[b].first]));
  // The block the line opens (a select's cases), up to its closing brace.
  int depth = 0;
  for (std::size_t i = at; i < f->lines.size() && ctx.block.size() < 200; ++i) {
    for (char b : f->braces[i]) depth += b == '{' ? 1 : -1;
    if (i == at && depth <= 0) break;  // opens nothing
    ctx.block.push_back(trim(f->lines[i]));
    if (depth <= 0) break;
  }
  return ctx;
}

}  // namespace goro_leaks
