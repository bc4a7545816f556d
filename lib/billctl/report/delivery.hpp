// A saved report on its way to people (report send): the message each channel carries — a
// summary of the period (total, change, top departments) and, by e-mail, the report attached;
// the generic webhook gets the summary as JSON with the document in base64.
#pragma once

#include <string>

#include "billctl/notify/channels.hpp"
#include "billctl/report/monthly.hpp"
#include "billctl/report/templates.hpp"

namespace billctl::report {

// The attachment's file name: billctl-report-NAME-PERIOD.EXT (".." of a range becomes "_").
std::string report_filename(const ReportTemplate& t, const util::Period& p);

// The alert that carries template `t`'s report `document` (in t.format) for period `r.period`.
// Its key is report:NAME / the period label / stage "report".
notify::Alert report_alert(const ReportTemplate& t, const MonthlyReport& r, const std::string& document, util::Seconds now);

}  // namespace billctl::report
