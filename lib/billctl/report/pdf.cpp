#include "billctl/report/pdf.hpp"

#include <hpdf.h>

#include <algorithm>
#include <array>
#include <functional>
#include <map>

#include "billctl/money/money.hpp"
#include "billctl/render/pdf_doc.hpp"
#include "billctl/report/department_days.hpp"
#include "billctl/util/error.hpp"
#include "billctl/util/strings.hpp"

namespace billctl::report {

namespace {

using render::Align;
using render::Doc;
using render::Kind;

constexpr float k_width = 595.28f, k_height = 841.89f;  // A4
constexpr float k_left = 42, k_right = 553;
constexpr float k_top = 800, k_bottom = 70;
constexpr size_t k_stack = 8;  // departments stacked by name; the rest are "others"

// A palette that prints apart in colour and in grey.
constexpr std::array<std::array<float, 3>, 9> k_colors = {{{0.12f, 0.47f, 0.71f}, {1.00f, 0.50f, 0.05f},
                                                           {0.17f, 0.63f, 0.17f}, {0.84f, 0.15f, 0.16f},
                                                           {0.58f, 0.40f, 0.74f}, {0.55f, 0.34f, 0.29f},
                                                           {0.89f, 0.47f, 0.76f}, {0.74f, 0.74f, 0.13f},
                                                           {0.60f, 0.60f, 0.60f}}};

using money::format_money;

void fill(Doc& d, const std::array<float, 3>& c) { HPDF_Page_SetRGBFill(d.page, c[0], c[1], c[2]); }

void rule(Doc& d, float y, float gray = 0.75f) {
  HPDF_Page_SetGrayStroke(d.page, gray);
  HPDF_Page_SetLineWidth(d.page, 0.5f);
  HPDF_Page_MoveTo(d.page, k_left, y);
  HPDF_Page_LineTo(d.page, k_right, y);
  HPDF_Page_Stroke(d.page);
}

// One block of the flowing layout: its height and how to draw it with its top at y.
struct Item {
  float height;
  const render::Table* table;  // a row of this table: its header is repeated on a new page
  std::function<void(Doc&, float)> draw;
};

// Columns of a breakdown table on the page: x of the left edge (text) or right edge (numbers).
struct Layout {
  std::vector<float> x;
  std::vector<float> w;
};

std::string cell_text(const render::Column& c, const render::Value& v);

// Each column as wide as its widest cell or title; the first (the names) takes what is left, and
// any room to spare is shared among the other columns. When the cells do not fit, every column is
// narrowed in proportion (text is shortened, numbers set smaller).
Layout layout_of(Doc& d, const render::Table& t, const money::Currency& cur) {
  Layout l;
  const size_t n = t.columns.size();
  const float avail = k_right - k_left;
  std::vector<float> need(n, 0);
  for (size_t c = 1; c < n; ++c) {
    std::string title = t.columns[c].title;
    if (t.columns[c].kind == Kind::money) title += " (" + std::string(cur.name()) + ")";
    need[c] = render::width(d, d.bold, 7, title);
    for (const auto& row : t.rows)
      if (c < row.size()) need[c] = std::max(need[c], render::width(d, d.regular, 7.5f, cell_text(t.columns[c], row[c])));
    if (c < t.total.size()) need[c] = std::max(need[c], render::width(d, d.bold, 7.5f, cell_text(t.columns[c], t.total[c])));
    need[c] += 10;
  }
  float rest = 0;
  for (size_t c = 1; c < n; ++c) rest += need[c];
  const float min_first = n > 6 ? 110.f : 150.f;
  std::vector<float> w(n, 0);
  if (rest + min_first <= avail) {
    // Spare room: the first column up to 220 points, the rest shared.
    w[0] = std::max(min_first, std::min(220.f, avail - rest));
    const float spare = n > 1 ? (avail - w[0] - rest) / float(n - 1) : 0;
    for (size_t c = 1; c < n; ++c) w[c] = need[c] + spare;
    if (n == 1) w[0] = avail;
  } else {
    w[0] = min_first;
    const float scale = (avail - min_first) / rest;
    for (size_t c = 1; c < n; ++c) w[c] = need[c] * scale;
  }
  float x = k_left;
  for (size_t c = 0; c < n; ++c) {
    l.x.push_back(c == 0 ? x : x + w[c]);
    l.w.push_back(w[c] - 4);
    x += w[c];
  }
  return l;
}

std::string cell_text(const render::Column& c, const render::Value& v) {
  if (c.kind == Kind::money && !v.null) return v.decimal.format(v.decimal_digits);
  return render::pretty(c, v);
}

// Days x departments: the days in order, the departments by cost (k_stack, then "others").
struct Stack {
  std::vector<std::string> days;
  std::vector<std::string> names;
  std::vector<std::vector<double>> values;  // [day][series]
  double max_day = 0;
};

Stack stack_of(const MonthlyReport& r, const usage::AggResult& by) {
  const DepartmentDays dd = department_days(r, by, k_stack);
  Stack s;
  s.days = dd.days;
  s.names = dd.names;
  for (const auto& day : dd.cost) {
    std::vector<double> v;
    double sum = 0;
    for (money::i128 c : day) sum += v.emplace_back(chart_value(money::Decimal::from_units(c)));
    s.max_day = std::max(s.max_day, sum);
    s.values.push_back(std::move(v));
  }
  return s;
}

// A round axis maximum above `v`: 1, 2 or 5 times a power of ten.
double nice_max(double v) {
  if (v <= 0) return 1;
  double p = 1;
  while (p * 10 <= v) p *= 10;
  while (p > v) p /= 10;
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (m * p >= v) return m * p;
  return 10 * p;
}

std::string axis_text(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, v >= 100 || v == double(int64_t(v)) ? "%.0f" : "%.2f", v);
  return buf;
}

void legend(Doc& d, const std::vector<std::string>& names, float y) {
  float lx = k_left;
  for (size_t k = 0; k < names.size(); ++k) {
    const float w = render::width(d, d.regular, 7, names[k]) + 18;
    if (lx + w > k_right) break;
    fill(d, k_colors[std::min(k, k_colors.size() - 1)]);
    HPDF_Page_Rectangle(d.page, lx, y, 7, 7);
    HPDF_Page_Fill(d.page);
    HPDF_Page_SetGrayFill(d.page, 0);
    render::text(d, d.regular, 7, lx + 10, y + 1, names[k]);
    lx += w;
  }
}

// Horizontal grid lines with their values, from `bottom` up `h` points, for a maximum of `max`.
void grid(Doc& d, float left, float right, float bottom, float h, double max) {
  HPDF_Page_SetGrayStroke(d.page, 0.85f);
  HPDF_Page_SetLineWidth(d.page, 0.4f);
  for (int i = 0; i <= 4; ++i) {
    const float y = bottom + h * float(i) / 4;
    HPDF_Page_MoveTo(d.page, left, y);
    HPDF_Page_LineTo(d.page, right, y);
    HPDF_Page_Stroke(d.page);
    render::text(d, d.regular, 6.5f, left - 4, y - 2, axis_text(max * i / 4), Align::right);
  }
}

// One stacked column of `values` (series in palette order) from `bottom`; returns its top.
float stacked_column(Doc& d, float x, float bottom, float bar, float h, double max, const std::vector<double>& values) {
  float y = bottom;
  for (size_t k = 0; k < values.size(); ++k) {
    const float bh = float(values[k] / max) * h;
    if (bh <= 0) continue;
    fill(d, k_colors[std::min(k, k_colors.size() - 1)]);
    HPDF_Page_Rectangle(d.page, x, y, bar, bh);
    HPDF_Page_Fill(d.page);
    y += bh;
  }
  HPDF_Page_SetGrayFill(d.page, 0);
  return y;
}

void stacked_chart(Doc& d, const Stack& s, const money::Currency& cur, float top) {
  const float h = 170, bottom = top - h, left = k_left + 40, right = k_right;
  render::text(d, d.bold, 10, k_left, top + 14, "Daily spend by department (" + std::string(cur.name()) + ")");
  const double max = nice_max(s.max_day);
  grid(d, left, right, bottom, h, max);
  const size_t n = std::max<size_t>(s.days.size(), 1);
  const float slot = (right - left) / float(n), bar = std::max(slot * 0.7f, 1.f);
  for (size_t i = 0; i < s.days.size(); ++i) {
    const float x = left + slot * float(i) + (slot - bar) / 2;
    stacked_column(d, x, bottom, bar, h, max, s.values[i]);
    // Every few days a label: the day of the month.
    if (i % std::max<size_t>(1, n / 10) == 0) render::text(d, d.regular, 6, x + bar / 2 - 4, bottom - 9, s.days[i].substr(8));
  }
  legend(d, s.names, bottom - 24);
}

void top_bars(Doc& d, const render::Table& users, const std::string& title, const money::Currency& cur, float top) {
  render::text(d, d.bold, 10, k_left, top + 14, title + " (" + std::string(cur.name()) + ")");
  size_t money_col = 0;
  for (size_t c = 0; c < users.columns.size(); ++c)
    if (users.columns[c].kind == Kind::money) {
      money_col = c;
      break;
    }
  if (!money_col || users.rows.empty()) return;
  double max = 0;
  for (const auto& row : users.rows) max = std::max(max, chart_value(row[money_col].decimal));
  if (max <= 0) max = 1;
  const float label_w = 130, bar_left = k_left + label_w, bar_w = k_right - bar_left - 70;
  float y = top - 12;
  for (size_t i = 0; i < users.rows.size() && i < 10; ++i) {
    const auto& row = users.rows[i];
    render::text(d, d.regular, 7.5f, k_left, y, row[0].text.empty() ? "(none)" : row[0].text, Align::left, label_w - 6);
    const float w = float(chart_value(row[money_col].decimal) / max) * bar_w;
    fill(d, k_colors[0]);
    HPDF_Page_Rectangle(d.page, bar_left, y - 1, std::max(w, 0.5f), 8);
    HPDF_Page_Fill(d.page);
    HPDF_Page_SetGrayFill(d.page, 0);
    render::text(d, d.regular, 7.5f, bar_left + w + 4, y, format_money(row[money_col].decimal, cur));
    y -= 13;
  }
}


// Month over month: one column per period, stacked by department.
void mom_chart(Doc& d, const MonthOverMonth& m, const money::Currency& cur, float top) {
  const float h = 150, bottom = top - h, left = k_left + 40, right = k_right;
  render::text(d, d.bold, 10, k_left, top + 14, "Month over month by department (" + std::string(cur.name()) + ")");
  double max_total = 0;
  for (const auto& t : m.totals) max_total = std::max(max_total, chart_value(t));
  const double max = nice_max(max_total);
  grid(d, left, right, bottom, h, max);
  const size_t n = std::max<size_t>(m.periods.size(), 1);
  const float slot = (right - left) / float(n), bar = slot * 0.55f;
  for (size_t p = 0; p < m.periods.size(); ++p) {
    const float x = left + slot * float(p) + (slot - bar) / 2;
    std::vector<double> values;
    for (const auto& dept : m.cost) values.push_back(chart_value(dept[p]));
    const float y = stacked_column(d, x, bottom, bar, h, max, values);
    render::text(d, d.regular, 6.5f, x + bar / 2 - render::width(d, d.regular, 6.5f, m.periods[p]) / 2, bottom - 9, m.periods[p]);
    const std::string total = format_money(m.totals[p], cur);
    render::text(d, d.regular, 6, x + bar / 2 - render::width(d, d.regular, 6, total) / 2, y + 3, total);
  }
  legend(d, m.departments, bottom - 24);
}

// Cumulative spend over the period's days against the budget line, with the forecast's path and
// its band for the days to come.
void burn_chart(Doc& d, const BurnDown& b, const money::Currency& cur, float top) {
  const float h = 150, bottom = top - h, left = k_left + 40, right = k_right;
  render::text(d, d.bold, 10, k_left, top + 14,
               (b.budget.empty() ? std::string("Cumulative spend") : "Budget burn-down: " + b.budget) + " (" + std::string(cur.name()) + ")");
  double top_value = b.budget.empty() ? 0 : chart_value(b.limit);
  for (const auto& v : b.actual) top_value = std::max(top_value, chart_value(v));
  for (const auto& v : b.upper) top_value = std::max(top_value, chart_value(v));
  const double max = nice_max(top_value);
  grid(d, left, right, bottom, h, max);
  const size_t n = std::max<size_t>(b.days.size(), 1);
  const float step = (right - left) / float(n);
  auto x_of = [&](size_t i) { return left + step * (float(i) + 1); };  // the end of day i
  auto y_of = [&](const money::Decimal& v) { return bottom + float(chart_value(v) / max) * h; };
  const size_t a = b.actual.size();
  if (!b.mean.empty()) {
    // The band: upper edge forward, lower edge back.
    HPDF_Page_SetRGBFill(d.page, 0.80f, 0.87f, 0.95f);
    const float x0 = a ? x_of(a - 1) : left, y0 = a ? y_of(b.actual.back()) : bottom;
    HPDF_Page_MoveTo(d.page, x0, y0);
    for (size_t i = 0; i < b.upper.size(); ++i) HPDF_Page_LineTo(d.page, x_of(a + i), y_of(b.upper[i]));
    for (size_t i = b.lower.size(); i-- > 0;) HPDF_Page_LineTo(d.page, x_of(a + i), y_of(b.lower[i]));
    HPDF_Page_ClosePath(d.page);
    HPDF_Page_Fill(d.page);
    HPDF_Page_SetRGBStroke(d.page, 0.12f, 0.47f, 0.71f);
    HPDF_Page_SetLineWidth(d.page, 1.0f);
    const HPDF_UINT16 dash[] = {3, 2};
    HPDF_Page_SetDash(d.page, dash, 2, 0);
    HPDF_Page_MoveTo(d.page, x0, y0);
    for (size_t i = 0; i < b.mean.size(); ++i) HPDF_Page_LineTo(d.page, x_of(a + i), y_of(b.mean[i]));
    HPDF_Page_Stroke(d.page);
    HPDF_Page_SetDash(d.page, nullptr, 0, 0);
  }
  if (a) {
    HPDF_Page_SetRGBStroke(d.page, 0.12f, 0.47f, 0.71f);
    HPDF_Page_SetLineWidth(d.page, 1.6f);
    HPDF_Page_MoveTo(d.page, left, bottom);
    for (size_t i = 0; i < a; ++i) HPDF_Page_LineTo(d.page, x_of(i), y_of(b.actual[i]));
    HPDF_Page_Stroke(d.page);
  }
  HPDF_Page_SetGrayFill(d.page, 0);
  if (!b.budget.empty()) {
    HPDF_Page_SetRGBStroke(d.page, 0.84f, 0.15f, 0.16f);
    HPDF_Page_SetLineWidth(d.page, 1.0f);
    HPDF_Page_MoveTo(d.page, left, y_of(b.limit));
    HPDF_Page_LineTo(d.page, right, y_of(b.limit));
    HPDF_Page_Stroke(d.page);
    render::text(d, d.regular, 6.5f, right, y_of(b.limit) + 3, "limit " + format_money(b.limit, cur), Align::right);
  }
  HPDF_Page_SetGrayFill(d.page, 0);
  for (size_t i = 0; i < b.days.size(); ++i)
    if (i % std::max<size_t>(1, n / 10) == 0) render::text(d, d.regular, 6, x_of(i) - step / 2 - 4, bottom - 9, b.days[i].substr(8));
  std::string note = "solid: actual";
  if (!b.mean.empty()) note += "; dashed: forecast median, shaded: " + std::to_string(b.level) + " % interval";
  if (!b.budget.empty()) note += "; red: the budget's limit";
  else note += "; no monthly budget has the report's scope";
  note += " (days in UTC)";
  render::text(d, d.regular, 7, k_left, bottom - 24, note, Align::left, k_right - k_left);
}

std::string signed_money(const money::Decimal& v, const money::Currency& cur) {
  return (v.negative() ? "" : "+") + format_money(v, cur);
}

// "2 monthly budgets: 1 exceeded, 1 within" and the like.
std::string budgets_line(const ReportPack& p) {
  if (p.budgets.empty()) return "Budgets: no monthly budgets";
  int exceeded = 0, warning = 0, within = 0, errors = 0;
  for (const auto& s : p.budgets)
    if (!s.error.empty()) ++errors;
    else if (s.used_tenths >= 1000) ++exceeded;
    else if (s.used_tenths >= 800 || (s.p_exceed && *s.p_exceed >= 0.5)) ++warning;
    else ++within;
  std::string out = "Budgets: " + std::to_string(p.budgets.size()) + " monthly \xE2\x80\x94 ";
  std::vector<std::string> parts;
  if (exceeded) parts.push_back(std::to_string(exceeded) + " exceeded");
  if (warning) parts.push_back(std::to_string(warning) + " at risk (80 % used or likely to exceed)");
  if (within) parts.push_back(std::to_string(within) + " within");
  if (errors) parts.push_back(std::to_string(errors) + " not evaluated");
  for (size_t i = 0; i < parts.size(); ++i) out += (i ? ", " : "") + parts[i];
  return out;
}

}  // namespace

