// Opening sources and telling formats apart.
//
// A file or stdin is streamed: the first 64 KiB are read to detect the
// format, then a PrefixedBuffer serves those bytes again followed by the
// rest of the stream, so nothing needs to seek (stdin cannot).
#include "input.h"

#include <httplib.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <streambuf>

#include "go_text_parser.h"
#include "profile_reader.h"
#include "text_util.h"

namespace goro_leaks {
namespace {

constexpr std::size_t kHeadBytes = 64 * 1024;

// Serves `head`, then whatever `rest` has left.
class PrefixedBuffer : public std::streambuf {
 public:
  PrefixedBuffer(std::string head, std::streambuf* rest) : head_(std::move(head)), rest_(rest) {
    setg(head_.data(), head_.data(), head_.data() + head_.size());
  }

 protected:
  int_type underflow() override {
    if (gptr() < egptr()) return traits_type::to_int_type(*gptr());
    std::streamsize n = rest_->sgetn(buf_, sizeof(buf_));
    if (n <= 0) return traits_type::eof();
    setg(buf_, buf_, buf_ + n);
    return traits_type::to_int_type(*gptr());
  }

 private:
  std::string head_;
  std::streambuf* rest_;
  char buf_[1 << 16];
};

std::string read_head(std::istream& in) {
  std::string head(kHeadBytes, '\0');
  in.read(head.data(), static_cast<std::streamsize>(head.size()));
  head.resize(static_cast<std::size_t>(in.gcount()));
  return head;
}

bool is_text_byte(unsigned char c) { return c == '\n' || c == '\r' || c == '\t' || c >= 0x20; }

std::string first_line_of(std::string_view s) {
  std::string_view line = s.substr(0, std::min(s.find('\n'), std::size_t{80}));
  std::string out;
  for (unsigned char c : line) out += is_text_byte(c) && c != '\r' ? static_cast<char>(c) : '?';
  return out;
}

// "goroutine 12 [" at the start of some line of head.
bool has_goroutine_header(std::string_view head) {
  for (std::size_t at = 0; at < head.size();) {
    std::string_view line = head.substr(at, head.find('\n', at) - at);
    if (starts_with(line, "goroutine ") && line.size() > 10 && std::isdigit(static_cast<unsigned char>(line[10])) &&
        line.find(" [") != std::string_view::npos) {
      return true;
    }
    std::size_t nl = head.find('\n', at);
    if (nl == std::string_view::npos) break;
    at = nl + 1;
  }
  return false;
}

Snapshot read_detected(std::istream& in, const std::string& name, Similarity similarity) {
  std::string head = read_head(in);
  if (head.rfind("\xEF\xBB\xBF", 0) == 0) head.erase(0, 3);  // a UTF-8 byte order mark (editors on Windows)
  Format format = detect_format(head);
  PrefixedBuffer buffer(std::move(head), in.rdbuf());
  std::istream joined(&buffer);
  return read_snapshot(joined, format, similarity, name);
}

// "http://host:port/path?q" -> {"http://host:port", "/path?q"}.
std::pair<std::string, std::string> split_url(const std::string& url) {
  std::size_t scheme_end = url.find("://");
  std::size_t path = url.find('/', scheme_end + 3);
  if (path == std::string::npos) return {url, "/"};
  return {url.substr(0, path), url.substr(path)};
}

// httplib names errors with one word ("Connection"); say what it means.
std::string fetch_error(httplib::Error e, const FetchOptions& options) {
  std::string limit = std::to_string(options.timeout.count()) + " ms";
  switch (e) {
    case httplib::Error::Connection:
      return "cannot connect (refused, unreachable, or no connection within " + limit + ")";
    case httplib::Error::Read:
      return "no answer within " + limit + " (or the connection broke while reading)";
    case httplib::Error::SSLConnection:
    case httplib::Error::SSLServerVerification:
      return "TLS handshake failed (" + httplib::to_string(e) + ")";
    default:
      return httplib::to_string(e);
  }
}

std::string fetch(const std::string& url, const FetchOptions& options) {
  auto [origin, path] = split_url(url);
  httplib::Client client(origin);
  if (!client.is_valid()) throw InputError("GET " + url + ": not a URL goro-leaks can fetch");
  auto seconds = std::chrono::duration_cast<std::chrono::seconds>(options.timeout);
  auto micros = std::chrono::duration_cast<std::chrono::microseconds>(options.timeout - seconds);
  client.set_connection_timeout(seconds.count(), micros.count());
  client.set_read_timeout(seconds.count(), micros.count());
  client.set_follow_location(true);
  httplib::Result res = client.Get(path);
  if (!res) throw InputError("GET " + url + ": " + fetch_error(res.error(), options));
  if (res->status != 200) {
    throw InputError("GET " + url + ": HTTP " + std::to_string(res->status) +
                     (res->body.empty() ? std::string() : " (" + first_line_of(res->body) + ")"));
  }
  return std::move(res->body);
}

}  // namespace

Format detect_format(std::string_view head) {
  if (head.empty()) throw ParseError(1, "empty input: no goroutine dump");
  if (looks_gzipped(head)) return Format::kProfileProto;
  std::size_t binary = std::count_if(head.begin(), head.end(), [](char c) {
    return !is_text_byte(static_cast<unsigned char>(c));
  });
  // profile.proto starts with field 1 (sample_type), tag byte 0x0a, and is binary.
  if (head[0] == '\x0a' && binary > 0) return Format::kProfileProto;
  std::string_view text = head;
  if (starts_with(text, "\xEF\xBB\xBF")) text.remove_prefix(3);  // a UTF-8 byte order mark
  if (starts_with(text, "goroutine profile: total ") || starts_with(text, "goroutineleak profile: total ")) {
    return Format::kGoDebug1;
  }
  if (binary == 0 && has_goroutine_header(text)) return Format::kGoText;
  std::string lower(text.substr(0, 512));
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  if (lower.find("<html") != std::string::npos || lower.find("<!doctype") != std::string::npos) {
    throw ParseError(1, "an HTML page, not a goroutine dump (for a pprof endpoint, ask for "
                        "/debug/pprof/goroutine?debug=2, ?debug=1 or ?debug=0)");
  }
  // Other pprof text profiles: "heap profile: ...", "threadcreate profile: total 9".
  if (std::size_t p = text.find(" profile: "); p != std::string_view::npos && p < 40 &&
                                               text.substr(0, p).find_first_of(" \n") == std::string_view::npos) {
    throw ParseError(1, "a " + std::string(text.substr(0, p)) + " profile, not a goroutine profile");
  }
  if (binary > 0) throw ParseError(1, "binary data that is neither gzip nor profile.proto");
  throw ParseError(1, "not a goroutine dump: no \"goroutine N [state]:\" line in the first " +
                          std::to_string(head.size()) + " bytes (it starts \"" + first_line_of(text) + "\")");
}

Snapshot load_snapshot(std::istream& in, const std::string& name, Similarity similarity) {
  return read_detected(in, name, similarity);
}

Snapshot load_snapshot(const std::string& spec, Similarity similarity, const FetchOptions& fetch_options) {
  if (spec == "-") return read_detected(std::cin, "-", similarity);
  if (starts_with(spec, "http://") || starts_with(spec, "https://")) {
    std::istringstream body(fetch(spec, fetch_options));
    return read_detected(body, spec, similarity);
  }
  std::ifstream file(spec, std::ios::binary);
  if (!file) throw InputError(spec + ": " + std::strerror(errno));
  return read_detected(file, spec, similarity);
}

}  // namespace goro_leaks
