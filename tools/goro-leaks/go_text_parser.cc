#include "go_text_parser.h"

#include <string_view>
#include <utility>
#include <vector>

#include "text_util.h"

namespace goro_leaks {
namespace {

// One Goroutine record, g_, is filled in for each goroutine and handed to
// the callback by reference; its strings and frames are reused for the next
// goroutine, so that a dump of a million goroutines costs no allocation per
// goroutine once the buffers have grown to the largest one. While a block is
// read, g_.frames[0, nframes_) are its frames and the rest are left over
// from earlier goroutines, to be overwritten; before the callback the rest
// move to spare_frames_ (buffers and all). A "created by" waits likewise in
// spare_created_.
class Parser {
 public:
  Parser(std::istream& in, const std::function<void(const Goroutine&)>& emit) : lines_(in), emit_(emit) {}

  std::size_t run() {
    std::string_view line;
    while (lines_.next(&line)) {
      ++lineno_;
      step(line);
    }
    finish();
    return count_;
  }

 private:
  enum class Expect { kOutside, kBody, kLocation, kCreatedLocation };

  void step(std::string_view line) {
    switch (expect_) {
      case Expect::kOutside:
        if (starts_with(line, "goroutine ") && ends_with(line, "]:")) begin(line);
        return;  // anything else outside a block is the report's own text
      case Expect::kLocation:
        frames_location(line);
        return;
      case Expect::kCreatedLocation:
        location(line, "created by", &g_.created_by->where);
        expect_ = Expect::kBody;
        return;
      case Expect::kBody:
        body(line);
        return;
    }
  }

  void body(std::string_view line) {
    if (line.empty()) {
      end_block();
      return;
    }
    if (starts_with(line, "goroutine ") && ends_with(line, "]:")) {
      // Go separates blocks with a blank line; tolerate its absence.
      end_block();
      begin(line);
      return;
    }
    if (line == "\tgoroutine running on other thread; stack unavailable") {
      g_.stack_unavailable = true;
      return;
    }
    if (starts_with(line, "...") && ends_with(line, "...")) {
      elided(line);
      return;
    }
    if (starts_with(line, "created by ")) {
      created_by(line.substr(11));
      return;
    }
    if (starts_with(line, "exit status ")) {
      // `go run` appends it to a crash report without a blank line.
      end_block();
      return;
    }
    if (line[0] == '\t' || line[0] == ' ') throw ParseError(lineno_, "a location without a function line before it");
    frame(line);
    expect_ = Expect::kLocation;
  }

  // Empties g_ for the next goroutine, keeping its buffers.
  void reset() {
    g_.id = 0;
    g_.state.clear();
    g_.wait_minutes = 0;
    g_.locked_to_thread = false;
    g_.durable = false;
    g_.leaked = false;
    g_.stack_unavailable = false;
    nframes_ = 0;
    g_.elided_frames = 0;
    if (g_.created_by.has_value()) {
      spare_created_ = std::move(*g_.created_by);
      g_.created_by.reset();
    }
    g_.header_line = 0;
  }

  // The next frame of g_: a left-over one, a spare, or a new one. All of
  // its fields are overwritten by frame() and location().
  Frame& add_frame() {
    if (nframes_ == g_.frames.size()) {
      if (spare_frames_.empty()) {
        g_.frames.emplace_back();
      } else {
        g_.frames.push_back(std::move(spare_frames_.back()));
        spare_frames_.pop_back();
      }
    }
    return g_.frames[nframes_++];
  }

  // Leaves g_.frames with this goroutine's frames only.
  void trim_frames() {
    while (g_.frames.size() > nframes_) {
      spare_frames_.push_back(std::move(g_.frames.back()));
      g_.frames.pop_back();
    }
  }

  // goroutine <id>[ gp=... m=... mp=...] [<state>, ...]:
  void begin(std::string_view line) {
    reset();
    g_.header_line = lineno_;
    std::string_view rest = line.substr(10);
    std::size_t sp = rest.find(' ');
    if (sp == std::string_view::npos || !parse_int(rest.substr(0, sp), &g_.id)) {
      throw ParseError(lineno_, "goroutine header without an ID: \"" + std::string(line) + "\"");
    }
    std::size_t open = rest.find('[', sp);
    if (open == std::string_view::npos) throw ParseError(lineno_, "goroutine header without [state]");
    std::string_view inside = rest.substr(open + 1, rest.size() - open - 3);  // drop "]:"
    state(inside);
    expect_ = Expect::kBody;
  }

  // "<state>[ (durable)|(leaked)][, N minutes][, locked to thread]"; the
  // state itself may hold parentheses ("chan receive (nil chan)") but no ", ".
  void state(std::string_view s) {
    std::size_t comma = s.find(", ");
    std::string_view head = s.substr(0, comma);
    for (;;) {
      if (ends_with(head, " (durable)")) {
        g_.durable = true;
        head.remove_suffix(10);
      } else if (ends_with(head, " (leaked)")) {
        g_.leaked = true;
        head.remove_suffix(9);
      } else {
        break;
      }
    }
    if (head.empty()) throw ParseError(lineno_, "goroutine header with an empty state");
    g_.state.assign(head);
    while (comma != std::string_view::npos) {
      s = s.substr(comma + 2);
      comma = s.find(", ");
      std::string_view item = s.substr(0, comma);
      if (item == "locked to thread") {
        g_.locked_to_thread = true;
      } else if (ends_with(item, " minutes") || ends_with(item, " minute")) {
        std::string_view n = item.substr(0, item.find(' '));
        if (!parse_int(n, &g_.wait_minutes)) throw ParseError(lineno_, "bad wait time \"" + std::string(item) + "\"");
      } else if (item == "scan") {
        // Go marks goroutines being scanned by the GC: no meaning here.
      } else {
        throw ParseError(lineno_, "unknown goroutine attribute \"" + std::string(item) + "\"");
      }
    }
  }

