#include "profile_reader.h"

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

const std::string& str(const pb::Profile& p, std::int64_t i) {
  if (i < 0 || i >= p.string_table_size()) fail("a string index out of range: " + std::to_string(i));
  return p.string_table(static_cast<int>(i));
}

}  // namespace

std::vector<StackGroup> read_profile_proto(std::istream& in, ProfileInfo* info) {
  std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (looks_gzipped(data)) data = gunzip(data);
  pb::Profile p;
  if (data.empty() || !p.ParseFromString(data)) fail("not a protobuf-encoded profile");
  if (p.string_table_size() == 0 || !p.string_table(0).empty()) fail("the string table must start with \"\"");
  if (p.sample_type_size() != 1) fail("a goroutine profile has one sample type, this one has " +
                                      std::to_string(p.sample_type_size()));
  ProfileInfo pi;
  pi.sample_type = str(p, p.sample_type(0).type());
  pi.time_nanos = p.time_nanos();
  if (str(p, p.sample_type(0).unit()) != "count") fail("sample unit \"" + str(p, p.sample_type(0).unit()) + "\" is not a count");

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
    pi.total += g.count;
    for (std::uint64_t id : s.location_id()) {
      auto it = locations.find(id);
      if (it == locations.end()) fail("a sample names location " + std::to_string(id) + ", which does not exist");
      const pb::Location& loc = *it->second;
      g.pcs.push_back(loc.address());
      for (const pb::Line& line : loc.line()) {
        auto fn = functions.find(line.function_id());
        if (fn == functions.end()) fail("a line names function " + std::to_string(line.function_id()) + ", which does not exist");
        Frame f;
        f.function = str(p, fn->second->name());
        f.where.file = str(p, fn->second->filename());
        f.where.line = static_cast<int>(line.line());
        g.frames.push_back(std::move(f));
      }
    }
    for (const pb::Label& l : s.label()) {
      if (l.str() != 0) g.labels.emplace_back(str(p, l.key()), str(p, l.str()));
    }
    out.push_back(std::move(g));
  }
  if (info != nullptr) *info = pi;
  return out;
}

}  // namespace goro_leaks