std::string report_pdf(const MonthlyReport& r, const usage::AggResult& daily_by_department, const ReportPack& pack,
                       const render::PdfFonts& fonts) {
  Doc d;
  render::open_document(d, fonts.regular, fonts.bold, "install fonts-dejavu-core", fonts.fallbacks);
  HPDF_SetInfoAttr(d.pdf, HPDF_INFO_CREATOR, "billctl");
  HPDF_SetInfoAttr(d.pdf, HPDF_INFO_TITLE, ("AI spend report " + r.period.label).c_str());
  const util::Date g = util::civil_from_days(util::day_of(r.generated_at));
  HPDF_Date date{g.year, g.month, g.day, 0, 0, 0, 'Z', 0, 0};
  HPDF_SetInfoDateAttr(d.pdf, HPDF_INFO_CREATION_DATE, date);
  const money::Currency& cur = r.currency;

  std::string catalogs;
  for (const auto& c : r.catalogs) catalogs += (catalogs.empty() ? "" : "; ") + c.name + " " + c.hash.substr(0, 12) + " (as of " + c.as_of + ")";
  std::string filters;
  for (const auto& f : r.where) {
    std::string vals;
    for (const auto& v : f.values) vals += (vals.empty() ? "" : ",") + v;
    filters += (filters.empty() ? "" : " ") + std::string(usage::dim_name(f.dim)) + "=" + vals;
  }

  // ---- first page: header, key figures, charts ----
  std::vector<Item> items;
  const float drivers_h = pack.drivers.empty() ? 0 : 14 + 11 * float(pack.drivers.size());
  const float extra = r.sessions > 0 ? 12 : 0;  // a third row of figures: cost per session
  items.push_back({150 + extra + drivers_h, nullptr, [&](Doc& doc, float y) {
                     render::text(doc, doc.bold, 18, k_left, y - 18, "AI spend report " + r.period.label);
                     render::text(doc, doc.regular, 8.5f, k_left, y - 32,
                                  util::format_date(util::day_of(r.period.begin)) + " to " +
                                      util::format_date(util::day_of(r.period.end - 1)) + "  \xC2\xB7  generated " +
                                      util::format_rfc3339(r.generated_at) + "  \xC2\xB7  filters: " + (filters.empty() ? "none" : filters),
                                  Align::left, k_right - k_left);
                     render::text(doc, doc.bold, 26, k_left, y - 72, format_money(r.cost, cur));
                     std::string change = "previous period " + r.previous.label + ": " + format_money(r.previous_cost, cur);
                     if (r.change_tenths) {
                       const int64_t v = *r.change_tenths, a = v < 0 ? -v : v;
                       change += "  (" + std::string(v < 0 ? "-" : v > 0 ? "+" : "") + std::to_string(a / 10) + "." +
                                 std::to_string(a % 10) + " %)";
                     }
                     render::text(doc, doc.regular, 9, k_left, y - 88, change);
                     std::vector<std::pair<std::string, std::string>> figures = {
                         {"Requests", util::group_thousands(r.total.requests)},
                         {"Active users", util::group_thousands(r.active_users)},
                         {"Cost per request", r.cost_per_request ? r.cost_per_request->format(4) : "-"},
                         {"Cost per active user", r.cost_per_active_user ? format_money(*r.cost_per_active_user, cur) : "-"},
                         {"Tokens", util::group_thousands(r.total.input_tokens + r.total.cached_input_tokens +
                                                          r.total.cache_write_tokens + r.total.cache_write_1h_tokens +
                                                          r.total.output_tokens)},
                         {"Failed requests", std::to_string(r.failed_tenths / 10) + "." + std::to_string(r.failed_tenths % 10) + " %"}};
                     if (r.sessions > 0) {
                       figures.push_back({"Sessions", util::group_thousands(r.sessions)});
                       figures.push_back({"Cost per session", format_money(*r.cost_per_session, cur)});
                     }
                     for (size_t i = 0; i < figures.size(); ++i) {
                       const float x = k_left + float(i % 3) * 170, fy = y - 104 - float(i / 3) * 12;
                       render::text(doc, doc.regular, 8, x, fy, figures[i].first + ": ");
                       render::text(doc, doc.bold, 8, x + render::width(doc, doc.regular, 8, figures[i].first + ": "), fy, figures[i].second);
                     }
                     std::string outlook;
                     if (pack.forecast)
                       outlook = "Forecast for " + r.period.label + ": " + format_money(pack.forecast_mean, cur) + "  (" +
                                 std::to_string(pack.forecast_level) + " % interval " + format_money(pack.forecast_lower, cur) +
                                 " to " + format_money(pack.forecast_upper, cur) + ")" +
                                 (pack.little_history ? "  \xC2\xB7  little history: a wide interval" : "");
                     else if (r.generated_at >= r.period.end)
                       outlook = "The period has ended: every figure is actual.";
                     else
                       outlook = "No forecast: no usage in the period yet.";
                     render::text(doc, doc.regular, 8.5f, k_left, y - 134 - extra, outlook, Align::left, k_right - k_left);
                     render::text(doc, doc.regular, 8.5f, k_left, y - 146 - extra, budgets_line(pack), Align::left, k_right - k_left);
                     if (!pack.drivers.empty()) {
                       render::text(doc, doc.bold, 8.5f, k_left, y - 162 - extra, "Largest changes against " + r.previous.label);
                       float dy = y - 173 - extra;
                       for (const auto& dr : pack.drivers) {
                         render::text(doc, doc.regular, 8, k_left + 8, dy,
                                      std::string(usage::dim_name(dr.dim)) + " " + (dr.value.empty() ? "(none)" : dr.value),
                                      Align::left, 250);
                         std::string change = signed_money(dr.change, cur);
                         change += dr.change_tenths ? "  (" + percent_text(*dr.change_tenths, true) + ")" : "  (new)";
                         change += "   " + format_money(dr.previous_cost, cur) + " \xE2\x86\x92 " + format_money(dr.cost, cur);
                         render::text(doc, doc.regular, 8, k_left + 265, dy, change, Align::left, k_right - k_left - 265);
                         dy -= 11;
                       }
                     }
                   }});
  const Stack stack = stack_of(r, daily_by_department);
  if (!stack.days.empty())
    items.push_back({240, nullptr, [&](Doc& doc, float y) { stacked_chart(doc, stack, cur, y - 30); }});
  // Top users, models and features as bars (ten at most each).
  std::vector<std::pair<std::string, const render::Table*>> bars{{"Top users by cost", &r.top_users}};
  for (const auto& t : r.breakdowns)
    if (t.id == "by_model") bars.emplace_back("Top models by cost", &t);
    else if (t.id == "by_feature") bars.emplace_back("Top features by cost", &t);
  for (const auto& [title, table] : bars) {
    const render::Table* t = table;
    const std::string name = title;
    if (t->rows.empty() || (t->rows.size() == 1 && t->rows[0][0].text.empty())) continue;
    items.push_back({30 + 13 * float(std::min<size_t>(t->rows.size(), 10)), nullptr,
                     [&, t, name](Doc& doc, float y) { top_bars(doc, *t, name, cur, y - 22); }});
  }
  if (r.total.records > 0) {
    items.push_back({220, nullptr, [&](Doc& doc, float y) { mom_chart(doc, pack.mom, cur, y - 30); }});
    items.push_back({220, nullptr, [&](Doc& doc, float y) { burn_chart(doc, pack.burn, cur, y - 30); }});
  }

  // ---- the tables ----
  std::vector<const render::Table*> tables;
  if (!pack.budget_table.rows.empty()) tables.push_back(&pack.budget_table);
  if (r.total.records > 0)
    for (const render::Table* t : {&pack.chargeback, &pack.feature_roi, &pack.mom_table})
      if (!t->rows.empty()) tables.push_back(t);
  for (const auto& t : r.breakdowns) tables.push_back(&t);
  tables.push_back(&r.top_users);
  if (!r.meters.rows.empty()) tables.push_back(&r.meters);
  std::map<const render::Table*, Layout> layouts;
  for (const render::Table* t : tables) layouts[t] = layout_of(d, *t, cur);
  auto header = [&](Doc& doc, const render::Table& t, float y) {
    const Layout& l = layouts[&t];
    for (size_t c = 0; c < t.columns.size(); ++c) {
      std::string title = t.columns[c].title;
      if (t.columns[c].kind == Kind::money) title += " (" + std::string(cur.name()) + ")";
      render::text(doc, doc.bold, 7, l.x[c], y - 10, title, c == 0 ? Align::left : Align::right, c == 0 ? l.w[c] : 0);
    }
    rule(doc, y - 14, 0.6f);
  };
  auto row_of = [&](const render::Table& t, const std::vector<render::Value>& row, bool bold) {
    return [&t, &row, &layouts, bold](Doc& doc, float y) {
      const Layout& l = layouts[&t];
      HPDF_Font f = bold ? doc.bold : doc.regular;
      for (size_t c = 0; c < t.columns.size() && c < row.size(); ++c) {
        const std::string s = cell_text(t.columns[c], row[c]);
        if (c == 0) render::text(doc, f, 7.5f, l.x[c], y - 9, s.empty() ? "(none)" : s, Align::left, l.w[c]);
        else if (t.columns[c].kind == Kind::text) render::text(doc, f, 7.5f, l.x[c], y - 9, s, Align::right, l.w[c]);
        else render::number_text(doc, f, 7.5f, l.x[c], y - 9, s, l.w[c]);
      }
    };
  };
  for (const render::Table* t : tables) {
    items.push_back({34, nullptr, [t](Doc& doc, float y) { render::text(doc, doc.bold, 11, k_left, y - 24, t->title); }});
    items.push_back({16, t, [&, t](Doc& doc, float y) { header(doc, *t, y); }});
    for (const auto& row : t->rows) items.push_back({12, t, row_of(*t, row, false)});
    if (!t->total.empty()) items.push_back({13, t, row_of(*t, t->total, true)});
  }

  // ---- layout: counted once, then drawn with "Page N of M" ----
  auto layout = [&](bool draw, int total_pages) {
    int pages = 0;
    float y = 0;
    auto new_page = [&] {
      ++pages;
      d.page = nullptr;
      if (draw) {
        d.page = HPDF_AddPage(d.pdf);
        HPDF_Page_SetWidth(d.page, k_width);
        HPDF_Page_SetHeight(d.page, k_height);
        rule(d, 52, 0.75f);
        render::text(d, d.regular, 7, k_left, 40, "billctl \xC2\xB7 AI spend report " + r.period.label + " \xC2\xB7 priced with " +
                                                      (catalogs.empty() ? std::string("-") : catalogs),
                     Align::left, 400);
        render::text(d, d.regular, 7, k_right, 40, "Page " + std::to_string(pages) + " of " + std::to_string(total_pages), Align::right);
      }
      y = k_top;
    };
    new_page();
    const render::Table* open = nullptr;
    for (size_t i = 0; i < items.size(); ++i) {
      const Item& it = items[i];
      // A table's title keeps its header and first row with it.
      float need = it.height;
      if (!it.table && i + 2 < items.size() && items[i + 1].table) need += items[i + 1].height + items[i + 2].height;
      if (y - need < k_bottom) {
        new_page();
        if (it.table && open == it.table && i > 0 && items[i - 1].table == it.table) {
          if (draw) header(d, *it.table, y);
          y -= 16;
        }
      }
      if (draw) it.draw(d, y);
      y -= it.height;
      open = it.table;
    }
    return pages;
  };
  const int pages = layout(false, 0);
  layout(true, pages);
  return render::document_bytes(d, "the report");
}

}  // namespace billctl::report
