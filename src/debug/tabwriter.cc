#include "debug/tabwriter.h"

#include <vector>

namespace goro::detail {
namespace {

constexpr int kMinWidth = 1;
constexpr int kTabWidth = 8;
constexpr int kPadding = 1;

struct Cell {
  std::string_view text;
  int width;  // in runes
};
using Line = std::vector<Cell>;

int rune_count(std::string_view s) {
  int n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xc0) != 0x80;
  return n;
}

class Formatter {
 public:
  Formatter(std::string& out, const std::vector<Line>& lines) : out_(out), lines_(lines) {}

  // Go's (*Writer).format: finds the blocks of column len(widths_) between
  // line0 and line1, fixes each block's width, and recurses to the right.
  void format(std::size_t line0, std::size_t line1) {
    std::size_t column = widths_.size();
    for (std::size_t at = line0; at < line1; ++at) {
      if (column + 1 >= lines_[at].size()) continue;  // no cell in this column
      write_lines(line0, at);
      line0 = at;
      int width = kMinWidth;
      for (; at < line1 && column + 1 < lines_[at].size(); ++at) {
        width = std::max(width, lines_[at][column].width + kPadding);
      }
      widths_.push_back(width);
      format(line0, at);
      widths_.pop_back();
      // Line `at` (if any) has no cell in this column: the loop's ++at
      // may step over it, as Go's does.
      line0 = at;
    }
    write_lines(line0, line1);
  }

 private:
  void write_lines(std::size_t line0, std::size_t line1) {
    for (std::size_t i = line0; i < line1; ++i) {
      const Line& line = lines_[i];
      for (std::size_t j = 0; j < line.size(); ++j) {
        out_ += line[j].text;
        if (j < widths_.size()) pad(line[j].width, widths_[j]);
      }
      out_ += '\n';
    }
  }

  void pad(int text_width, int cell_width) {
    cell_width = (cell_width + kTabWidth - 1) / kTabWidth * kTabWidth;
    int n = cell_width - text_width;
    out_.append(static_cast<std::size_t>((n + kTabWidth - 1) / kTabWidth), '\t');
  }

  std::string& out_;
  const std::vector<Line>& lines_;
  std::vector<int> widths_;
};

}  // namespace

void append_tab_aligned(std::string& out, std::string_view text) {
  std::vector<Line> lines;
  while (!text.empty()) {
    std::size_t nl = text.find('\n');
    std::string_view row = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    Line line;
    for (;;) {
      std::size_t tab = row.find('\t');
      std::string_view cell = row.substr(0, tab);
      line.push_back({cell, rune_count(cell)});
      if (tab == std::string_view::npos) break;
      row = row.substr(tab + 1);
    }
    lines.push_back(std::move(line));
  }
  Formatter(out, lines).format(0, lines.size());
}

}  // namespace goro::detail
