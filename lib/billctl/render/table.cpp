#include "billctl/render/table.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "billctl/util/strings.hpp"

namespace billctl::render {

namespace {

bool right_aligned(Kind k) { return k != Kind::text && k != Kind::boolean && k != Kind::json; }

std::string dump(const Value& v) { return v.json ? v.json->dump() : "null"; }

void pad(std::string& out, const std::string& s, size_t width, bool right) {
  const size_t w = util::display_width(s);
  if (right) out.append(width > w ? width - w : 0, ' ');
  out += s;
  if (!right) out.append(width > w ? width - w : 0, ' ');
}

// A bar of `width` cells for value/max in eighths of a cell.
std::string bar(money::i128 value, money::i128 max, size_t width) {
  static const char* k_parts[] = {"", "\u258F", "\u258E", "\u258D", "\u258C", "\u258B", "\u258A", "\u2589"};
  if (max <= 0 || value <= 0) return {};
  const money::i128 eighths = money::div_round(value * money::i128(width) * 8, max, money::Rounding::half_even);
  std::string out;
  for (money::i128 i = 0; i < eighths / 8; ++i) out += "\u2588";
  out += k_parts[int(eighths % 8)];
  return out;
}

}  // namespace

Value Value::of_json(nlohmann::ordered_json j) {
  Value v;
  v.json = std::make_shared<const nlohmann::ordered_json>(std::move(j));
  return v;
}

Table in_form(const Table& t, Form f) {
  Table out;
  out.id = t.id;
  out.title = t.title;
  out.currency = t.currency;
  out.bar_full = t.bar_full;
  out.json_money_text = t.json_money_text;
  std::vector<size_t> keep;
  for (size_t i = 0; i < t.columns.size(); ++i)
    if (t.columns[i].forms & f) {
      if (int(i) == t.bar_column) out.bar_column = int(keep.size());
      keep.push_back(i);
      out.columns.push_back(t.columns[i]);
    }
  auto project = [&](const std::vector<Value>& row) {
    std::vector<Value> r;
    r.reserve(keep.size());
    for (size_t i : keep) r.push_back(row[i]);
    return r;
  };
  out.rows.reserve(t.rows.size());
  for (const auto& row : t.rows) out.rows.push_back(project(row));
  if (!t.total.empty()) out.total = project(t.total);
  return out;
}

namespace {

bool all_in(const Table& t, Form f) {
  return std::all_of(t.columns.begin(), t.columns.end(), [f](const Column& c) { return (c.forms & f) != 0; });
}

}  // namespace

std::string percent_text(int64_t tenths, bool sign) {
  const bool neg = tenths < 0;
  const int64_t a = neg ? -tenths : tenths;
  std::string s = neg ? "-" : sign && tenths > 0 ? "+" : "";  // appended: GCC 12 -O2 warns (-Wrestrict) on "lit" + string&&
  s += std::to_string(a / 10);
  s += '.';
  s += std::to_string(a % 10);
  return s;
}

std::string plain(const Column& c, const Value& v) {
  if (v.null) return {};
  switch (c.kind) {
    case Kind::text: return v.text;
    case Kind::integer: return std::to_string(v.integer);
    case Kind::money:
    case Kind::decimal: return v.decimal.format(v.decimal_digits, false);
    case Kind::percent: return percent_text(v.integer);
    case Kind::amount: return v.is_tokens() ? std::to_string(v.whole_tokens()) : v.decimal.format(v.decimal_digits, false);
    case Kind::boolean: return v.integer ? "true" : "false";
    case Kind::number: return nlohmann::json(v.number).dump();
    case Kind::json: return dump(v);
  }
  return {};
}

std::string pretty(const Column& c, const Value& v) {
  if (v.null) return "-";
  switch (c.kind) {
    case Kind::text: return util::escape_controls(v.text);  // data never drives the terminal
    case Kind::integer: return util::group_thousands(v.integer);
    case Kind::money:
    case Kind::decimal: return v.decimal.format(c.people_digits >= 0 ? c.people_digits : v.decimal_digits, true);
    case Kind::percent: return percent_text(v.integer) + " %";
    case Kind::amount:
      return v.is_tokens() ? util::group_thousands(v.whole_tokens()) + " tokens" : v.decimal.format(v.decimal_digits, true) + " " + v.unit;
    case Kind::boolean: return v.integer ? "yes" : "no";
    case Kind::number: return nlohmann::json(v.number).dump();
    case Kind::json: return util::escape_controls(dump(v));
  }
  return {};
}

std::string to_text(const Table& t, const TextStyle& style) {
  if (!all_in(t, Form::people)) return to_text(in_form(t, Form::people), style);
  const size_t ncol = t.columns.size();
  std::vector<std::string> titles;
  for (const auto& c : t.columns) titles.push_back(c.kind == Kind::money ? c.title + " (" + std::string(t.currency.name()) + ")" : c.title);
  std::vector<std::vector<std::string>> cells;
  for (const auto& row : t.rows) {
    std::vector<std::string> r;
    for (size_t i = 0; i < ncol; ++i) r.push_back(pretty(t.columns[i], row[i]));
    cells.push_back(std::move(r));
  }
  std::vector<std::string> total;
  if (!t.total.empty())
    for (size_t i = 0; i < ncol; ++i) total.push_back(pretty(t.columns[i], t.total[i]));
  std::vector<size_t> width(ncol, 0);
  for (size_t i = 0; i < ncol; ++i) {
    width[i] = util::display_width(titles[i]);
    for (const auto& r : cells) width[i] = std::max(width[i], util::display_width(r[i]));
    if (!total.empty()) width[i] = std::max(width[i], util::display_width(total[i]));
  }
  bool bars = style.bars && t.bar_column >= 0 && !t.rows.empty();
  constexpr size_t k_bar_width = 20;
  // Fitting a terminal: bars go first, then long text is shortened, then columns are hidden.
  std::vector<bool> shown(ncol, true);
  std::vector<std::string> hidden;
  if (style.width > 0) {
    auto table_width = [&] {
      size_t w = 2, n = 0;
      for (size_t i = 0; i < ncol; ++i)
        if (shown[i]) w += width[i] + (n++ ? 2 : 0);
      return w + (bars ? 2 + k_bar_width : 0);
    };
    if (table_width() > style.width) bars = false;
    auto hide = [&](size_t i) {
      shown[i] = false;
      hidden.push_back(t.columns[i].title);
    };
    // Long text loses what the table is over, widest column first, down to a floor of 16.
    constexpr size_t k_min_text = 16;
    auto text_slack = [&] {
      size_t slack = 0;
      for (size_t i = 0; i < ncol; ++i)
        if (shown[i] && t.columns[i].kind == Kind::text && width[i] > k_min_text) slack += width[i] - k_min_text;
      return slack;
    };
    auto shorten_text = [&] {
      while (table_width() > style.width) {
        size_t widest = ncol;
        for (size_t i = 0; i < ncol; ++i)
          if (shown[i] && t.columns[i].kind == Kind::text && width[i] > k_min_text && (widest == ncol || width[i] > width[widest]))
            widest = i;
        if (widest == ncol) return;
        const size_t over = table_width() - style.width;
        width[widest] = std::max(k_min_text, width[widest] > over ? width[widest] - over : 0);
        titles[widest] = util::shorten_middle(titles[widest], width[widest]);
        for (auto& r : cells) r[widest] = util::shorten_middle(r[widest], width[widest]);
        if (!total.empty()) total[widest] = util::shorten_middle(total[widest], width[widest]);
      }
    };
    // Columns of low value (hide_rank > 0: counts, a forecast's outer bands) go first, highest
    // rank first; then, unless shortening
    // text is enough, the other counts from the right; then text is shortened; then text columns
    // but the first go.
    std::vector<size_t> ranked, plain;
    for (size_t i = ncol; i-- > 1;)
      if (t.columns[i].hide_rank > 0) ranked.push_back(i);
      else if (t.columns[i].kind == Kind::integer) plain.push_back(i);
    std::stable_sort(ranked.begin(), ranked.end(), [&](size_t a, size_t b) { return t.columns[a].hide_rank > t.columns[b].hide_rank; });
    for (size_t i : ranked)
      if (table_width() > style.width) hide(i);
    for (size_t i : plain)
      if (table_width() > style.width && table_width() - style.width > text_slack()) hide(i);
    shorten_text();
    for (size_t i = ncol; i-- > 1 && table_width() > style.width;)
      if (shown[i] && t.columns[i].kind == Kind::text) hide(i);
    // Listed in table order.
    std::vector<std::string> ordered;
    for (size_t i = 0; i < ncol; ++i)
      if (!shown[i]) ordered.push_back(t.columns[i].title);
    hidden = std::move(ordered);
  }
  auto bar_value = [&](const std::vector<Value>& row) -> money::i128 {
    const Value& v = row[size_t(t.bar_column)];
    return t.columns[size_t(t.bar_column)].kind == Kind::percent ? money::i128(v.integer) : v.decimal.units();
  };
  money::i128 max = t.bar_full;
  if (bars && max == 0)
    for (const auto& row : t.rows) max = std::max(max, bar_value(row));

  const std::string bold = style.color ? "\x1b[1m" : "";
  const std::string dim = style.color ? "\x1b[2m" : "";
  const std::string reset = style.color ? "\x1b[0m" : "";
  std::string out;
  if (!t.title.empty()) out += bold + t.title + reset + "\n";
  auto line = [&](const std::vector<std::string>& r, const std::string& pre, const std::string& post) {
    std::string l = pre;
    for (size_t i = 0, n = 0; i < ncol; ++i) {
      if (!shown[i]) continue;
      if (n++) l += "  ";
      pad(l, r[i], width[i], right_aligned(t.columns[i].kind));
    }
    while (!l.empty() && l.back() == ' ') l.pop_back();
    return l + post;
  };
  out += line(titles, "  " + bold, reset) + "\n";
  size_t rule = 0;
  for (size_t i = 0, n = 0; i < ncol; ++i)
    if (shown[i]) rule += width[i] + (n++ ? 2 : 0);
  std::string rule_line = "  " + dim;
  for (size_t i = 0; i < rule; ++i) rule_line += style.bars ? "\u2500" : "-";
  rule_line += reset + "\n";
  out += rule_line;
  for (size_t k = 0; k < cells.size(); ++k) {
    std::string l = line(cells[k], "  ", "");
    if (bars) {
      const size_t used = util::display_width(l);
      const size_t full = rule + 2;
      l.append(full > used ? full - used : 0, ' ');
      l += "  " + bar(std::min(bar_value(t.rows[k]), max), max, k_bar_width);
      while (!l.empty() && l.back() == ' ') l.pop_back();
    }
    out += l + "\n";
  }
  if (!total.empty()) {
    out += rule_line;
    out += line(total, "  " + bold, reset) + "\n";
  }
  if (!hidden.empty()) {
    std::string names;
    for (const auto& h : hidden) names.append(names.empty() ? "" : ", ").append(h);
    const std::string head = "  (" + std::to_string(hidden.size()) + (hidden.size() == 1 ? " column" : " columns") + " hidden: ";
    const std::string tail = "; --wide shows all)";
    const size_t room = style.width > head.size() + tail.size() + 4 ? style.width - head.size() - tail.size() : 4;
    out += dim + head + util::shorten_end(names, room) + tail + reset + "\n";
  }
  return out;
}

std::string csv_cell(const std::string& v, bool neutralise) {
  std::string s = v;
  if (neutralise && !s.empty() && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@' || s[0] == '\t' || s[0] == '\r'))
    s = "'" + s;
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string to_csv(const Table& t, bool header, const std::string& section) {
  if (!all_in(t, Form::csv)) return to_csv(in_form(t, Form::csv), header, section);
  std::string out;
  if (header) {
    if (!section.empty()) out += "section,";
    for (size_t i = 0; i < t.columns.size(); ++i) {
      if (i) out += ',';
      out += csv_cell(t.columns[i].id);
    }
    out += "\r\n";
  }
  auto row_out = [&](const std::vector<Value>& row) {
    if (!section.empty()) out += csv_cell(section) + ",";
    for (size_t i = 0; i < t.columns.size(); ++i) {
      if (i) out += ',';
      // Numbers are written plainly (a negative amount stays a number); text is neutralised.
      out += csv_cell(plain(t.columns[i], row[i]), t.columns[i].kind == Kind::text);
    }
    out += "\r\n";
  };
  for (const auto& row : t.rows) row_out(row);
  return out;
}

}  // namespace billctl::render
