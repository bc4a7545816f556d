#include "billctl/util/toml_guard.hpp"

#include <cstdio>

namespace billctl::util {

namespace {

// Decodes the UTF-8 sequence at s[i] (i advanced past it); false when invalid.
bool next_code_point(std::string_view s, size_t& i, uint32_t& cp) {
  const auto c = static_cast<unsigned char>(s[i]);
  size_t n;
  if (c < 0x80) { cp = c; n = 0; }
  else if ((c & 0xE0) == 0xC0) { cp = c & 0x1F; n = 1; }
  else if ((c & 0xF0) == 0xE0) { cp = c & 0x0F; n = 2; }
  else if ((c & 0xF8) == 0xF0) { cp = c & 0x07; n = 3; }
  else return false;
  for (size_t k = 1; k <= n; ++k) {
    if (i + k >= s.size()) return false;
    const auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xC0) != 0x80) return false;
    cp = (cp << 6) | (b & 0x3F);
  }
  if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10FFFF ||
      (cp >= 0xD800 && cp <= 0xDFFF))
    return false;
  i += n + 1;
  return true;
}

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
        if (!next_code_point(s, i, cp)) {
          why = std::to_string(line) + ": invalid UTF-8";
          return false;
        }
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
