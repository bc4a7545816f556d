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

Layout layout_of(const render::Table& t) {
  Layout l;
  const size_t n = t.columns.size();
  const float first = n > 6 ? 130.f : 180.f;
  const float rest = (k_right - k_left - first) / float(std::max<size_t>(n - 1, 1));
  float x = k_left;
  for (size_t c = 0; c < n; ++c) {
    const float w = c == 0 ? first : rest;
    l.x.push_back(c == 0 ? x : x + w);
    l.w.push_back(w - 4);
    x += w;
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

void stacked_chart(Doc& d, const Stack& s, const money::Currency& cur, float top) {
  const float h = 170, bottom = top - h, left = k_left + 40, right = k_right;
  render::text(d, d.bold, 10, k_left, top + 14, "Daily spend by department (" + std::string(cur.name()) + ")");
  const double max = nice_max(s.max_day);
  HPDF_Page_SetGrayStroke(d.page, 0.85f);
  HPDF_Page_SetLineWidth(d.page, 0.4f);
  for (int i = 0; i <= 4; ++i) {
    const float y = bottom + h * float(i) / 4;
    HPDF_Page_MoveTo(d.page, left, y);
    HPDF_Page_LineTo(d.page, right, y);
    HPDF_Page_Stroke(d.page);
    render::text(d, d.regular, 6.5f, left - 4, y - 2, axis_text(max * i / 4), Align::right);
  }
  const size_t n = std::max<size_t>(s.days.size(), 1);
  const float slot = (right - left) / float(n), bar = std::max(slot * 0.7f, 1.f);
  for (size_t i = 0; i < s.days.size(); ++i) {
    float y = bottom;
    const float x = left + slot * float(i) + (slot - bar) / 2;
    for (size_t k = 0; k < s.names.size(); ++k) {
      const float bh = float(s.values[i][k] / max) * h;
      if (bh <= 0) continue;
      fill(d, k_colors[std::min(k, k_colors.size() - 1)]);
      HPDF_Page_Rectangle(d.page, x, y, bar, bh);
      HPDF_Page_Fill(d.page);
      y += bh;
    }
    HPDF_Page_SetGrayFill(d.page, 0);
    // Every few days a label: the day of the month.
    if (i % std::max<size_t>(1, n / 10) == 0) render::text(d, d.regular, 6, x + bar / 2 - 4, bottom - 9, s.days[i].substr(8));
  }
  float lx = k_left;
  const float ly = bottom - 24;
  for (size_t k = 0; k < s.names.size(); ++k) {
    const float w = render::width(d.regular, 7, s.names[k]) + 18;
    if (lx + w > k_right) break;
    fill(d, k_colors[std::min(k, k_colors.size() - 1)]);
    HPDF_Page_Rectangle(d.page, lx, ly, 7, 7);
    HPDF_Page_Fill(d.page);
    HPDF_Page_SetGrayFill(d.page, 0);
    render::text(d, d.regular, 7, lx + 10, ly + 1, s.names[k]);
    lx += w;
  }
}

void top_bars(Doc& d, const render::Table& users, const money::Currency& cur, float top) {
  render::text(d, d.bold, 10, k_left, top + 14, "Top users by cost (" + std::string(cur.name()) + ")");
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

}  // namespace

std::string report_pdf(const MonthlyReport& r, const usage::AggResult& daily_by_department, const render::PdfFonts& fonts) {
  Doc d;
  render::open_document(d, fonts.regular, fonts.bold, "install fonts-dejavu-core");
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
  items.push_back({120, nullptr, [&](Doc& doc, float y) {
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
                     const std::vector<std::pair<std::string, std::string>> figures = {
                         {"Requests", util::group_thousands(r.total.requests)},
                         {"Active users", util::group_thousands(r.active_users)},
                         {"Cost per request", r.cost_per_request ? r.cost_per_request->format(4) : "-"},
                         {"Cost per active user", r.cost_per_active_user ? format_money(*r.cost_per_active_user, cur) : "-"},
                         {"Tokens", util::group_thousands(r.total.input_tokens + r.total.cached_input_tokens +
                                                          r.total.cache_write_tokens + r.total.cache_write_1h_tokens +
                                                          r.total.output_tokens)},
                         {"Failed requests", std::to_string(r.failed_tenths / 10) + "." + std::to_string(r.failed_tenths % 10) + " %"}};
                     for (size_t i = 0; i < figures.size(); ++i) {
                       const float x = k_left + float(i % 3) * 170, fy = y - 104 - float(i / 3) * 12;
                       render::text(doc, doc.regular, 8, x, fy, figures[i].first + ": ");
                       render::text(doc, doc.bold, 8, x + render::width(doc.regular, 8, figures[i].first + ": "), fy, figures[i].second);
                     }
                   }});
  const Stack stack = stack_of(r, daily_by_department);
  if (!stack.days.empty())
    items.push_back({240, nullptr, [&](Doc& doc, float y) { stacked_chart(doc, stack, cur, y - 30); }});
  if (!r.top_users.rows.empty())
    items.push_back({30 + 13 * float(std::min<size_t>(r.top_users.rows.size(), 10)), nullptr,
                     [&](Doc& doc, float y) { top_bars(doc, r.top_users, cur, y - 22); }});

  // ---- the tables ----
  std::vector<const render::Table*> tables;
  for (const auto& t : r.breakdowns) tables.push_back(&t);
  tables.push_back(&r.top_users);
  if (!r.meters.rows.empty()) tables.push_back(&r.meters);
  std::map<const render::Table*, Layout> layouts;
  for (const render::Table* t : tables) layouts[t] = layout_of(*t);
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
