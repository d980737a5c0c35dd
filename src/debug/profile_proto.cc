// debug=0 goroutine profile: the samples as a perftools.profiles.Profile
// (debug/profile.proto), gzipped, in the shape Go 1.19's runtime/pprof
// writes for pprof.Lookup("goroutine").WriteTo(w, 0) (printCountProfile and
// profileBuilder in runtime/pprof/pprof.go and proto.go):
//
//   sample_type [{goroutine, count}], period_type {goroutine, count},
//   period 1, time_nanos; one Sample per group {value [count], location_id
//   innermost first, one Label{key, str} per label}; samples ordered by
//   count, largest first; the executable mappings of /proc/self/maps.
//
// Invariants of the Builder below (all per call; nothing outlives it):
//  - string_table[0] is "" and every string appears once (strings_ maps it
//    to its index);
//  - a Location exists once per distinct address; locations_ maps the
//    address to its id, or to 0 for an address all of whose frames are
//    goro's own (such addresses get no Location and no place in a stack);
//  - a Function exists once per (name, file); its id is its index + 1;
//  - every Location, Function and Mapping id is its index in the Profile's
//    repeated field + 1, as pprof's own writer numbers them.
#include "debug/profile_proto.h"

#include <link.h>
#include <zlib.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <numeric>
#include <stdexcept>
#include <string_view>
#include <unordered_map>

#include "debug/profile.pb.h"
#include "debug/symbolizer.h"
#include "debug/traceback.h"

namespace goro::detail {
namespace {

namespace pb = perftools::profiles;

// One executable mapping of /proc/self/maps, with what symbolizing its
// locations found (Go's memMap and symbolizeFlag).
struct MemMap {
  std::uintptr_t start = 0;
  std::uintptr_t limit = 0;
  std::uint64_t offset = 0;
  std::string file;
  std::string build_id;
  bool fake = false;           // /proc/self/maps unreadable: covers everything
  bool lookup_tried = false;   // some location in it was symbolized
  bool lookup_failed = false;  // some frame had no function
};

// The loaded ELF objects' PT_LOAD ranges and GNU build ids, read from the
// program headers in memory (dl_iterate_phdr): no file is opened, and the
// answer is the build id of what is mapped, even if the file on disk has
// been replaced since.
struct LoadedObject {
  std::vector<std::pair<std::uintptr_t, std::uintptr_t>> segments;  // [lo, hi)
  std::string build_id;                                              // lowercase hex
};

std::string gnu_build_id(const dl_phdr_info& info) {
  for (int i = 0; i < info.dlpi_phnum; ++i) {
    const ElfW(Phdr)& ph = info.dlpi_phdr[i];
    if (ph.p_type != PT_NOTE) continue;
    const std::size_t align = ph.p_align == 8 ? 8 : 4;
    auto round = [align](std::size_t n) { return (n + align - 1) & ~(align - 1); };
    const auto* p = reinterpret_cast<const unsigned char*>(info.dlpi_addr + ph.p_vaddr);
    const unsigned char* end = p + ph.p_memsz;
    while (p + sizeof(ElfW(Nhdr)) <= end) {
      ElfW(Nhdr) nh;
      std::memcpy(&nh, p, sizeof nh);
      const unsigned char* name = p + sizeof nh;
      const unsigned char* desc = name + round(nh.n_namesz);
      if (desc + nh.n_descsz > end) break;
      if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 && std::memcmp(name, "GNU", 4) == 0) {
        static const char kHex[] = "0123456789abcdef";
        std::string id;
        for (std::size_t k = 0; k < nh.n_descsz; ++k) {
          id += kHex[desc[k] >> 4];
          id += kHex[desc[k] & 15];
        }
        return id;
      }
      p = desc + round(nh.n_descsz);
    }
  }
  return "";
}

std::vector<LoadedObject> loaded_objects() {
  std::vector<LoadedObject> objects;
  dl_iterate_phdr(
      [](dl_phdr_info* info, std::size_t, void* arg) {
        LoadedObject obj;
        for (int i = 0; i < info->dlpi_phnum; ++i) {
          const ElfW(Phdr)& ph = info->dlpi_phdr[i];
          if (ph.p_type != PT_LOAD) continue;
          std::uintptr_t lo = info->dlpi_addr + ph.p_vaddr;
          obj.segments.emplace_back(lo, lo + ph.p_memsz);
        }
        obj.build_id = gnu_build_id(*info);
        static_cast<std::vector<LoadedObject>*>(arg)->push_back(std::move(obj));
        return 0;
      },
      &objects);
  return objects;
}

// The executable mappings, parsed as Go's parseProcSelfMaps does: only
// mappings with 'x' permission and a file name (or a [vdso]-like name), a
// " (deleted)" suffix trimmed. If none can be read, one fake mapping that
// covers every address, because pprof expects at least one.
std::vector<MemMap> read_mappings() {
  std::vector<MemMap> maps;
  std::ifstream in("/proc/self/maps");
  std::vector<LoadedObject> objects;
  bool have_objects = false;
  std::string line;
  while (std::getline(in, line)) {
    unsigned long lo = 0, hi = 0, offset = 0;
    char perm[5] = {};
    int file_at = 0;
    // lo-hi perm offset dev inode file
    if (std::sscanf(line.c_str(), "%lx-%lx %4s %lx %*s %*s %n", &lo, &hi, perm, &offset, &file_at) < 4) continue;
    if (file_at == 0 || perm[2] != 'x') continue;
    std::string file = line.substr(static_cast<std::size_t>(file_at));
    constexpr std::string_view kDeleted = " (deleted)";
    if (file.size() >= kDeleted.size() && file.compare(file.size() - kDeleted.size(), kDeleted.size(), kDeleted) == 0) {
      file.resize(file.size() - kDeleted.size());
    }
    // Anonymous executable memory (JIT code, the unpopulated head of a
    // huge-page text mapping): Go leaves it out too.
    if (file.empty()) continue;
    MemMap m;
    m.start = lo;
    m.limit = hi;
    m.offset = offset;
    m.file = std::move(file);
    if (!have_objects) {
      objects = loaded_objects();
      have_objects = true;
    }
    for (const LoadedObject& obj : objects) {
      bool contains = std::any_of(obj.segments.begin(), obj.segments.end(),
                                  [lo](const auto& seg) { return seg.first <= lo && lo < seg.second; });
      if (contains) {
        m.build_id = obj.build_id;
        break;
      }
    }
    maps.push_back(std::move(m));
  }
  if (maps.empty()) {
    MemMap fake;
    fake.fake = true;
    maps.push_back(std::move(fake));
  }
  return maps;
}

class Builder {
 public:
  Builder() : mappings_(read_mappings()) { intern(""); }

