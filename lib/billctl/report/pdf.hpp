// The monthly report as a PDF to hand to finance (libharu, the fonts the invoice embeds): a first
// page with the period, the key figures and two vector charts (daily spend stacked by department,
// top users), then every breakdown as a table that continues across pages under a repeated header;
// page numbers, the catalog that priced it, the filters and the pinned generated-at on every page.
// Byte-identical for the same input.
#pragma once

#include <string>

#include "billctl/render/pdf_invoice.hpp"
#include "billctl/report/monthly.hpp"
#include "billctl/usage/aggregate.hpp"

namespace billctl::report {

std::string report_pdf(const MonthlyReport& r, const usage::AggResult& daily_by_department, const render::PdfFonts& fonts);

}  // namespace billctl::report
