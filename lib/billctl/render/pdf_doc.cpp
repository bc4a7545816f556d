#include "billctl/render/pdf_doc.hpp"

#include <sys/stat.h>
#include <zlib.h>

#include <algorithm>
#include <charconv>
#include <cstdio>

#include "billctl/util/error.hpp"

namespace billctl::render {

void on_error(HPDF_STATUS code, HPDF_STATUS detail, void* user) {
  auto* e = static_cast<ErrorState*>(user);
  if (!e->code) {
    e->code = code;
    e->detail = detail;
  }
}

void open_document(Doc& d, const std::string& regular, const std::string& bold, const std::string& font_hint,
                   const std::vector<std::string>& fallbacks) {
  for (const std::string* f : {&regular, &bold}) {
    struct stat st{};
    if (::stat(f->c_str(), &st) != 0) throw DataError("cannot read font '" + *f + "': " + font_hint);
  }
  if (!d.pdf) throw DataError("cannot create a PDF document (libharu)");
  HPDF_SetCompressionMode(d.pdf, HPDF_COMP_ALL);
  HPDF_UseUTFEncodings(d.pdf);
  const char* rname = HPDF_LoadTTFontFromFile(d.pdf, regular.c_str(), HPDF_TRUE);
  const char* bname = HPDF_LoadTTFontFromFile(d.pdf, bold.c_str(), HPDF_TRUE);
  if (!rname || !bname)
    throw DataError("cannot load the fonts '" + regular + "' and '" + bold + "' (libharu error " + std::to_string(d.error.code) + ")");
  d.regular = HPDF_GetFont(d.pdf, rname, "UTF-8");
  d.bold = HPDF_GetFont(d.pdf, bname, "UTF-8");
  d.regular_cover = FontCover::load(regular);
  d.bold_cover = FontCover::load(bold);
  for (const auto& f : fallbacks) d.fallbacks.push_back(Fallback{f, nullptr, nullptr, false});
}

namespace {

// The fallback font that has c; null when none has it. A font's coverage is read on first need,
// and the font is loaded into the document (and so embedded) only when a character needs it.
HPDF_Font fallback_for(Doc& d, char32_t c) {
  for (auto& f : d.fallbacks) {
    if (!f.tried) {
      f.tried = true;
      struct stat st{};
      if (::stat(f.path.c_str(), &st) == 0) f.cover = std::make_unique<FontCover>(FontCover::load(f.path));
    }
    if (!f.cover || !f.cover->has(c)) continue;
    if (!f.font) {
      const char* name = HPDF_LoadTTFontFromFile(d.pdf, f.path.c_str(), HPDF_TRUE);
      if (!name) throw DataError("cannot load the font '" + f.path + "' (libharu error " + std::to_string(d.error.code) + ")");
      f.font = HPDF_GetFont(d.pdf, name, "UTF-8");
    }
    return f.font;
  }
  return nullptr;
}

struct Run {
  HPDF_Font font;
  std::string text;
};

// The text cut into runs of one font each: a character in `f` when it has it, else in the first
// fallback that has it, else in `f` (which shows the font's missing-glyph box).
std::vector<Run> runs_of(Doc& d, HPDF_Font f, const std::string& s) {
  const bool ascii = std::all_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
  if (ascii || d.fallbacks.empty()) return {{f, s}};
  const FontCover& own = f == d.bold ? d.bold_cover : d.regular_cover;
  std::vector<Run> out;
  for (size_t i = 0; i < s.size();) {
    const size_t at = i;
    const char32_t c = next_code_point(s, i);
    HPDF_Font use = f;
    if (c >= 0x80 && !own.has(c))
      if (HPDF_Font alt = fallback_for(d, c)) use = alt;
    if (out.empty() || out.back().font != use) out.push_back({use, {}});
    out.back().text.append(s, at, i - at);
  }
  return out;
}

float run_width(HPDF_Font f, float size, const std::string& s) {
  const HPDF_TextWidth tw = HPDF_Font_TextWidth(f, reinterpret_cast<const HPDF_BYTE*>(s.data()), HPDF_UINT(s.size()));
  return float(tw.width) * size / 1000.f;
}

}  // namespace

namespace {

// libharu gives each font a ToUnicode map written as an encoding CMap ("begincidrange"), which a
// ToUnicode map cannot hold: readers fall back to guessing (poppler warns on every page). Its codes
// are Unicode code points (the UTF-8 encoder's Identity-H), so the right map is the identity:
// ranges of 256 codes each mapped to themselves, surrogates left out.
const std::string& identity_to_unicode() {
  static const std::string packed = [] {
    std::string cmap =
        "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
        "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
        "/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
        "1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n";
    std::vector<int> highs;
    for (int h = 0; h < 256; ++h)
      if (h < 0xD8 || h > 0xDF) highs.push_back(h);
    for (size_t i = 0; i < highs.size(); i += 100) {  // at most 100 ranges a block
      const size_t n = std::min<size_t>(100, highs.size() - i);
      cmap += std::to_string(n) + " beginbfrange\n";
      char line[32];
      for (size_t k = i; k < i + n; ++k) {
        std::snprintf(line, sizeof line, "<%02X00> <%02XFF> <%02X00>\n", highs[k], highs[k], highs[k]);
        cmap += line;
      }
      cmap += "endbfrange\n";
    }
    cmap += "endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n";
    uLongf size = compressBound(uLong(cmap.size()));
    std::string out(size, '\0');
    if (compress2(reinterpret_cast<Bytef*>(out.data()), &size, reinterpret_cast<const Bytef*>(cmap.data()), uLong(cmap.size()),
                  Z_BEST_COMPRESSION) != Z_OK)
      throw DataError("cannot compress a PDF font's ToUnicode map");
    out.resize(size);
    return out;
  }();
  return packed;
}

// The offset of "N 0 obj" at a line start; npos when absent.
size_t object_at(const std::string& pdf, int64_t n) {
  const std::string key = "\n" + std::to_string(n) + " 0 obj";
  for (size_t at = pdf.find(key); at != std::string::npos; at = pdf.find(key, at + 1)) {
    const size_t end = at + key.size();
    if (end < pdf.size() && (pdf[end] == '\n' || pdf[end] == '\r' || pdf[end] == ' ')) return at + 1;
  }
  return std::string::npos;
}

// The number after `key` in pdf at `from`, the number's [begin, end).
bool number_after(const std::string& pdf, size_t from, std::string_view key, int64_t& value, size_t& begin, size_t& end) {
  begin = from + key.size();
  while (begin < pdf.size() && (pdf[begin] == ' ' || pdf[begin] == '\n' || pdf[begin] == '\r')) ++begin;
  const auto r = std::from_chars(pdf.data() + begin, pdf.data() + pdf.size(), value);
  if (r.ec != std::errc()) return false;
  end = size_t(r.ptr - pdf.data());
  return true;
}

struct Edit {
  size_t at, length;
  std::string bytes;
};

}  // namespace

// Replaces every font's ToUnicode stream by identity_to_unicode(), and moves the cross-reference
// table's offsets with the bytes. A document in another shape than libharu's is left as it is.
std::string with_unicode_maps(std::string pdf) {
  std::vector<Edit> edits;
  std::vector<int64_t> done;
  for (size_t ref = pdf.find("/ToUnicode "); ref != std::string::npos; ref = pdf.find("/ToUnicode ", ref + 1)) {
    int64_t obj = 0, len_obj = 0, old_len = 0;
    size_t b = 0, e = 0;
    if (!number_after(pdf, ref, "/ToUnicode", obj, b, e)) return pdf;
    if (std::find(done.begin(), done.end(), obj) != done.end()) continue;
    done.push_back(obj);
    const size_t at = object_at(pdf, obj);
    if (at == std::string::npos) return pdf;
    const size_t dict_end = pdf.find("stream\r\n", at);
    const size_t len_key = pdf.find("/Length", at);
    if (dict_end == std::string::npos || len_key == std::string::npos || len_key > dict_end) return pdf;
    if (!number_after(pdf, len_key, "/Length", len_obj, b, e) || pdf.compare(e, 5, " 0 R\n") != 0) return pdf;
    const size_t len_at = object_at(pdf, len_obj);
    if (len_at == std::string::npos) return pdf;
    const std::string len_key2 = std::to_string(len_obj) + " 0 obj";
    size_t nb = 0, ne = 0;
    if (!number_after(pdf, len_at, len_key2, old_len, nb, ne)) return pdf;
    const size_t data = dict_end + 8;
    if (old_len < 0 || data + size_t(old_len) > pdf.size()) return pdf;
    const std::string& map = identity_to_unicode();
    edits.push_back({data, size_t(old_len), map});
    edits.push_back({nb, ne - nb, std::to_string(map.size())});
  }
  if (edits.empty()) return pdf;
  std::sort(edits.begin(), edits.end(), [](const Edit& a, const Edit& b) { return a.at < b.at; });
  // The cross-reference table: "xref", "0 N", then N entries of 20 bytes "OOOOOOOOOO GGGGG n\r\n".
  const size_t sx = pdf.rfind("startxref");
  int64_t xref = 0;
  size_t xb = 0, xe = 0;
  if (sx == std::string::npos || !number_after(pdf, sx, "startxref", xref, xb, xe) || xref < 0 || size_t(xref) >= pdf.size() ||
      pdf.compare(size_t(xref), 4, "xref") != 0)
    return pdf;
  int64_t first = 0, count = 0;
  size_t b = 0, e = 0;
  if (!number_after(pdf, size_t(xref), "xref", first, b, e) || !number_after(pdf, e, "", count, b, e)) return pdf;
  size_t entries = e;
  while (entries < pdf.size() && (pdf[entries] == '\r' || pdf[entries] == '\n' || pdf[entries] == ' ')) ++entries;
  if (entries + size_t(count) * 20 > pdf.size() || edits.back().at >= size_t(xref)) return pdf;
  auto moved = [&](size_t offset) {
    int64_t delta = 0;
    for (const Edit& ed : edits)
      if (ed.at < offset) delta += int64_t(ed.bytes.size()) - int64_t(ed.length);
    return size_t(int64_t(offset) + delta);
  };
  for (int64_t i = 0; i < count; ++i) {
    char* entry = pdf.data() + entries + size_t(i) * 20;
    if (entry[17] != 'n') continue;
    size_t offset = 0;
    std::from_chars(entry, entry + 10, offset);
    char digits[11];
    std::snprintf(digits, sizeof digits, "%010zu", moved(offset));
    std::copy(digits, digits + 10, entry);
  }
  edits.push_back({xb, xe - xb, std::to_string(moved(size_t(xref)))});
  std::string out;
  out.reserve(pdf.size() + 4096);
  size_t pos = 0;
  for (const Edit& ed : edits) {
    out.append(pdf, pos, ed.at - pos);
    out += ed.bytes;
    pos = ed.at + ed.length;
  }
  out.append(pdf, pos, std::string::npos);
  return out;
}

std::string document_bytes(Doc& d, const std::string& what) {
  if (d.error.code)
    throw DataError("cannot render " + what + " as PDF (libharu error " + std::to_string(d.error.code) + ", detail " +
                    std::to_string(d.error.detail) + ")");
  if (HPDF_SaveToStream(d.pdf) != HPDF_OK) throw DataError("cannot write the PDF of " + what);
  HPDF_UINT32 size = HPDF_GetStreamSize(d.pdf);
  std::string bytes(size, '\0');
  HPDF_ReadFromStream(d.pdf, reinterpret_cast<HPDF_BYTE*>(bytes.data()), &size);
  bytes.resize(size);
  return with_unicode_maps(std::move(bytes));
}

// The width of a text in points (no page needed).
float width(Doc& d, HPDF_Font f, float size, const std::string& s) {
  float w = 0;
  for (const Run& r : runs_of(d, f, s)) w += run_width(r.font, size, r.text);
  return w;
}

// Splits a text into at most two lines that fit `max_width` at a space (the second line may
// still be too long: text() shortens it).
std::vector<std::string> wrap2(Doc& d, HPDF_Font f, float size, const std::string& s, float max_width) {
  if (width(d, f, size, s) <= max_width) return {s};
  size_t cut = std::string::npos;
  for (size_t i = s.find(' '); i != std::string::npos; i = s.find(' ', i + 1)) {
    if (width(d, f, size, s.substr(0, i)) > max_width) break;
    cut = i;
  }
  if (cut == std::string::npos) return {s};
  return {s.substr(0, cut), s.substr(cut + 1)};
}

// One text run; `max_width` > 0 shortens it with an ellipsis to fit.
void text(Doc& d, HPDF_Font f, float size, float x, float y, std::string s, Align a, float max_width) {
  if (!d.page || s.empty()) return;
  if (max_width > 0 && width(d, f, size, s) > max_width) {
    while (!s.empty() && width(d, f, size, s + "\xE2\x80\xA6") > max_width) {
      s.pop_back();
      while (!s.empty() && (static_cast<unsigned char>(s.back()) & 0xC0) == 0x80) s.pop_back();  // whole code points
      if (!s.empty() && static_cast<unsigned char>(s.back()) >= 0xC0) s.pop_back();
    }
    s += "\xE2\x80\xA6";
  }
  const std::vector<Run> runs = runs_of(d, f, s);
  if (a == Align::right)
    for (const Run& r : runs) x -= run_width(r.font, size, r.text);
  HPDF_Page_BeginText(d.page);
  for (const Run& r : runs) {
    HPDF_Page_SetFontAndSize(d.page, r.font, size);
    HPDF_Page_TextOut(d.page, x, y, r.text.c_str());
    x += run_width(r.font, size, r.text);
  }
  HPDF_Page_EndText(d.page);
}

// A number is never cut short: it is set smaller until it fits its column (down to 5 pt).
void number_text(Doc& d, HPDF_Font f, float size, float x, float y, const std::string& s, float max_width) {
  while (size > 5 && width(d, f, size, s) > max_width) size -= 0.5f;
  text(d, f, size, x, y, s, Align::right);
}

}  // namespace billctl::render
