// Small string helpers that do not allocate unless they return a string.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace billctl::util {

std::string_view trim(std::string_view s);
std::vector<std::string_view> split(std::string_view s, char sep);
std::string to_lower(std::string_view s);
bool starts_with(std::string_view s, std::string_view prefix);
bool ends_with(std::string_view s, std::string_view suffix);
// Parses a non-negative decimal integer that fits in int64; false on anything else.
bool parse_u63(std::string_view s, int64_t& out);
// "1,234,567"
std::string group_thousands(int64_t v);
// The closest of `candidates` to `word` (edit distance <= 2), or empty.
std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates);
// Decodes the UTF-8 sequence at s[i] into cp; returns its length in bytes, 0 when invalid.
size_t decode_utf8(std::string_view s, size_t i, uint32_t& cp);
// Is the text valid UTF-8?
bool valid_utf8(std::string_view s);
// Number of terminal columns the UTF-8 text occupies: two for East Asian wide characters and
// emoji, none for combining marks and controls.
size_t display_width(std::string_view s);
// The text cut to at most `width` display columns, "…" (U+2026) marking where: at the end, or in
// the middle (keeping both ends: "anthropic/claude-…-20250929"). Text that fits is returned as is.
std::string shorten_end(std::string_view s, size_t width);
std::string shorten_middle(std::string_view s, size_t width);
// Does the text hold a C0 or C1 control character (or DEL)?
bool has_control(std::string_view s);
// The text with control characters (C0, DEL, C1) and invalid UTF-8 bytes written as visible
// escapes (\e, \n, \x07, \u009b), so that data can never drive the terminal. Newlines are kept
// when `keep_newlines` (a message of several lines of our own).
std::string escape_controls(std::string_view s, bool keep_newlines = false);
// Lowercase hex of bytes.
std::string hex(const unsigned char* data, size_t n);
// `text` broken at spaces into lines of at most `width` display columns (a word wider than that
// stays whole on its own line).
std::vector<std::string> wrap_words(std::string_view text, size_t width);
// RFC 4648 base64 of the bytes; with `wrap`, lines of 76 characters ended by CRLF (MIME).
std::string base64(std::string_view data, bool wrap = false);
// SHA-256 of the bytes, as 64 hex digits.
std::string sha256_hex(std::string_view data);

// Incremental SHA-256 (OpenSSL's, hardware-accelerated where the CPU allows).
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void update(const void* data, size_t n);
  std::string hex_digest();  // finishes the digest
  void digest(unsigned char out[32]);

 private:
  void* m_ctx;
};

}  // namespace billctl::util
