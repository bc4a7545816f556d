// Which characters a TrueType font has glyphs for, read from its cmap table (formats 4 and 12),
// so a PDF can set each character in the first font of a fallback chain that has it.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace billctl::render {

class FontCover {
 public:
  // Reads the cmap of a TrueType file (or of the first font of a collection). Throws DataError
  // naming the file when it cannot be read or has no Unicode cmap.
  static FontCover load(const std::string& path);
  // From the bytes of a font file (tests, fuzzing); `path` names it in errors.
  static FontCover parse(std::string_view bytes, const std::string& path);
  bool has(char32_t c) const;
  size_t ranges() const { return m_ranges.size(); }

 private:
  void add(char32_t c);
  std::vector<std::pair<char32_t, char32_t>> m_ranges;  // inclusive, ascending, disjoint
};

// Decodes one UTF-8 code point at s[i] and advances i (a malformed byte decodes as itself).
char32_t next_code_point(std::string_view s, size_t& i);

}  // namespace billctl::render
