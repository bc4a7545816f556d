#include "billctl/report/xlsx.hpp"

#include <xlsxwriter.h>

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <ctime>
#include <map>

#include "billctl/report/department_days.hpp"
#include "billctl/util/error.hpp"
#include "billctl/util/io.hpp"
#include "billctl/util/strings.hpp"

namespace billctl::report {

namespace {

using render::Kind;

constexpr size_t k_max_departments = 8;  // stacked series; the rest are one "others" series

// Text as a spreadsheet shows it, neutralised as CSV cells are (no cell starts like a formula).
std::string cell_text(const std::string& s) {
  if (!s.empty() && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@' || s[0] == '\t' || s[0] == '\r'))
    return "'" + s;
  return s;
}

// A1-style column letters.
std::string col_name(size_t c) {
  std::string s;
  for (size_t n = c + 1; n > 0; n = (n - 1) / 26) s.insert(s.begin(), char('A' + (n - 1) % 26));
  return s;
}

std::string sheet_ref(const std::string& sheet, size_t r0, size_t c0, size_t r1, size_t c1) {
  return "='" + sheet + "'!$" + col_name(c0) + "$" + std::to_string(r0 + 1) + ":$" + col_name(c1) + "$" + std::to_string(r1 + 1);
}

class Book {
 public:
  explicit Book(const std::string& path, util::Seconds created, const money::Currency& currency) : m_currency(currency) {
    m_wb = workbook_new(path.c_str());
    if (!m_wb) throw DataError("cannot create the Excel workbook '" + path + "'");
    lxw_doc_properties props{};
    props.title = const_cast<char*>("AI spend report");
    props.author = const_cast<char*>("billctl");
    props.created = time_t(created);
    workbook_set_properties(m_wb, &props);
    m_bold = workbook_add_format(m_wb);
    format_set_bold(m_bold);
    m_title = workbook_add_format(m_wb);
    format_set_bold(m_title);
    format_set_font_size(m_title, 14);
    m_int = number_format("#,##0");
    m_pct = number_format("0.0%");
    const int d = currency.minor_units;
    std::string money = d > 0 ? "#,##0." + std::string(size_t(d), '0') : "#,##0";
    money += " \"" + std::string(currency.name()) + "\"";
    m_money = number_format(money);
    m_money_bold = number_format(money);
    format_set_bold(m_money_bold);
    m_int_bold = number_format("#,##0");
    format_set_bold(m_int_bold);
  }
  ~Book() {
    if (m_wb) workbook_close(m_wb);
  }
  void close() {
    const lxw_error e = workbook_close(m_wb);
    m_wb = nullptr;
    if (e != LXW_NO_ERROR) throw DataError(std::string("cannot write the Excel workbook: ") + lxw_strerror(e));
  }
  lxw_workbook* wb() { return m_wb; }
  lxw_format* decimal_format(int digits) {
    auto it = m_decimals.find(digits);
    if (it != m_decimals.end()) return it->second;
    return m_decimals[digits] = number_format(digits > 0 ? "#,##0." + std::string(size_t(digits), '0') : "#,##0");
  }

  lxw_format *m_bold, *m_title, *m_int, *m_pct, *m_money, *m_money_bold, *m_int_bold;

  // Writes a table with its header on `row0`; returns the row after it. Widths fit the content.
  size_t table(lxw_worksheet* ws, const render::Table& t, size_t row0, bool filter) {
    std::vector<size_t> width(t.columns.size(), 8);
    for (size_t c = 0; c < t.columns.size(); ++c) {
      worksheet_write_string(ws, lxw_row_t(row0), lxw_col_t(c), t.columns[c].title.c_str(), m_bold);
      width[c] = std::max(width[c], util::display_width(t.columns[c].title) + 2);
    }
    size_t r = row0 + 1;
    for (const auto& row : t.rows) {
      for (size_t c = 0; c < row.size() && c < t.columns.size(); ++c) {
        cell(ws, r, c, t.columns[c], row[c], false);
        width[c] = std::max(width[c], util::display_width(render::pretty(t.columns[c], row[c])) + 2);
      }
      ++r;
    }
    const size_t last = r - 1;
    if (!t.total.empty()) {
      for (size_t c = 0; c < t.total.size() && c < t.columns.size(); ++c) {
        const render::Column& col = t.columns[c];
        const render::Value& v = t.total[c];
        const bool summable = (col.kind == Kind::money || col.kind == Kind::integer) && col.additive;
        if (summable && !v.null && last > row0) {
          // SUBTOTAL(109, ...) sums the rows a filter leaves visible.
          const std::string f = "=SUBTOTAL(109," + col_name(c) + std::to_string(row0 + 2) + ":" + col_name(c) +
                                std::to_string(last + 1) + ")";
          worksheet_write_formula_num(ws, lxw_row_t(r), lxw_col_t(c), f.c_str(),
                                      col.kind == Kind::money ? m_money_bold : m_int_bold,
                                      col.kind == Kind::money ? chart_value(v.decimal) : double(v.integer));
        } else {
          cell(ws, r, c, col, v, true);
        }
      }
      ++r;
    }
    for (size_t c = 0; c < width.size(); ++c)
      worksheet_set_column(ws, lxw_col_t(c), lxw_col_t(c), double(std::min<size_t>(width[c], 60)), nullptr);
    if (filter && last > row0)
      worksheet_autofilter(ws, lxw_row_t(row0), 0, lxw_row_t(last), lxw_col_t(t.columns.size() - 1));
    return r;
  }

  void cell(lxw_worksheet* ws, size_t r, size_t c, const render::Column& col, const render::Value& v, bool bold) {
    const auto row = lxw_row_t(r);
    const auto cc = lxw_col_t(c);
    if (v.null) return;
    switch (col.kind) {
      case Kind::text: worksheet_write_string(ws, row, cc, cell_text(v.text).c_str(), bold ? m_bold : nullptr); break;
      case Kind::integer: worksheet_write_number(ws, row, cc, double(v.integer), bold ? m_int_bold : m_int); break;
      case Kind::money: worksheet_write_number(ws, row, cc, chart_value(v.decimal), bold ? m_money_bold : m_money); break;
      case Kind::decimal: worksheet_write_number(ws, row, cc, chart_value(v.decimal), decimal_format(v.decimal_digits)); break;
      case Kind::percent: worksheet_write_number(ws, row, cc, double(v.integer) / 1000.0, m_pct); break;
      case Kind::amount:
        if (v.unit == "tokens") worksheet_write_number(ws, row, cc, chart_value(v.decimal), bold ? m_int_bold : m_int);
        else worksheet_write_number(ws, row, cc, chart_value(v.decimal), decimal_format(v.decimal_digits));
        break;
      case Kind::number: worksheet_write_number(ws, row, cc, v.number, nullptr); break;
      case Kind::boolean:
      case Kind::json: worksheet_write_string(ws, row, cc, cell_text(render::plain(col, v)).c_str(), bold ? m_bold : nullptr); break;
    }
  }

 private:
  lxw_format* number_format(const std::string& f) {
    lxw_format* x = workbook_add_format(m_wb);
    format_set_num_format(x, f.c_str());
    return x;
  }
  lxw_workbook* m_wb = nullptr;
  money::Currency m_currency;
  std::map<int, lxw_format*> m_decimals;
};

// Days × departments (the largest first, then one "others" column) as a table.
render::Table daily_departments(const MonthlyReport& r, const usage::AggResult& by) {
  const DepartmentDays dd = department_days(r, by, k_max_departments);
  render::Table t;
  t.id = "daily_by_department";
  t.title = "Daily by department";
  t.currency = r.currency;
  t.columns.push_back({"day", "day", Kind::text});
  for (const auto& n : dd.names) t.columns.push_back({n, n, Kind::money});
  const int digits = r.currency.minor_units;
  for (size_t i = 0; i < dd.days.size(); ++i) {
    std::vector<render::Value> row = {render::Value::of_text(dd.days[i])};
    for (money::i128 c : dd.cost[i]) row.push_back(render::Value::of_money(money::Decimal::from_units(c).round(digits), digits));
    t.rows.push_back(std::move(row));
  }
  return t;
}

void summary_sheet(Book& b, lxw_worksheet* ws, const MonthlyReport& r) {
  worksheet_write_string(ws, 0, 0, "AI spend report", b.m_title);
  size_t row = 2;
  auto text = [&](const char* k, const std::string& v) {
    worksheet_write_string(ws, lxw_row_t(row), 0, k, b.m_bold);
    worksheet_write_string(ws, lxw_row_t(row), 1, cell_text(v).c_str(), nullptr);
    ++row;
  };
  auto num = [&](const char* k, double v, lxw_format* f) {
    worksheet_write_string(ws, lxw_row_t(row), 0, k, b.m_bold);
    worksheet_write_number(ws, lxw_row_t(row), 1, v, f);
    ++row;
  };
  text("Period", r.period.label + " (" + util::format_rfc3339(r.period.begin) + " to " + util::format_rfc3339(r.period.end) + ")");
  text("Generated at", util::format_rfc3339(r.generated_at));
  std::string catalogs;
  for (const auto& c : r.catalogs) catalogs += (catalogs.empty() ? "" : "; ") + c.name + " " + c.hash.substr(0, 12) + " as of " + c.as_of;
  text("Priced with", catalogs.empty() ? "-" : catalogs);
  std::string filters;
  for (const auto& f : r.where) {
    std::string vals;
    for (const auto& v : f.values) {  // appended: GCC 12 -O2 warns (-Wrestrict) on "lit" + string&&
      if (!vals.empty()) vals += ',';
      vals += v;
    }
    if (!filters.empty()) filters += ' ';
    filters.append(usage::dim_name(f.dim)).append("=").append(vals);
  }
  text("Filters", filters.empty() ? "none" : filters);
  ++row;
  num("Total cost", chart_value(r.cost), b.m_money_bold);
  num(("Previous period (" + r.previous.label + ")").c_str(), chart_value(r.previous_cost), b.m_money);
  if (r.change_tenths) num("Change", double(*r.change_tenths) / 1000.0, b.m_pct);
  num("Requests", double(r.total.requests), b.m_int);
  num("Input tokens (uncached)", double(r.total.input_tokens), b.m_int);
  num("Cached input tokens", double(r.total.cached_input_tokens), b.m_int);
  num("Cache write tokens (5m)", double(r.total.cache_write_tokens), b.m_int);
  num("Cache write tokens (1h)", double(r.total.cache_write_1h_tokens), b.m_int);
  num("Output tokens", double(r.total.output_tokens), b.m_int);
  num("Active users", double(r.active_users), b.m_int);
  if (r.cost_per_request) num("Cost per request", chart_value(*r.cost_per_request), b.decimal_format(4));
  if (r.cost_per_active_user) num("Cost per active user", chart_value(*r.cost_per_active_user), b.m_money);
  num("Failed requests", double(r.failed_tenths) / 1000.0, b.m_pct);
  worksheet_set_column(ws, 0, 0, 30, nullptr);
  worksheet_set_column(ws, 1, 1, 22, nullptr);
}

}  // namespace

std::string report_xlsx(const MonthlyReport& r, const usage::AggResult& daily_by_department, const ReportPack& pack) {
  // libxlsxwriter writes a file: a private temp file, read back and removed.
  const char* tmp = std::getenv("TMPDIR");
  std::string path = std::string(tmp && *tmp ? tmp : "/tmp") + "/billctl-report-XXXXXX";
  const int fd = mkstemp(path.data());
  if (fd < 0) throw DataError("cannot create a temporary file for the Excel workbook in " + path);
  ::close(fd);
  struct Remove {
    std::string p;
    ~Remove() { ::unlink(p.c_str()); }
  } remove{path};
  {
    Book b(path, r.generated_at, r.currency);
    lxw_worksheet* summary = workbook_add_worksheet(b.wb(), "Summary");
    summary_sheet(b, summary, r);
    const render::Table dd = daily_departments(r, daily_by_department);
    std::vector<std::pair<std::string, const render::Table*>> sheets;
    if (r.total.records > 0) {
      if (!pack.budget_table.rows.empty()) sheets.emplace_back(pack.budget_table.title, &pack.budget_table);
      for (const render::Table* t : {&pack.chargeback, &pack.feature_roi, &pack.mom_table})
        if (!t->rows.empty()) sheets.emplace_back(t->title, t);
    }
    for (const auto& t : r.breakdowns) sheets.emplace_back(t.title, &t);
    sheets.emplace_back("Top users", &r.top_users);
    sheets.emplace_back("Daily", &r.daily);
    sheets.emplace_back(dd.title, &dd);
    if (!r.meters.rows.empty()) sheets.emplace_back("Metered usage", &r.meters);
    for (const auto& [name, t] : sheets) {
      lxw_worksheet* ws = workbook_add_worksheet(b.wb(), name.c_str());
      b.table(ws, *t, 0, true);
      worksheet_freeze_panes(ws, 1, 0);
    }
    // Daily spend stacked by department.
    if (!dd.rows.empty() && dd.columns.size() > 1) {
      lxw_chart* chart = workbook_add_chart(b.wb(), LXW_CHART_COLUMN_STACKED);
      chart_title_set_name(chart, "Daily spend by department");
      for (size_t c = 1; c < dd.columns.size(); ++c) {
        lxw_chart_series* s = chart_add_series(chart, sheet_ref(dd.title, 1, 0, dd.rows.size(), 0).c_str(),
                                               sheet_ref(dd.title, 1, c, dd.rows.size(), c).c_str());
        chart_series_set_name(s, dd.columns[c].title.c_str());
      }
      chart_axis_set_name(chart->y_axis, ("Cost (" + std::string(r.currency.name()) + ")").c_str());
      lxw_chart_options o{};
      o.x_scale = 1.6;
      o.y_scale = 1.2;
      worksheet_insert_chart_opt(summary, 2, 3, chart, &o);
    }
    // Top users by cost.
    if (!r.top_users.rows.empty()) {
      size_t money_col = 0;
      for (size_t c = 0; c < r.top_users.columns.size(); ++c)
        if (r.top_users.columns[c].kind == Kind::money) {
          money_col = c;
          break;
        }
      if (money_col > 0) {
        lxw_chart* chart = workbook_add_chart(b.wb(), LXW_CHART_BAR);
        chart_title_set_name(chart, "Top users by cost");
        lxw_chart_series* s = chart_add_series(chart, sheet_ref("Top users", 1, 0, r.top_users.rows.size(), 0).c_str(),
                                               sheet_ref("Top users", 1, money_col, r.top_users.rows.size(), money_col).c_str());
        chart_series_set_name(s, "Cost");
        chart_legend_set_position(chart, LXW_CHART_LEGEND_NONE);
        chart_axis_set_reverse(chart->x_axis);  // the largest on top
        lxw_chart_options o{};
        o.x_scale = 1.6;
        o.y_scale = 1.2;
        worksheet_insert_chart_opt(summary, 22, 3, chart, &o);
      }
    }
    b.close();
  }
  return util::read_file(path);
}

}  // namespace billctl::report