  // <function>(<args>): the argument list is the last balanced parentheses.
  void frame(std::string_view line) {
    if (line.back() != ')') throw ParseError(lineno_, "a frame line must end in ')': \"" + std::string(line) + "\"");
    // Fast path: the last '(' is the match when no ')' but the final one
    // follows it (an argument list seldom holds parentheses).
    std::size_t open = line.rfind('(', line.size() - 1);
    if (open != std::string_view::npos && line.find(')', open) != line.size() - 1) {
      int depth = 0;
      open = std::string_view::npos;
      for (std::size_t i = line.size(); i-- > 0;) {
        if (line[i] == ')') ++depth;
        if (line[i] == '(' && --depth == 0) {
          open = i;
          break;
        }
      }
    }
    if (open == std::string_view::npos || open == 0) {
      throw ParseError(lineno_, "unbalanced parentheses in frame \"" + std::string(line) + "\"");
    }
    Frame& f = add_frame();
    f.function.assign(line.substr(0, open));
    f.args.assign(line.substr(open + 1, line.size() - open - 2));
  }

  void frames_location(std::string_view line) {
    Frame& f = g_.frames[nframes_ - 1];
    location(line, f.function, &f.where);
    expect_ = Expect::kBody;
  }

  // \t<file>:<line>[ +0x<off>][ fp=... sp=... pc=...] into *loc (all of it).
  void location(std::string_view line, std::string_view of, Location* loc) {
    if (line.empty() || line[0] != '\t') {
      throw ParseError(lineno_, "expected \"\\t<file>:<line>\" after \"" + std::string(of) + "\"");
    }
    line.remove_prefix(1);
    std::size_t fp = line.find(" fp=");
    if (fp != std::string_view::npos) line = line.substr(0, fp);
    loc->offset = -1;
    std::size_t plus = line.rfind(" +0x");
    if (plus != std::string_view::npos) {
      if (!parse_int(line.substr(plus + 4), &loc->offset, 16)) {
        throw ParseError(lineno_, "bad pc offset in \"" + std::string(line) + "\"");
      }
      line = line.substr(0, plus);
    }
    std::size_t colon = line.rfind(':');
    if (colon == std::string_view::npos || !parse_int(line.substr(colon + 1), &loc->line)) {
      throw ParseError(lineno_, "expected \"<file>:<line>\", got \"" + std::string(line) + "\"");
    }
    loc->file.assign(line.substr(0, colon));
  }

  // "...N frames elided..." (Go 1.21+) or "...additional frames elided..."
  void elided(std::string_view line) {
    std::string_view mid = line.substr(3, line.size() - 6);
    if (mid == "additional frames elided") {
      g_.elided_frames = -1;
      return;
    }
    std::size_t sp = mid.find(' ');
    int n = 0;
    if (sp == std::string_view::npos || mid.substr(sp) != " frames elided" || !parse_int(mid.substr(0, sp), &n)) {
      throw ParseError(lineno_, "unknown line \"" + std::string(line) + "\"");
    }
    g_.elided_frames = n;
  }

  // "created by <function>[ in goroutine <id>]"
  void created_by(std::string_view rest) {
    std::uint64_t creator = 0;
    std::size_t in = rest.rfind(" in goroutine ");
    if (in != std::string_view::npos) {
      if (!parse_int(rest.substr(in + 14), &creator)) {
        throw ParseError(lineno_, "bad creator ID in \"created by " + std::string(rest) + "\"");
      }
      rest = rest.substr(0, in);
    }
    if (!g_.created_by.has_value()) g_.created_by.emplace(std::move(spare_created_));
    CreatedBy& c = *g_.created_by;
    c.creator_id = creator;
    c.function.assign(rest);
    expect_ = Expect::kCreatedLocation;
  }

  void end_block() {
    ++count_;
    trim_frames();
    emit_(g_);
    expect_ = Expect::kOutside;
  }

  void finish() {
    if (expect_ == Expect::kLocation || expect_ == Expect::kCreatedLocation) {
      throw ParseError(lineno_, "input ends before the location of the last frame (truncated dump?)");
    }
    if (expect_ == Expect::kBody) end_block();
  }

  LineReader lines_;
  const std::function<void(const Goroutine&)>& emit_;
  std::size_t lineno_ = 0;
  std::size_t count_ = 0;
  Expect expect_ = Expect::kOutside;
  Goroutine g_;
  std::size_t nframes_ = 0;
  std::vector<Frame> spare_frames_;
  CreatedBy spare_created_;
};

}  // namespace

std::size_t parse_go_text(std::istream& in, const std::function<void(const Goroutine&)>& on_goroutine) {
  return Parser(in, on_goroutine).run();
}

}  // namespace goro_leaks
