// The invoice as a PDF document (libharu): issuer and bill-to blocks, number and dates, the
// line-item table (continued on further pages when it overflows), subtotal, credits, tax, total,
// status, usage against the plan and the payment terms. Text is set in an embedded TrueType
// font through libharu's UTF-8 encoder, so names outside ASCII print as written.
#pragma once

#include <string>
#include <vector>

#include "billctl/billing/invoice.hpp"

namespace billctl::render {

struct PdfFonts {
  std::string regular = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";
  std::string bold = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf";
  // For characters DejaVu lacks: kanji, kana and CJK punctuation (fonts-ipafont-gothic), Hangul
  // (fonts-nanum). A missing file is skipped.
  std::vector<std::string> fallbacks = {"/usr/share/fonts/opentype/ipafont-gothic/ipag.ttf",
                                        "/usr/share/fonts/truetype/nanum/NanumGothic.ttf"};
};

// The PDF bytes. `now` decides whether a pending invoice prints as overdue.
std::string invoice_pdf(const billing::Invoice& inv, const PdfFonts& fonts, util::Seconds now);

}  // namespace billctl::render
