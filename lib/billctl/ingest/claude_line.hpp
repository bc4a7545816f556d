// One line of a Claude Code session log (~/.claude/projects/<project>/<session>.jsonl), reduced to
// what billing reads: the line's type, the message's id, model and usage, the request id, where
// and when. Two readers fill it by the same rules: a scanner for the lines Claude Code writes,
// which never unescapes or builds anything, and simdjson for every line the scanner leaves.
#pragma once

#include <simdjson.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace billctl::ingest {

struct ClaudeLine {
  std::string_view type, request_id, cwd, session, timestamp;  // top-level string fields
  std::string_view msg_id, model, tier;                        // message.id, message.model, message.usage.service_tier
  bool has_usage = false;  // message.usage is an object
  bool has_split = false;  // message.usage.cache_creation is an object
  // message.usage counts; a count that is not a non-negative integer reads as 0.
  int64_t input = 0, output = 0, cache_read = 0, cache_write = 0, cache_write_5m = 0, cache_write_1h = 0;
};

// Does the line hold the text "usage" in quotes (a key or a string, unescaped)? A line that does
// not bills nothing: Claude Code's user messages and tool results, summaries. Searched from the
// end, where an assistant line has its usage.
bool mentions_usage(std::string_view line);

// Reads a line without a parser. True when the line is valid JSON (UTF-8, nesting under 64 levels)
// and every field it reads is a string without escapes or a number; `out` then holds exactly
// what parse_claude_line would give. False otherwise (nothing is promised of `out`): give the
// line to parse_claude_line, which reads it or says why it cannot.
bool scan_claude_line(std::string_view line, ClaudeLine& out);

// Reads a line with simdjson; `capacity` is the readable size from line.data() (at least
// line.size() + SIMDJSON_PADDING). Empty, or why the line is not JSON ("invalid JSON: ...").
// Views in `out` point into the line or into the parser's buffer: valid until its next use.
std::string parse_claude_line(simdjson::ondemand::parser& parser, std::string_view line, size_t capacity, ClaudeLine& out);

}  // namespace billctl::ingest
