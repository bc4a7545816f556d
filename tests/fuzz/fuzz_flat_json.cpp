// Fuzz target for the flat JSON scanners: whenever the fast scanner vouches for a line, the exact
// scanner must read the same fields from it (and a line without DEL must be called plain).
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "billctl/ingest/flat_json.hpp"
#include "billctl/util/simd.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view line(reinterpret_cast<const char*>(data), size);
  billctl::ingest::FlatFields a, b;
  size_t na = 0, nb = 0;
  bool plain = false;
  if (!billctl::ingest::scan_flat_object_fast(line, a, na, plain)) return 0;
  if (!billctl::ingest::scan_flat_object(line, b, nb) || na != nb) std::abort();
  for (size_t i = 0; i < na; ++i)
    if (a[i].key != b[i].key || a[i].value != b[i].value) std::abort();
  if (plain != billctl::util::printable_ascii(line)) std::abort();
  return 0;
}