  pb::Profile& profile() { return profile_; }

  std::int64_t intern(const std::string& s) {
    auto [it, inserted] = strings_.try_emplace(s, static_cast<std::int64_t>(strings_.size()));
    if (inserted) profile_.add_string_table(s);
    return it->second;
  }

  void value_type(pb::ValueType* vt, const std::string& type, const std::string& unit) {
    vt->set_type(intern(type));
    vt->set_unit(intern(unit));
  }

  // The location id for one stack entry, or 0 when the entry is left out.
  //
  // Address: Go's profile records, for a return address, the pc of the call
  // instruction's last byte: runtime.CallersFrames reports Frame.PC =
  // return address - 1, and emitLocation writes that Frame.PC. We do the
  // same (pc - 1 for return addresses, pc itself for a running goroutine's
  // exact pc), so that pprof, symbolizing an address itself (-symbolize=
  // force, or a mapping without has_functions), lands on the call's line
  // and not on the line after it. This is also the address symbolize()
  // looks lines up at, so both readers agree.
  //
  // Lines: symbolize()'s frames, innermost (inlined) first, minus goro's own
  // frames (is_runtime_frame), as Go's traceback and profile hide
  // runtime.goexit. An address all of whose frames are goro's own gets no
  // Location at all (Go's allFrames does the same for runtime.goexit): a
  // line-less Location would show in `go tool pprof -traces` as a bare hex
  // address on every goroutine, the entry trampoline at the bottom of each
  // stack. A frame symbolize() could not name (empty function) gets no Line
  // either -- a Function with an empty name is unreadable -- but its
  // Location stays, address only, so that pprof shows the address and can
  // symbolize it itself (the mapping then lacks has_functions).
  std::uint64_t location(std::uintptr_t pc, bool is_return_address) {
    const std::uintptr_t address = is_return_address && pc != 0 ? pc - 1 : pc;
    auto [it, inserted] = locations_.try_emplace(address, 0);
    if (!inserted) return it->second;

    const std::vector<SymbolFrame>& frames = symbolize(pc, is_return_address);
    bool shown = false;
    bool failed = false;
    for (const SymbolFrame& f : frames) {
      if (is_runtime_frame(f.function)) continue;
      shown = true;
      // A function named without line information (the C library, the
      // sanitizer runtimes) counts as symbolized: pprof would find no more,
      // and a mapping without has_functions is re-symbolized by pprof from
      // the binary, which brings back the frames goro hides.
      failed |= f.function.empty();
    }
    if (!shown) return 0;  // it->second stays 0: left out of every stack

    const auto id = static_cast<std::uint64_t>(profile_.location_size()) + 1;
    it->second = id;
    pb::Location* loc = profile_.add_location();
    loc->set_id(id);
    loc->set_address(address);
    for (const SymbolFrame& f : frames) {
      if (f.function.empty() || is_runtime_frame(f.function)) continue;
      pb::Line* line = loc->add_line();
      line->set_function_id(function(f.function, f.file));
      line->set_line(f.line);
    }
    for (std::size_t i = 0; i < mappings_.size(); ++i) {
      MemMap& m = mappings_[i];
      if (m.fake || (m.start <= address && address < m.limit)) {
        loc->set_mapping_id(i + 1);
        m.lookup_tried = true;
        m.lookup_failed |= failed;
        break;
      }
    }
    return id;
  }

