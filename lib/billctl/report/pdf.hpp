// The monthly report as a PDF to hand to finance (libharu, the fonts the invoice embeds, with
// per-glyph fallback fonts for CJK and Hangul): a first page with the period, the total and its
// change, the key figures, the forecast for the period, budget status and the three largest
// drivers of change; vector charts (daily spend stacked by department, top users, month over
// month by department, budget burn-down); then budget status, chargeback, feature ROI, month over
// month and every breakdown as tables that continue across pages under a repeated header; page
// numbers, the catalog that priced it, the filters and the pinned generated-at. Byte-identical
// for the same input.
#pragma once

#include <string>

#include "billctl/render/pdf_invoice.hpp"
#include "billctl/report/monthly.hpp"
#include "billctl/report/pack.hpp"
#include "billctl/usage/aggregate.hpp"

namespace billctl::report {

std::string report_pdf(const MonthlyReport& r, const usage::AggResult& daily_by_department, const ReportPack& pack,
                       const render::PdfFonts& fonts);

}  // namespace billctl::report
