#include "profile_reader.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/wire_format_lite.h>
#include <zlib.h>

#include <iterator>
#include <unordered_map>

#include "debug/profile.pb.h"

namespace goro_leaks {
namespace {

namespace pb = perftools::profiles;

[[noreturn]] void fail(const std::string& what) { throw ParseError(0, "profile.proto: " + what); }

std::string gunzip(const std::string& data) {
  z_stream z{};
  if (inflateInit2(&z, 15 + 32) != Z_OK) fail("zlib cannot start");  // 32: gzip or zlib header
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  std::string out;
  char buf[1 << 16];
  int rc;
  do {
    z.next_out = reinterpret_cast<Bytef*>(buf);
    z.avail_out = sizeof(buf);
    rc = inflate(&z, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) {
      inflateEnd(&z);
      fail(std::string("corrupt gzip data (") + (z.msg != nullptr ? z.msg : "zlib error") + ")");
    }
    out.append(buf, sizeof(buf) - z.avail_out);
    if (rc != Z_STREAM_END && z.avail_in == 0 && z.avail_out != 0) {
      inflateEnd(&z);
      fail("the gzip stream is cut short");
    }
  } while (rc != Z_STREAM_END);
  inflateEnd(&z);
  return out;
}

// Takes the string table (Profile field 6) out of a serialized profile: its
// entries into *strings, in order, as bytes, and everything else into
// *rest. Go writes whatever bytes a string holds (a label value need not be
// UTF-8) and Go's readers take them, but protobuf's C++ parser refuses a
// proto3 `string` that is not UTF-8; the rest has no strings left to check.
// False when `data` is not a protobuf message.
bool split_string_table(const std::string& data, std::string* rest, std::vector<std::string>* strings) {
  namespace io = google::protobuf::io;
  using Wire = google::protobuf::internal::WireFormatLite;
  constexpr int kStringTable = 6;
  io::CodedInputStream in(reinterpret_cast<const std::uint8_t*>(data.data()), static_cast<int>(data.size()));
  io::StringOutputStream sink(rest);
  io::CodedOutputStream out(&sink);
  for (;;) {
    std::uint32_t tag = in.ReadTag();
    if (tag == 0) return in.ConsumedEntireMessage();
    if (Wire::GetTagFieldNumber(tag) == kStringTable && Wire::GetTagWireType(tag) == Wire::WIRETYPE_LENGTH_DELIMITED) {
      if (!Wire::ReadBytes(&in, &strings->emplace_back())) return false;
    } else if (!Wire::SkipField(&in, tag, &out)) {
      return false;
    }
  }
}

struct Strings {
  std::vector<std::string> table;
  const std::string& operator()(std::int64_t i) const {
    if (i < 0 || static_cast<std::uint64_t>(i) >= table.size()) fail("a string index out of range: " + std::to_string(i));
    return table[static_cast<std::size_t>(i)];
  }
};

}  // namespace

std::vector<StackGroup> read_profile_proto(std::istream& in, ProfileInfo* info) {
  std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (looks_gzipped(data)) data = gunzip(data);
  if (data.size() > static_cast<std::size_t>(INT32_MAX)) fail("larger than 2 GiB");
  pb::Profile p;
  Strings str;
  std::string rest;
  if (data.empty() || !split_string_table(data, &rest, &str.table) || !p.ParseFromString(rest)) {
    fail("not a protobuf-encoded profile");
  }
  if (str.table.empty() || !str.table[0].empty()) fail("the string table must start with \"\"");
  if (p.sample_type_size() != 1) fail("a goroutine profile has one sample type, this one has " +
                                      std::to_string(p.sample_type_size()));
  ProfileInfo pi;
  pi.sample_type = str(p.sample_type(0).type());
  pi.time_nanos = p.time_nanos();
  if (str(p.sample_type(0).unit()) != "count") fail("sample unit \"" + str(p.sample_type(0).unit()) + "\" is not a count");

  std::unordered_map<std::uint64_t, const pb::Function*> functions;
  for (const pb::Function& f : p.function()) functions[f.id()] = &f;
  std::unordered_map<std::uint64_t, const pb::Location*> locations;
  for (const pb::Location& l : p.location()) locations[l.id()] = &l;

  std::vector<StackGroup> out;
  out.reserve(static_cast<std::size_t>(p.sample_size()));
  for (const pb::Sample& s : p.sample()) {
    StackGroup g;
    if (s.value_size() != 1) fail("a sample with " + std::to_string(s.value_size()) + " values");
    g.count = s.value(0);
    if (__builtin_add_overflow(pi.total, g.count, &pi.total)) fail("the samples' counts add up to more than 2^63-1");
    for (std::uint64_t id : s.location_id()) {
      auto it = locations.find(id);
      if (it == locations.end()) fail("a sample names location " + std::to_string(id) + ", which does not exist");
      const pb::Location& loc = *it->second;
      g.pcs.push_back(loc.address());
      for (const pb::Line& line : loc.line()) {
        auto fn = functions.find(line.function_id());
        if (fn == functions.end()) fail("a line names function " + std::to_string(line.function_id()) + ", which does not exist");
        Frame f;
        f.function = str(fn->second->name());
        f.where.file = str(fn->second->filename());
        f.where.line = static_cast<int>(line.line());
        g.frames.push_back(std::move(f));
      }
    }
    for (const pb::Label& l : s.label()) {
      if (l.str() != 0) g.labels.emplace_back(str(l.key()), str(l.str()));
    }
    out.push_back(std::move(g));
  }
  if (info != nullptr) *info = pi;
  return out;
}

}  // namespace goro_leaks
