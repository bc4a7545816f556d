#include "billctl/util/toml_guard.hpp"

#include <cstdio>

#include "billctl/util/strings.hpp"

namespace billctl::util {

namespace {

void escape(std::string& out, uint32_t cp) {
  char buf[16];
  if (cp <= 0xFFFF) std::snprintf(buf, sizeof buf, "\\u%04X", unsigned(cp));
  else std::snprintf(buf, sizeof buf, "\\U%08X", unsigned(cp));
  out += buf;
}

}  // namespace

std::string toml_ascii(std::string_view s, std::string& why) {
  std::string out;
  out.reserve(s.size() + 16);
  size_t line = 1;
  auto fail = [&](const char* reason) {
    why = std::to_string(line) + ": " + reason;
    return std::string();
  };
  auto starts = [&](size_t i, std::string_view w) { return s.substr(i, w.size()) == w; };
  // Copies string content up to (not including) `close`, escaping as a basic string needs; a
  // literal string's backslashes and quotes are escaped too, since it becomes a basic string.
  auto content = [&](size_t& i, std::string_view close, bool literal, bool multiline) -> bool {
    while (i < s.size() && !starts(i, close)) {
      const char c = s[i];
      if (c == '\n') {
        if (!multiline) return true;  // unterminated: toml++ reports it
        ++line;
        out += c;
        ++i;
      } else if (!literal && c == '\\' && i + 1 < s.size()) {
        if (static_cast<unsigned char>(s[i + 1]) >= 0x80) {  // an escaped non-ASCII character: invalid TOML
          why = std::to_string(line) + ": invalid escape sequence";
          return false;
        }
        if (s[i + 1] == '\n') ++line;
        out += c;
        out += s[i + 1];
        i += 2;
      } else if (literal && (c == '\\' || c == '"')) {
        out += '\\';
        out += c;
        ++i;
      } else if (static_cast<unsigned char>(c) >= 0x80) {
        uint32_t cp = 0;
        const size_t n = decode_utf8(s, i, cp);
        if (n == 0) {
          why = std::to_string(line) + ": invalid UTF-8";
          return false;
        }
        i += n;
        escape(out, cp);
      } else {
        out += c;
        ++i;
      }
    }
    return true;
  };
  for (size_t i = 0; i < s.size();) {
    const char c = s[i];
    if (c == '\n') {
      ++line;
      out += c;
      ++i;
    } else if (c == '#') {  // a comment: its non-ASCII characters are dropped
      while (i < s.size() && s[i] != '\n') {
        if (static_cast<unsigned char>(s[i]) < 0x80) out += s[i];
        ++i;
      }
    } else if (starts(i, "\"\"\"") || starts(i, "'''")) {
      const bool literal = c == '\'';
      const std::string close = literal ? "'''" : "\"\"\"";
      out += "\"\"\"";
      i += 3;
      if (!content(i, close, literal, true)) return {};
      if (i < s.size()) {
        i += 3;
        // Up to two more quotes right before the end belong to the content.
        std::string extra;
        while (i < s.size() && s[i] == c && extra.size() < 2) {
          extra += literal ? "'" : "\\\"";
          ++i;
        }
        out += extra + "\"\"\"";
      }
    } else if (c == '"' || c == '\'') {
      const bool literal = c == '\'';
      out += '"';
      ++i;
      if (!content(i, std::string_view(&s[i - 1], 1), literal, false)) return {};
      if (i < s.size() && s[i] == c) {
        out += '"';
        ++i;
      }
    } else if (static_cast<unsigned char>(c) >= 0x80) {
      return fail("a non-ASCII character outside a quoted string (TOML keys and values are ASCII unless quoted)");
    } else {
      out += c;
      ++i;
    }
  }
  return out;
}

}  // namespace billctl::util