  // Go's pbMapping: has_functions only when every location in the mapping
  // was fully symbolized. Like Go, has_filenames, has_line_numbers and
  // has_inline_frames stay unset (pprof reads has_functions alone as "do not
  // symbolize this mapping again").
  void add_mappings() {
    for (std::size_t i = 0; i < mappings_.size(); ++i) {
      const MemMap& m = mappings_[i];
      pb::Mapping* pm = profile_.add_mapping();
      pm->set_id(i + 1);
      pm->set_memory_start(m.start);
      pm->set_memory_limit(m.limit);
      pm->set_file_offset(m.offset);
      pm->set_filename(intern(m.file));
      pm->set_build_id(intern(m.build_id));
      pm->set_has_functions(m.lookup_tried && !m.lookup_failed);
    }
  }

 private:
  // Functions are keyed by name and file: display names drop parameter
  // lists, so overloads in different files would otherwise merge (Go keys
  // by name alone; its names are unique). name and system_name are both the
  // display name, as in Go's profiles.
  std::uint64_t function(const std::string& name, const std::string& file) {
    auto [it, inserted] = functions_.try_emplace({name, file}, 0);
    if (inserted) {
      it->second = static_cast<std::uint64_t>(profile_.function_size()) + 1;
      pb::Function* fn = profile_.add_function();
      fn->set_id(it->second);
      fn->set_name(intern(name));
      fn->set_system_name(intern(name));
      fn->set_filename(intern(file));
    }
    return it->second;
  }

  pb::Profile profile_;
  std::vector<MemMap> mappings_;
  std::unordered_map<std::string, std::int64_t> strings_;
  std::unordered_map<std::uintptr_t, std::uint64_t> locations_;
  std::map<std::pair<std::string, std::string>, std::uint64_t> functions_;
};

// Ends a z_stream on every path out of write_gzip.
struct DeflateEnd {
  z_stream* zs;
  ~DeflateEnd() { deflateEnd(zs); }
};

// Gzips data onto out, writing each chunk as deflate produces it (no copy
// of the compressed whole). BestSpeed, as Go's profileBuilder.
void write_gzip(std::ostream& out, const std::string& data) {
  z_stream zs{};
  // windowBits 15 + 16: a gzip header and trailer around the deflate stream.
  if (deflateInit2(&zs, Z_BEST_SPEED, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    throw std::runtime_error("goroutine profile: deflateInit2 failed");
  }
  DeflateEnd end{&zs};
  // On the heap: this may run on a goroutine's stack.
  std::vector<unsigned char> chunk(64 * 1024);
  std::size_t fed = 0;
  int ret = Z_OK;
  while (ret != Z_STREAM_END && out) {
    if (zs.avail_in == 0 && fed < data.size()) {
      // avail_in is a uInt: feed a large message a piece at a time.
      std::size_t n = std::min<std::size_t>(data.size() - fed, 1u << 30);
      zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data() + fed));
      zs.avail_in = static_cast<uInt>(n);
      fed += n;
    }
    zs.next_out = chunk.data();
    zs.avail_out = static_cast<uInt>(chunk.size());
    ret = deflate(&zs, fed == data.size() ? Z_FINISH : Z_NO_FLUSH);
    if (ret != Z_OK && ret != Z_STREAM_END && ret != Z_BUF_ERROR) {
      throw std::runtime_error(std::string("goroutine profile: deflate failed: ") + (zs.msg ? zs.msg : "?"));
    }
    out.write(reinterpret_cast<const char*>(chunk.data()), static_cast<std::streamsize>(chunk.size() - zs.avail_out));
  }
}

}  // namespace

void write_goroutine_proto(std::ostream& out, const std::vector<ProfileSample>& samples, std::int64_t time_nanos) {
  Builder b;
  pb::Profile& p = b.profile();
  // Field order of Go's printCountProfile (the string table fills in this
  // order, so the first strings are the same as in Go's profiles).
  b.value_type(p.mutable_period_type(), "goroutine", "count");
  p.set_period(1);
  b.value_type(p.add_sample_type(), "goroutine", "count");
  p.set_time_nanos(time_nanos);

  // Largest groups first, as Go's keysByCount; equal counts keep the
  // caller's order.
  std::vector<std::size_t> order(samples.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return samples[a].count > samples[b].count; });

  for (std::size_t i : order) {
    const ProfileSample& s = samples[i];
    pb::Sample* ps = p.add_sample();
    ps->add_value(s.count);
    for (std::size_t k = 0; k < s.npcs; ++k) {
      if (std::uint64_t id = b.location(s.pcs[k], !(s.first_is_pc && k == 0))) ps->add_location_id(id);
    }
    if (s.labels != nullptr) {
      for (const auto& [key, value] : *s.labels) {
        pb::Label* l = ps->add_label();
        l->set_key(b.intern(key));
        l->set_str(b.intern(value));
      }
    }
  }
  b.add_mappings();

  // The message itself is small (one Location per distinct pc, one Sample
  // per distinct stack and label set); only its compressed form is streamed.
  std::string encoded;
  if (!p.SerializeToString(&encoded)) throw std::runtime_error("goroutine profile: protobuf serialization failed");
  write_gzip(out, encoded);
}

}  // namespace goro::detail
