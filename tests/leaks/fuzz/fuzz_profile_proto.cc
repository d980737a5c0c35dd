// libFuzzer target: read_profile_proto (profile.proto, gzipped or not) on
// arbitrary bytes. The result must be groups whose counts add up to the
// reported total, or a ParseError.
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include "fuzz_support.h"
#include "profile_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string bytes(reinterpret_cast<const char*>(data), size);
  std::istringstream in(bytes);
  goro_leaks::ProfileInfo info;
  std::vector<goro_leaks::StackGroup> groups;
  bool ok = leaks_fuzz::only_parse_errors(bytes, false, [&] { groups = goro_leaks::read_profile_proto(in, &info); });
  if (ok) {
    std::int64_t sum = 0;
    for (const goro_leaks::StackGroup& g : groups) {
      if (__builtin_add_overflow(sum, g.count, &sum)) leaks_fuzz::fail("read_profile_proto returned counts that overflow");
    }
    if (sum != info.total) leaks_fuzz::fail("read_profile_proto's total differs from the sum of its groups");
  }
  return 0;
}
