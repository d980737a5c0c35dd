#include "go_debug1_parser.h"

#include <string>
#include <string_view>

#include "text_util.h"

namespace goro_leaks {
namespace {

// Go's printCountProfile header: "<profile name> profile: total N". The
// goroutine profile's, or Go 1.26's goroutineleak profile's (the goroutines
// the GC proved blocked forever; GOEXPERIMENT=goroutineleakprofile), which
// has the same body.
constexpr std::string_view kHeaders[] = {"goroutine profile: total ", "goroutineleak profile: total "};

// Sets *name to the profile's name ("goroutine", "goroutineleak").
bool parse_header(std::string_view line, std::int64_t* total, std::string* name) {
  for (std::string_view h : kHeaders) {
    if (!starts_with(line, h)) continue;
    *name = std::string(h.substr(0, h.find(' ')));
    return parse_int(line.substr(h.size()), total);
  }
  return false;
}

void append_utf8(std::string& out, std::uint32_t r) {
  if (r < 0x80) {
    out += static_cast<char>(r);
  } else if (r < 0x800) {
    out += static_cast<char>(0xc0 | (r >> 6));
    out += static_cast<char>(0x80 | (r & 0x3f));
  } else if (r < 0x10000) {
    out += static_cast<char>(0xe0 | (r >> 12));
    out += static_cast<char>(0x80 | ((r >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (r & 0x3f));
  } else {
    out += static_cast<char>(0xf0 | (r >> 18));
    out += static_cast<char>(0x80 | ((r >> 12) & 0x3f));
    out += static_cast<char>(0x80 | ((r >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (r & 0x3f));
  }
}

class Parser {
 public:
  Parser(std::istream& in, const std::function<void(StackGroup&&)>& emit, std::string* name)
      : lines_(in), emit_(emit), name_(name) {}

  std::int64_t run() {
    std::string_view line;
    while (lines_.next(&line)) {
      ++lineno_;
      step(line);
    }
    if (!seen_header_) {
      throw ParseError(lineno_, "no \"goroutine profile: total N\" header (nor goroutineleak's; not a debug=1 profile)");
    }
    if (open_) end_group();
    if (sum_ != total_) {
      throw ParseError(lineno_, "the header says total " + std::to_string(total_) + " but the groups count " +
                                    std::to_string(sum_) + " (truncated?)");
    }
    return total_;
  }

 private:
  void step(std::string_view line) {
    if (!seen_header_) {
      if (line.empty()) return;
      if (!parse_header(line, &total_, name_)) {
        throw ParseError(lineno_, "expected \"goroutine profile: total N\" (or \"goroutineleak profile: total N\"), got \"" +
                                      std::string(line) + "\"");
      }
      seen_header_ = true;
      return;
    }
    if (line.empty()) {
      if (open_) end_group();
      return;
    }
    if (line.substr(0, 10) == "# labels: ") {
      if (!open_ || !group_.frames.empty()) throw ParseError(lineno_, "a labels line outside a group's head");
      labels(line.substr(10));
      return;
    }
    if (line.substr(0, 2) == "#\t") {
      if (!open_) throw ParseError(lineno_, "a frame line outside a group");
      frame(line.substr(2));
      return;
    }
    if (open_) end_group();
    begin(line);
  }

  // <count> @ 0x.. 0x..
  void begin(std::string_view line) {
    std::size_t at = line.find(" @");
    group_ = StackGroup();
    group_.line = lineno_;
    if (at == std::string_view::npos || !parse_int(line.substr(0, at), &group_.count) || group_.count <= 0) {
      throw ParseError(lineno_, "expected \"<count> @ <pcs>\", got \"" + std::string(line) + "\"");
    }
    std::string_view rest = line.substr(at + 2);
    while (!rest.empty()) {
      if (rest[0] != ' ') throw ParseError(lineno_, "pcs must be separated by spaces");
      rest.remove_prefix(1);
      std::size_t end = rest.find(' ');
      std::uint64_t pc = 0;
      if (!parse_hex(rest.substr(0, end), &pc)) {
        throw ParseError(lineno_, "bad pc \"" + std::string(rest.substr(0, end)) + "\"");
      }
      group_.pcs.push_back(pc);
      rest = end == std::string_view::npos ? std::string_view() : rest.substr(end);
    }
    group_.frames.reserve(group_.pcs.size());  // one "#" line per pc, more with inlining
    open_ = true;
  }

  // {"k":"v", "k2":"v2"}: Go's labelMap.String, values quoted with %q.
  void labels(std::string_view s) {
    if (s.size() < 2 || s.front() != '{' || s.back() != '}') throw ParseError(lineno_, "labels must be {...}");
    s = s.substr(1, s.size() - 2);
    while (!s.empty()) {
      std::string key, value;
      s = quoted(s, &key);
      if (s.empty() || s[0] != ':') throw ParseError(lineno_, "expected ':' after a label key");
      s = quoted(s.substr(1), &value);
      group_.labels.emplace_back(std::move(key), std::move(value));
      if (s.empty()) break;
      if (s.substr(0, 2) != ", ") throw ParseError(lineno_, "labels must be separated by \", \"");
      s.remove_prefix(2);
    }
  }

  // Reads one quoted string at the front of s; returns the rest.
  std::string_view quoted(std::string_view s, std::string* out) {
    if (s.empty() || s[0] != '"') throw ParseError(lineno_, "expected a quoted label");
    std::size_t i = 1;
    while (i < s.size() && s[i] != '"') i += s[i] == '\\' ? 2 : 1;
    if (i >= s.size()) throw ParseError(lineno_, "unterminated quoted label");
    if (!go_unquote(s.substr(0, i + 1), out)) throw ParseError(lineno_, "bad escape in a quoted label");
    return s.substr(i + 1);
  }

  // 0x<pc>[\t+]<function>+0x<off>[\t+]<file>:<line>, or just 0x<pc>.
  void frame(std::string_view s) {
    std::size_t tab = s.find('\t');
    std::uint64_t pc = 0;
    if (!parse_hex(s.substr(0, tab), &pc)) throw ParseError(lineno_, "bad pc in a frame line");
    Frame f;
    if (tab != std::string_view::npos) {
      std::size_t fn_at = s.find_first_not_of('\t', tab);
      if (fn_at == std::string_view::npos) throw ParseError(lineno_, "a frame line without a function");
      s = s.substr(fn_at);
      tab = s.find('\t');
      std::size_t loc_at = tab == std::string_view::npos ? tab : s.find_first_not_of('\t', tab);
      if (loc_at == std::string_view::npos) throw ParseError(lineno_, "a frame line without a file:line");
      std::string_view fn = s.substr(0, tab);
      std::size_t plus = fn.rfind("+0x");
      if (plus == std::string_view::npos || !parse_int(fn.substr(plus + 3), &f.where.offset, 16)) {
        throw ParseError(lineno_, "expected \"<function>+0x<offset>\", got \"" + std::string(fn) + "\"");
      }
      f.function = std::string(fn.substr(0, plus));
      std::string_view loc = s.substr(loc_at);
      std::size_t colon = loc.rfind(':');
      if (colon == std::string_view::npos || !parse_int(loc.substr(colon + 1), &f.where.line)) {
        throw ParseError(lineno_, "expected \"<file>:<line>\", got \"" + std::string(loc) + "\"");
      }
      f.where.file = std::string(loc.substr(0, colon));
    }
    group_.frames.push_back(std::move(f));
  }

  void end_group() {
    if (__builtin_add_overflow(sum_, group_.count, &sum_)) {
      throw ParseError(group_.line, "the groups' counts add up to more than 2^63-1");
    }
    emit_(std::move(group_));
    group_ = StackGroup();
    open_ = false;
  }

  LineReader lines_;
  const std::function<void(StackGroup&&)>& emit_;
  std::string* name_;
  std::size_t lineno_ = 0;
  bool seen_header_ = false;
  bool open_ = false;
  std::int64_t total_ = 0;
  std::int64_t sum_ = 0;
  StackGroup group_;
};

}  // namespace

std::int64_t parse_go_debug1(std::istream& in, const std::function<void(StackGroup&&)>& on_group,
                             std::string* profile_name) {
  std::string ignored;
  return Parser(in, on_group, profile_name != nullptr ? profile_name : &ignored).run();
}

bool go_unquote(std::string_view q, std::string* out) {
  if (q.size() < 2 || q.front() != '"' || q.back() != '"') return false;
  out->clear();
  for (std::size_t i = 1; i + 1 < q.size(); ++i) {
    char c = q[i];
    if (c != '\\') {
      *out += c;
      continue;
    }
    if (i + 2 >= q.size()) return false;
    char e = q[++i];
    switch (e) {
      case 'a': *out += '\a'; break;
      case 'b': *out += '\b'; break;
      case 'f': *out += '\f'; break;
      case 'n': *out += '\n'; break;
      case 'r': *out += '\r'; break;
      case 't': *out += '\t'; break;
      case 'v': *out += '\v'; break;
      case '\\': *out += '\\'; break;
      case '"': *out += '"'; break;
      case '\'': *out += '\''; break;
      case 'x':
      case 'u':
      case 'U': {
        std::size_t digits = e == 'x' ? 2 : e == 'u' ? 4 : 8;
        std::uint32_t v = 0;
        if (i + digits >= q.size() || !parse_int(q.substr(i + 1, digits), &v, 16)) return false;
        i += digits;
        if (e == 'x') {
          *out += static_cast<char>(v);
        } else {
          if (v > 0x10ffff || (v >= 0xd800 && v < 0xe000)) return false;
          append_utf8(*out, v);
        }
        break;
      }
      default:
        if (e >= '0' && e <= '7') {  // \ooo
          std::uint32_t v = 0;
          if (i + 2 >= q.size() || !parse_int(q.substr(i, 3), &v, 8) || v > 0xff) return false;
          i += 2;
          *out += static_cast<char>(v);
          break;
        }
        return false;
    }
  }
  return true;
}

}  // namespace goro_leaks
