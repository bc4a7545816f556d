// Differential fuzz target for Claude Code lines: every line the scanner reads must read the same
// with simdjson (the scanner may give up on any line, never answer differently).
#include <simdjson.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "billctl/ingest/claude_line.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static simdjson::ondemand::parser parser;
  const std::string_view all(reinterpret_cast<const char*>(data), size);
  size_t at = 0;
  while (at <= all.size()) {
    size_t end = all.find('\n', at);
    if (end == std::string_view::npos) end = all.size();
    const std::string_view line = all.substr(at, end - at);
    at = end + 1;
    billctl::ingest::ClaudeLine a, b;
    if (!billctl::ingest::scan_claude_line(line, a)) continue;
    std::string padded(line);
    padded.append(simdjson::SIMDJSON_PADDING, ' ');
    if (!billctl::ingest::parse_claude_line(parser, std::string_view(padded.data(), line.size()), padded.size(), b).empty()) std::abort();
    const bool same = a.type == b.type && a.request_id == b.request_id && a.cwd == b.cwd && a.session == b.session &&
                      a.timestamp == b.timestamp && a.msg_id == b.msg_id && a.model == b.model && a.tier == b.tier &&
                      a.has_usage == b.has_usage && a.has_split == b.has_split && a.input == b.input && a.output == b.output &&
                      a.cache_read == b.cache_read && a.cache_write == b.cache_write && a.cache_write_5m == b.cache_write_5m &&
                      a.cache_write_1h == b.cache_write_1h;
    if (!same) std::abort();
    if (billctl::ingest::mentions_usage(line) != (line.find("\"usage\"") != std::string_view::npos)) std::abort();
  }
  return 0;
}
