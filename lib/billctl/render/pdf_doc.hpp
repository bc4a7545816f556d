// What billctl's PDF documents share (invoices, reports): a libharu document whose errors are
// collected instead of thrown from a C callback, and text set in an embedded TrueType font through
// libharu's UTF-8 encoder, shortened with an ellipsis to fit and never cutting numbers. A character
// the font lacks (営業, 한국어) is set in the first fallback font that has it (embedded only by
// documents that use it), so names print as written.
#pragma once

#include <hpdf.h>

#include <memory>
#include <string>
#include <vector>

#include "billctl/render/font_cover.hpp"

namespace billctl::render {

struct ErrorState {
  HPDF_STATUS code = 0;
  HPDF_STATUS detail = 0;
};

void on_error(HPDF_STATUS code, HPDF_STATUS detail, void* user);

// A font of the fallback chain: its coverage read on first need, loaded into the document on
// first use.
struct Fallback {
  std::string path;
  std::unique_ptr<FontCover> cover;  // read on first need; none when the file is missing
  HPDF_Font font = nullptr;
  bool tried = false;
};

struct Doc {
  HPDF_Doc pdf = nullptr;
  ErrorState error;
  HPDF_Font regular = nullptr, bold = nullptr;
  FontCover regular_cover, bold_cover;
  std::vector<Fallback> fallbacks;
  HPDF_Page page = nullptr;
  Doc() : pdf(HPDF_New(on_error, &error)) {}
  ~Doc() {
    if (pdf) HPDF_Free(pdf);
  }
  Doc(const Doc&) = delete;
  Doc& operator=(const Doc&) = delete;
};

enum class Align { left, right };

// Readies a new document: compression, UTF-8, the regular and bold TrueType fonts embedded;
// `fallbacks` are fonts for characters those lack, in order (a missing file is skipped).
// Throws DataError naming a font that cannot be read, with `font_hint` (how to get one).
void open_document(Doc& d, const std::string& regular, const std::string& bold, const std::string& font_hint,
                   const std::vector<std::string>& fallbacks = {});
// The finished document's bytes; throws DataError naming `what` when libharu reported an error.
std::string document_bytes(Doc& d, const std::string& what);
// A libharu document with its fonts' ToUnicode maps made valid ones (see pdf_doc.cpp).
std::string with_unicode_maps(std::string pdf);

// The width of a text in points (no page needed).
float width(Doc& d, HPDF_Font f, float size, const std::string& s);
// Splits a text into at most two lines that fit `max_width` at a space (the second line may
// still be too long: text() shortens it).
std::vector<std::string> wrap2(Doc& d, HPDF_Font f, float size, const std::string& s, float max_width);
// One text run; `max_width` > 0 shortens it with an ellipsis to fit.
void text(Doc& d, HPDF_Font f, float size, float x, float y, std::string s, Align a = Align::left, float max_width = 0);
// A number is never cut short: it is set smaller until it fits its column (down to 5 pt).
void number_text(Doc& d, HPDF_Font f, float size, float x, float y, const std::string& s, float max_width);

}  // namespace billctl::render
