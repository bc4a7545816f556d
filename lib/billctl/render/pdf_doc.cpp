#include "billctl/render/pdf_doc.hpp"

#include <sys/stat.h>

#include <algorithm>

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

std::string document_bytes(Doc& d, const std::string& what) {
  if (d.error.code)
    throw DataError("cannot render " + what + " as PDF (libharu error " + std::to_string(d.error.code) + ", detail " +
                    std::to_string(d.error.detail) + ")");
  if (HPDF_SaveToStream(d.pdf) != HPDF_OK) throw DataError("cannot write the PDF of " + what);
  HPDF_UINT32 size = HPDF_GetStreamSize(d.pdf);
  std::string bytes(size, '\0');
  HPDF_ReadFromStream(d.pdf, reinterpret_cast<HPDF_BYTE*>(bytes.data()), &size);
  bytes.resize(size);
  return bytes;
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
