#include "billctl/billing/config.hpp"

#include "billctl/money/config.hpp"
#include "billctl/util/error.hpp"
#include "billctl/util/toml_guard.hpp"
#include "billctl/util/tz.hpp"

namespace billctl::billing {

namespace {

std::vector<std::string> string_list(const toml::node& n, const std::string& what) {
  std::vector<std::string> out;
  if (auto s = n.value<std::string>()) return {*s};
  const auto* arr = n.as_array();
  if (!arr) throw DataError(what + ": expected a string or an array of strings");
  for (const auto& x : *arr) {
    auto s = x.value<std::string>();
    if (!s) throw DataError(what + ": expected strings");
    out.push_back(*s);
  }
  return out;
}

std::string string_value(const toml::node& n, const std::string& what) {
  auto s = n.value<std::string>();
  if (!s) throw DataError(what + ": expected a string");
  return *s;
}

}  // namespace

InvoiceSettings parse_invoice_settings(const toml::table* t, const std::string& origin) {
  InvoiceSettings s;
  if (!t) return s;
  for (const auto& [k, v] : *t) {
    const std::string key(k.str());
    const std::string what = money::config_at(origin, v) + ": [invoices] " + key;
    if (key == "issuer_name") s.issuer.name = string_value(v, what);
    else if (key == "issuer_address") s.issuer.address = string_list(v, what);
    else if (key == "issuer_email") s.issuer.email = string_value(v, what);
    else if (key == "issuer_tax_id") s.issuer.tax_id = string_value(v, what);
    else if (key == "tax_rate") s.tax_rate = string_value(v, what);
    else if (key == "tax_name") s.tax_name = string_value(v, what);
    else if (key == "default_plan") s.default_plan = string_value(v, what);
    else if (key == "font") s.font = string_value(v, what);
    else if (key == "font_bold") s.font_bold = string_value(v, what);
    else if (key == "tz") {
      s.tz = string_value(v, what);
      try {
        util::TimeZone::load(s.tz);
      } catch (const UsageError& e) {
        throw DataError(what + ": " + e.what());
      }
    } else if (key == "net_days") {
      auto d = util::toml_integer(v);
      if (!d || *d < 0 || *d > 365) throw DataError(what + ": expected a number of days (0..365)");
      s.net_days = int(*d);
    } else {
      throw DataError(money::config_at(origin, v) + ": [invoices]: unknown key '" + key +
                      "' (known: issuer_name, issuer_address, issuer_email, issuer_tax_id, net_days, tax_rate, tax_name,"
                      " default_plan, font, font_bold, tz)");
    }
  }
  return s;
}

OrgDirectory parse_org_directory(const toml::table* t, const std::string& origin, const std::string& default_plan,
                                 const std::map<std::string, std::string>& assignments) {
  OrgDirectory d;
  d.default_plan = default_plan;
  if (t) {
    for (const auto& [k, v] : *t) {
      const std::string org(k.str());
      const std::string where = origin + ": [orgs." + org + "]";
      const auto* ot = v.as_table();
      if (!ot) throw DataError(where + ": expected a table");
      Party p;
      p.name = org;
      for (const auto& [fk, fv] : *ot) {
        const std::string f(fk.str());
        if (f == "plan") d.plan[org] = string_value(fv, where + " plan");
        else if (f == "name") p.name = string_value(fv, where + " name");
        else if (f == "address") p.address = string_list(fv, where + " address");
        else if (f == "email") p.email = string_value(fv, where + " email");
        else if (f == "tax_id") p.tax_id = string_value(fv, where + " tax_id");
        else throw DataError(where + ": unknown key '" + f + "' (known: plan, name, address, email, tax_id)");
      }
      d.party[org] = p;
    }
  }
  for (const auto& [org, plan] : assignments) d.plan[org] = plan;  // the store's assignment wins
  return d;
}

}  // namespace billctl::billing
