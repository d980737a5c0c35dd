// Go's text/tabwriter as runtime/pprof configures it for its legacy text
// profiles: NewWriter(w, minwidth 1, tabwidth 8, padding 1, padchar '\t',
// flags 0). Cells are the tab-terminated pieces of a line; consecutive lines
// sharing a column form a block whose cells are padded with tabs to the
// block's widest cell plus one, rounded up to a multiple of 8. The last
// piece of a line is not a cell and is written as is. Widths count runes.
#pragma once

#include <string>
#include <string_view>

namespace goro::detail {

// Appends text (complete lines, each ending in '\n') to out, aligned as
// Go's tabwriter aligns it. Lines without tabs end every block, so callers
// may align a profile piece by piece between such lines.
void append_tab_aligned(std::string& out, std::string_view text);

}  // namespace goro::detail
