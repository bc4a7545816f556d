#include "billctl/render/font_cover.hpp"

#include <algorithm>
#include <fstream>
#include <iterator>

#include "billctl/util/error.hpp"

namespace billctl::render {

namespace {

struct Reader {
  std::string_view b;
  const std::string& path;
  void need(size_t at, size_t n) const {
    if (at > b.size() || n > b.size() - at) throw DataError("font '" + path + "': truncated or malformed TrueType data");
  }
  uint32_t u16(size_t at) const {
    need(at, 2);
    return uint32_t(uint8_t(b[at])) << 8 | uint8_t(b[at + 1]);
  }
  uint32_t u32(size_t at) const { return u16(at) << 16 | u16(at + 2); }
};

}  // namespace

char32_t next_code_point(std::string_view s, size_t& i) {
  const auto c = uint8_t(s[i]);
  size_t n = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 1;
  if (i + n > s.size()) n = 1;
  char32_t cp = n == 1 ? c : n == 2 ? c & 0x1F : n == 3 ? c & 0x0F : c & 0x07;
  for (size_t k = 1; k < n; ++k) {
    const auto t = uint8_t(s[i + k]);
    if ((t & 0xC0) != 0x80) {
      n = 1;
      cp = c;
      break;
    }
    cp = cp << 6 | (t & 0x3F);
  }
  i += n;
  return cp;
}

void FontCover::add(char32_t c) {
  if (!m_ranges.empty() && m_ranges.back().second + 1 == c) m_ranges.back().second = c;
  else m_ranges.emplace_back(c, c);
}

bool FontCover::has(char32_t c) const {
  auto it = std::upper_bound(m_ranges.begin(), m_ranges.end(), c, [](char32_t v, const auto& r) { return v < r.first; });
  return it != m_ranges.begin() && std::prev(it)->second >= c;
}

FontCover FontCover::parse(std::string_view bytes, const std::string& path) {
  const Reader r{bytes, path};
  size_t font = 0;
  if (bytes.substr(0, 4) == "ttcf") font = r.u32(12);  // a collection: its first font
  const uint32_t tables = r.u16(font + 4);
  size_t cmap = 0;
  for (uint32_t t = 0; t < tables; ++t) {
    const size_t rec = font + 12 + 16 * size_t(t);
    r.need(rec, 16);
    if (bytes.substr(rec, 4) == "cmap") cmap = r.u32(rec + 8);
  }
  if (!cmap) throw DataError("font '" + path + "' has no cmap table");
  // The best Unicode subtable: full repertoire (format 12), else the BMP (format 4).
  size_t best = 0;
  int best_rank = 0;
  const uint32_t subtables = r.u16(cmap + 2);
  for (uint32_t s = 0; s < subtables; ++s) {
    const size_t rec = cmap + 4 + 8 * size_t(s);
    const uint32_t platform = r.u16(rec), encoding = r.u16(rec + 2);
    const size_t at = cmap + r.u32(rec + 4);
    const uint32_t format = r.u16(at);
    const bool unicode = platform == 0 || (platform == 3 && (encoding == 1 || encoding == 10));
    const int rank = !unicode ? 0 : format == 12 ? 2 : format == 4 ? 1 : 0;
    if (rank > best_rank) {
      best_rank = rank;
      best = at;
    }
  }
  if (!best_rank) throw DataError("font '" + path + "' has no Unicode cmap (format 4 or 12)");
  FontCover f;
  if (best_rank == 2) {
    const uint32_t groups = r.u32(best + 12);
    for (uint32_t g = 0; g < groups; ++g) {
      const size_t at = best + 16 + 12 * size_t(g);
      const char32_t lo = r.u32(at), hi = r.u32(at + 4);
      const uint32_t glyph = r.u32(at + 8);
      if (hi < lo || hi > 0x10FFFF) throw DataError("font '" + path + "': malformed cmap group");
      for (char32_t c = lo; c <= hi; ++c)
        if (glyph + (c - lo) != 0) f.add(c);
    }
  } else {
    const uint32_t segs = r.u16(best + 6) / 2;
    const size_t ends = best + 14, starts = ends + 2 * segs + 2, deltas = starts + 2 * segs, offsets = deltas + 2 * segs;
    for (uint32_t s = 0; s < segs; ++s) {
      const uint32_t end = r.u16(ends + 2 * s), start = r.u16(starts + 2 * s), delta = r.u16(deltas + 2 * s);
      const size_t ro_at = offsets + 2 * s;
      const uint32_t ro = r.u16(ro_at);
      for (uint32_t c = start; c <= end && c != 0xFFFF; ++c) {
        uint32_t glyph = 0;
        if (ro == 0) glyph = (c + delta) & 0xFFFF;
        else if (const uint32_t g = r.u16(ro_at + ro + 2 * (c - start)); g != 0) glyph = (g + delta) & 0xFFFF;
        if (glyph != 0) f.add(c);
      }
    }
  }
  std::sort(f.m_ranges.begin(), f.m_ranges.end());
  return f;
}

FontCover FontCover::load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw DataError("cannot read font '" + path + "'");
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return parse(bytes, path);
}

}  // namespace billctl::render
