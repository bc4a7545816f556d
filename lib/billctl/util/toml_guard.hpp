// A guard in front of toml++ (Debian's 3.3): for many non-ASCII characters (Latin-1, Greek,
// Cyrillic, some CJK punctuation) in positions where it checks for whitespace, its
// is_non_ascii_horizontal_whitespace reaches __builtin_unreachable: undefined behaviour, found by
// the fuzzer, reachable with malformed files such as `key =2["Torstraße"]`. TOML allows non-ASCII
// text only in strings and comments, so the text is rewritten to ASCII before toml++ sees it:
// non-ASCII characters in strings become \u escapes (literal strings become basic strings),
// comments lose theirs, and one anywhere else is refused naming its line. Lines are unchanged,
// and so are the values of every well-formed file.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <toml++/toml.h>

namespace billctl::util {

// The same document in ASCII; on a non-ASCII character outside strings and comments (or invalid
// UTF-8), sets `why` to "LINE: reason" and returns an empty string.
std::string toml_ascii(std::string_view text, std::string& why);

// The value of an integer node, or nothing: never a float converted to an integer (toml++'s
// value<int64_t>() converts 2.9e89 with undefined behaviour, found by the fuzzer).
inline std::optional<int64_t> toml_integer(const toml::node& n) {
  if (const auto* i = n.as_integer()) return i->get();
  return std::nullopt;
}

}  // namespace billctl::util
