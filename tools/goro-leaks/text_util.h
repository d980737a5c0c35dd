// Small text helpers the goro-leaks parsers share.
#pragma once

#include <algorithm>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <istream>
#include <streambuf>
#include <string_view>
#include <vector>

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

// The lines of an istream, as std::getline would give them, without a copy
// per line: reads big blocks straight from the streambuf and hands out views
// into them. '\n' ends a line; one '\r' before it (or at the very end) is
// dropped; a last line without '\n' counts, an empty input has no lines.
//
// A view stays valid until the next call to next(). The block starts small
// (a small input costs little) and doubles with each read up to `block`; a
// line longer than the block grows it further (memory: the longest line and
// the block, not the input).
class LineReader {
 public:
  static constexpr std::size_t kBlock = 256 * 1024;

  explicit LineReader(std::istream& in, std::size_t block = kBlock)
      : in_(in), block_(block < 1 ? 1 : block), buf_(block_ < 4096 ? block_ : 4096) {}

  // Sets *line to the next line; false at the end of the input.
  bool next(std::string_view* line) {
    for (;;) {
      // Invariant: [begin_, end_) is unread; [begin_, scan_) has no '\n'.
      char* data = buf_.data();
      if (const void* nl = scan_ < end_ ? std::memchr(data + scan_, '\n', end_ - scan_) : nullptr) {
        std::size_t at = static_cast<std::size_t>(static_cast<const char*>(nl) - data);
        *line = without_cr(std::string_view(data + begin_, at - begin_));
        begin_ = scan_ = at + 1;
        return true;
      }
      scan_ = end_;
      if (eof_) {
        if (begin_ == end_) return false;
        *line = without_cr(std::string_view(data + begin_, end_ - begin_));
        begin_ = end_;
        return true;
      }
      fill();
    }
  }

 private:
  static std::string_view without_cr(std::string_view s) {
    if (!s.empty() && s.back() == '\r') s.remove_suffix(1);
    return s;
  }

  // Moves the unfinished line to the front (growing the block when it fills
  // it) and reads more after it; sets eof_ when the stream has no more.
  void fill() {
    std::size_t keep = end_ - begin_;
    if (begin_ > 0) {
      std::memmove(buf_.data(), buf_.data() + begin_, keep);
      scan_ -= begin_;
      begin_ = 0;
      end_ = keep;
    }
    if (filled_ && buf_.size() < block_) {
      buf_.resize(std::min(buf_.size() * 2, block_));  // more input than the first read: bigger reads
    } else if (end_ == buf_.size()) {
      buf_.resize(buf_.size() * 2);  // a line longer than the block
    }
    filled_ = true;
    std::streamsize got = 0;
    std::streambuf* sb = in_.rdbuf();
    if (sb != nullptr && in_.good()) {
      try {
        got = sb->sgetn(buf_.data() + end_, static_cast<std::streamsize>(buf_.size() - end_));
      } catch (...) {
        // What std::getline does: the stream goes bad and the input ends
        // (or ios_base::failure, when the caller asked for exceptions).
        eof_ = true;
        in_.setstate(std::ios::badbit);
        return;
      }
    }
    if (got <= 0) {
      eof_ = true;
      if (sb != nullptr && in_.good()) in_.setstate(std::ios::eofbit);
    } else {
      end_ += static_cast<std::size_t>(got);
    }
  }

  std::istream& in_;
  std::size_t block_;  // the size to read in once the input proved large
  std::vector<char> buf_;
  std::size_t begin_ = 0;  // start of the unread bytes
  std::size_t scan_ = 0;   // where the search for '\n' resumes
  std::size_t end_ = 0;    // end of the bytes read
  bool filled_ = false;  // read into the block before
  bool eof_ = false;
};

}  // namespace goro_leaks
